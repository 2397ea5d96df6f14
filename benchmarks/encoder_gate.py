"""The encoder gate: every embedding backend against torch fp32 in one run — speed, closeness, retrieval quality.

    python benchmarks/encoder_gate.py                                  # torch, onnx, onnx-int8; 0 and 1,000 distractors
    python benchmarks/encoder_gate.py --variants int8-first-ffn-fp32 int8-per-tensor --work /tmp/gate
    python benchmarks/encoder_gate.py --distractors 0 --sets faq       # a quick look

For each encoder (the EMBEDDING_BACKEND values, plus `--variants`: other int8 recipes of ingest/onnx_encoder.py):

1. Speed: chunks/s encoding the same sample of chunks (`--sample`, drawn from the distractor articles and the real
   ones, split as the indexer splits them), with one thread (serving) and all cores (ingesting). Encoders take
   turns within each of `--rounds` rounds and the best round counts, so that a burst of load from another process
   does not land on one encoder only.
2. Closeness: cosine of each vector to torch fp32's, on the sample chunks and on every question of the sets.
3. Retrieval and answers: each question set asked the way `python app.py eval --questions …` asks it (a row is
   asked of an index of the corpus it names, faq.jsonl's rows of corpus/), against indexes this encoder built:
   of each corpus alone, and of each corpus plus `--distractors` generated articles (benchmarks/synth_corpus.py,
   under news/). Per set: hit@5, key-fact recall, false refusals, correct refusals, and how many answers differ
   from torch's. Answer similarity to the references is measured with torch for every encoder, so it compares.

Ingestion uses all cores, questions one thread (as `serve`). The distractor articles are embedded once per encoder
(an index of them alone, copied for each corpus, which then adds its own articles). `--work DIR` keeps corpora and
indexes: a second run with the same DIR re-measures without re-embedding. Prints the tables and a verdict (an
encoder may become the default only if neither hit@5 nor key-fact recall drops on any set), then one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]

import app  # noqa: E402

app.offline_environment()  # before the model, Chroma or Gradio libraries are imported

from benchmarks.synth_corpus import write_corpus  # noqa: E402
from ingest import embed as embed_module  # noqa: E402
from ingest.embed import Embedder  # noqa: E402
from ingest.onnx_encoder import VARIANTS, open_encoder  # noqa: E402

SETS = {
    "faq": ROOT / "corpus" / "faq.jsonl",
    "dev": ROOT / "tests" / "data" / "qa" / "dev.jsonl",
    "dev2": ROOT / "tests" / "data" / "qa" / "dev2.jsonl",
    "test": ROOT / "tests" / "data" / "qa" / "test.jsonl",
}
BACKENDS = ("torch", "onnx", "onnx-int8")


class VariantEmbedder(Embedder):
    """An int8 recipe that is not a backend setting: the onnx-int8 embedder on another cached file, under its own
    name (so its index is its own)."""

    def __init__(self, model_path: str, variant: str, cache_dir: Path, batch_size: int) -> None:
        super().__init__(model_path, batch_size=batch_size, backend="onnx-int8", cache_dir=cache_dir)
        self.variant = variant
        self.__dict__["name"] = Embedder.name.func(self).replace("+onnx-int8", f"+onnx-{variant}")

    def _load_onnx(self) -> Any:
        assert self.cache_dir is not None
        return open_encoder(self.model_path, self.cache_dir, self.variant, threads=1)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--backends", nargs="+", default=list(BACKENDS), choices=BACKENDS, help="backends to compare")
    p.add_argument(
        "--variants",
        nargs="*",
        default=[],
        choices=[v for v in VARIANTS if v not in ("fp32", "int8")],
        help="other ONNX recipes to compare (ingest/onnx_encoder.py VARIANTS)",
    )
    p.add_argument("--sets", nargs="+", default=list(SETS), choices=list(SETS), help="question sets")
    p.add_argument("--distractors", type=int, default=1000, help="generated articles added to every corpus (0: none)")
    p.add_argument("--seed", type=int, default=0, help="distractor corpus seed")
    p.add_argument("--sample", type=int, default=256, help="chunks in the speed and closeness sample")
    p.add_argument("--rounds", type=int, default=3, help="speed rounds (the best counts)")
    p.add_argument(
        "--speed-only", action="store_true", help="speed and closeness only (no indexes, no questions asked)"
    )
    p.add_argument("--work", type=Path, default=None, help="keep corpora, indexes and eval outputs here (reused)")
    p.add_argument("--json", type=Path, default=None, help="also write the result as JSON here")
    return p.parse_args(argv)


def note(msg: str) -> None:
    print(f"[gate] {msg}", file=sys.stderr, flush=True)


# --- corpora -----------------------------------------------------------------------------------------------------


def corpus_of(row: dict, questions: Path) -> Path:
    """The folder a row is asked of, as `app.py eval` resolves it (rows without one: the shipped corpus/)."""
    return (questions.parent / row["corpus"]).resolve() if row.get("corpus") else (ROOT / "corpus").resolve()


def label_of(folder: Path) -> str:
    """A folder's name in work/: its path under the repository (corpus, tests-data-qa-corpus)."""
    try:
        return folder.relative_to(ROOT).as_posix().replace("/", "-")
    except ValueError:
        return folder.as_posix().strip("/").replace("/", "-")


def with_distractors(folder: Path, distractors: Path, out: Path) -> Path:
    """`folder`'s articles and the distractors (under news/, with their own sidecar), in a new folder."""
    if not out.exists():
        tmp = out.with_name(out.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        # Question files are no articles; a symlink out of the folder (tests/data/qa/corpus/shipped) is skipped by
        # the indexer where it is, so it is left out of the copy too.
        shutil.copytree(
            folder, tmp, ignore=lambda d, names: [n for n in names if n.endswith(".jsonl") or Path(d, n).is_symlink()]
        )
        shutil.copytree(distractors / "news", tmp / "news")
        tmp.rename(out)
    return out


def speed_sample(folders: list[Path], size: int, seed: int, embedder: Embedder) -> list[str]:
    """Chunk texts exactly as the indexer embeds them, a seeded random sample of them."""
    from ingest.load import discover, parse_document, read_sidecar, sidecar_entry
    from ingest.split import Splitter

    splitter = Splitter(embedder.count_tokens, max_tokens=embedder.max_tokens, chunk_tokens=200, overlap_tokens=32)
    texts: list[str] = []
    for folder in folders:
        found, sidecar = discover(folder), read_sidecar(folder)
        for source, path in found.files:
            doc = parse_document(source, path, path.read_bytes(), sidecar_entry(sidecar, source))
            texts += [c.embed_text for c in splitter.split(source, doc.text)]
    texts = sorted(set(texts))
    return random.Random(seed).sample(texts, min(size, len(texts)))


# --- measuring ---------------------------------------------------------------------------------------------------


def cosine_stats(vectors, reference) -> dict[str, float]:
    c = (vectors * reference).sum(1)
    return {"mean": round(float(c.mean()), 4), "min": round(float(c.min()), 4)}


def measure_speed(encoders: dict[str, Embedder], sample: list[str], rounds: int) -> dict[str, Any]:
    """{encoder: {threads_1, threads_<cores>}: chunks/s}, and "load": the 1-min load average before and after."""
    speeds: dict[str, Any] = {name: {} for name in encoders}
    before = os.getloadavg()[0]
    for threads in (1, os.cpu_count() or 1):
        embed_module.set_threads(threads)
        for enc in encoders.values():
            enc.encode(sample[:32])  # warm-up; an ONNX session is opened again for the new thread count
        best = {name: float("inf") for name in encoders}
        for _ in range(rounds):
            for name, enc in encoders.items():
                t = time.perf_counter()
                enc.encode(sample)
                best[name] = min(best[name], time.perf_counter() - t)
        for name in encoders:
            speeds[name][f"threads_{threads}"] = round(len(sample) / best[name], 2)
        note(f"speed, {threads} thread(s): " + ", ".join(f"{n} {speeds[n][f'threads_{threads}']}" for n in encoders))
    speeds["load"] = [round(before, 2), round(os.getloadavg()[0], 2)]
    return speeds


def build_index(settings: app.Settings, embedder: Embedder, folder: Path, seed_index: Path | None) -> Any:
    """An index of `folder` at settings.chroma_path (a copy of `seed_index` first, whose articles it shares)."""
    if seed_index is not None and not settings.chroma_path.exists():
        shutil.copytree(seed_index, settings.chroma_path)
    store = app.build_store(settings, embedder, serving=False)
    report = app.build_indexer(settings, store).run(folder, progress=False)
    if report.failed or report.rebuilt:
        raise RuntimeError(f"index of {folder} for {embedder.name}: {report.as_dict()}")
    note(
        f"  index {settings.chroma_path.relative_to(settings.chroma_path.parents[2])}: {report.chunks_total} chunks, "
        f"embedded {report.chunks_embedded} in {report.seconds:.0f}s"
    )
    return store


def run_sets(encoder: str, embedder: Embedder, n: int, args, work: Path, sets: dict, torch_embed) -> dict[str, Any]:
    """Build this encoder's indexes for `n` distractors and ask every set; {set: metrics}."""
    from chat import evaluation as ev

    folders = sorted({corpus_of(row, path) for path, rows in sets.values() for row in rows})
    base = dict(
        collection="gate",
        chroma_host=None,
        embedding_model="",
        embedding_cache=work / "models",
        log_level="WARNING",
        openai_api_key=None,
        openai_base_url=None,
    )
    embed_module.set_threads(os.cpu_count() or 1)  # ingesting
    seed_index = None
    if n:
        distractors = work / "corpora" / f"distractors-{n}"
        seed_index = work / "indexes" / encoder / f"distractors-{n}"
        settings = app.Settings(_env_file=None, **base, corpus_dir=distractors, chroma_path=seed_index)
        build_index(settings, embedder, distractors, None)
    stores = {}
    for folder in folders:
        corpus = (
            with_distractors(
                folder, work / "corpora" / f"distractors-{n}", work / "corpora" / f"{label_of(folder)}-{n}"
            )
            if n
            else folder
        )
        settings = app.Settings(
            _env_file=None,
            **base,
            corpus_dir=corpus,
            chroma_path=work / "indexes" / encoder / f"{label_of(folder)}-{n}",
        )
        stores[folder] = (settings, build_index(settings, embedder, corpus, seed_index))
    embed_module.set_threads(1)  # asking, as `serve`
    out: dict[str, Any] = {}
    for name, (path, rows) in sets.items():
        assistants = {folder: app.build_assistant(s, store) for folder, (s, store) in stores.items()}
        run_dir = work / "eval" / encoder / f"{name}-{n}"
        summary = ev.run_eval(
            None,
            torch_embed,
            rows,
            run_dir,
            k=5,
            progress=False,
            meta={"questions_file": str(path)},
            assistant_for=lambda row, a=assistants, p=path: a[corpus_of(row, p)],
        )
        m = summary["metrics"]
        answers = {
            r["id"] if "id" in r else r["question"]: r["answer"]
            for r in map(json.loads, (run_dir / "results.jsonl").read_text().splitlines())
        }
        out[name] = {
            "hit@5": m["hit@5"],
            "fact_recall": m["fact_recall"],
            "false_refusals": m["false_refusals"],
            "refusal_accuracy": m["refusal_accuracy"],
            "failed": m["failed_questions"],
            "answers": answers,
        }
        note(f"  {encoder} N={n} {name}: hit@5 {m['hit@5']}, key facts {m['fact_recall']}")
    return out


# --- report ------------------------------------------------------------------------------------------------------


def fmt(x: float | None, digits: int = 3) -> str:
    return "–" if x is None else f"{x:.{digits}f}"


def verdict(results: dict, encoders: list[str], sizes: list[int], set_names: list[str]) -> dict[str, list[str]]:
    """Per encoder, every set and size where hit@5 or key-fact recall is below torch's (empty: no drop)."""
    drops: dict[str, list[str]] = {}
    for enc in encoders:
        drops[enc] = []
        for n in sizes:
            for s in set_names:
                for metric in ("hit@5", "fact_recall"):
                    ref, got = results["torch"][n][s][metric], results[enc][n][s][metric]
                    if ref is not None and got is not None and got < ref - 1e-9:
                        drops[enc].append(f"{s} N={n} {metric} {ref:.3f} -> {got:.3f}")
    return drops


def print_quality(results: dict, names: list[str], sizes: list[int], set_names: list[str]) -> None:
    print()
    head = " | ".join(f"{s} hit@5 / facts" for s in set_names)
    print(f"| encoder | distractors | {head} | false refusals | correct refusals | answers ≠ torch |")
    print("|---|---|" + "---|" * len(set_names) + "---|---|---|")
    for name in names:
        for n in sizes:
            r = results[name][n]
            cells = " | ".join(f"{fmt(r[s]['hit@5'])} / {fmt(r[s]['fact_recall'])}" for s in set_names)
            false_ref = sum(r[s]["false_refusals"] for s in set_names)
            correct = " ".join(fmt(r[s]["refusal_accuracy"], 2) for s in set_names)
            changed = sum(
                sum(1 for q, a in r[s]["answers"].items() if results["torch"][n][s]["answers"].get(q) != a)
                for s in set_names
            )
            total = sum(len(r[s]["answers"]) for s in set_names)
            print(f"| {name} | {n:,} | {cells} | {false_ref} | {correct} | {changed}/{total} |")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if "torch" not in args.backends:
        args.backends.insert(0, "torch")  # the reference
    app.setup_logging("WARNING")
    work = args.work or Path(tempfile.mkdtemp(prefix="encoder-gate-"))
    work.mkdir(parents=True, exist_ok=True)
    model_path = app.Settings(_env_file=None, embedding_model="").model_path()
    batch = app.Settings(_env_file=None).embed_batch_size
    from chat import evaluation as ev

    sets = {name: (SETS[name], ev.load_questions(SETS[name])[0]) for name in args.sets}
    sizes = [0] + ([args.distractors] if args.distractors else [])

    encoders: dict[str, Embedder] = {}
    for backend in args.backends:
        encoders[backend] = Embedder(model_path, batch_size=batch, backend=backend, cache_dir=work / "models")
    for variant in args.variants:
        encoders[f"onnx-{variant}"] = VariantEmbedder(model_path, variant, work / "models", batch)
    for name, enc in encoders.items():
        t = time.perf_counter()
        _ = enc.model  # ONNX files are exported / quantized here, once, into work/models
        note(f"{name}: loaded in {time.perf_counter() - t:.1f}s ({enc.name})")

    generated = args.distractors or 100  # the speed sample needs generated articles even without distractors
    distractors = work / "corpora" / f"distractors-{generated}"
    if not distractors.exists():
        tmp = work / "corpora" / f"distractors-{generated}.tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        write_corpus(tmp / "news", docs=generated, seed=args.seed)
        tmp.rename(distractors)
    folders = sorted({corpus_of(row, path) for path, rows in sets.values() for row in rows})
    sample = speed_sample([distractors, *folders], args.sample, args.seed, encoders["torch"])
    questions = sorted({row["question"] for _, rows in sets.values() for row in rows})
    note(f"speed sample: {len(sample)} chunks; closeness also on {len(questions)} questions")

    speeds = measure_speed(encoders, sample, args.rounds)
    reference_chunks, reference_questions = encoders["torch"].encode(sample), encoders["torch"].encode(questions)
    closeness = {
        name: {
            "chunks": cosine_stats(enc.encode(sample), reference_chunks),
            "questions": cosine_stats(enc.encode(questions), reference_questions),
        }
        for name, enc in encoders.items()
    }

    import numpy as np

    torch_embed = lambda texts: np.asarray(encoders["torch"].embed_documents(texts))  # noqa: E731
    results: dict[str, dict[int, dict]] = {name: {} for name in encoders}
    started = time.perf_counter()
    for n in [] if args.speed_only else sizes:
        for name, enc in encoders.items():
            note(f"{name}, {n} distractors")
            results[name][n] = run_sets(name, enc, n, args, work, sets, torch_embed)
    note(f"indexes and evals took {time.perf_counter() - started:.0f}s")

    names = list(encoders)
    all_cores = f"threads_{os.cpu_count() or 1}"
    print(
        f"\nEncoder gate: {len(sample)} chunks, {os.cpu_count()} CPU cores, best of {args.rounds} rounds "
        f"(1-min load average {speeds['load'][0]:.1f} before, {speeds['load'][1]:.1f} after the speed rounds)\n"
    )
    print(
        "| encoder | chunks/s, 1 thread | chunks/s, all cores | × torch (1 / all) "
        "| cosine to torch, chunks mean / min | questions mean / min |"
    )
    print("|---|---|---|---|---|---|")
    for name in names:
        s, c, t = speeds[name], closeness[name], speeds["torch"]
        print(
            f"| {name} | {s['threads_1']} | {s[all_cores]} | "
            f"{s['threads_1'] / t['threads_1']:.2f} / {s[all_cores] / t[all_cores]:.2f} | "
            f"{c['chunks']['mean']:.4f} / {c['chunks']['min']:.4f} | "
            f"{c['questions']['mean']:.4f} / {c['questions']['min']:.4f} |"
        )
    drops: dict[str, list[str]] = {}
    if not args.speed_only:
        print_quality(results, names, sizes, args.sets)
        drops = verdict(results, names[1:], sizes, args.sets)
        print()
        for name in names[1:]:
            found = "; ".join(drops[name]) or "none"
            print(f"{name}: drops in hit@5 or key-fact recall against torch: {found}")

    result = {
        "benchmark": "encoder_gate",
        "sample_chunks": len(sample),
        "questions": len(questions),
        "cores": os.cpu_count(),
        "rounds": args.rounds,
        "distractors": args.distractors,
        "speed_chunks_per_s": speeds,
        "cosine_to_torch": closeness,
        "quality": {
            name: {
                str(n): {s: {k: v for k, v in m.items() if k != "answers"} for s, m in r.items()}
                for n, r in by_n.items()
            }
            for name, by_n in results.items()
        },
        "drops": drops,
    }
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    print(json.dumps(result), flush=True)
    if args.work is None:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
