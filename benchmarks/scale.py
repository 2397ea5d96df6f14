"""How cost and quality grow with the corpus: the real articles plus N generated distractor articles.

    python benchmarks/scale.py                          # N = 0, 1000, 5000, 20000, embedded Chroma
    python benchmarks/scale.py --server                 # the same against a `chroma run` server it starts
    python benchmarks/scale.py --sizes 0 200 --json out.json
    python benchmarks/scale.py --sizes 0 1000 5000 --work /tmp/scale-e     # keep the index for later
    python benchmarks/scale.py --work /tmp/scale-e --measure-only           # re-measure queries on a kept index
    python benchmarks/scale.py --work /tmp/scale-e --measure-only --sizes 20000   # ... on one of them
    python benchmarks/scale.py --work /tmp/scale-e --resume                 # go on with a run that was stopped

Ingestion is incremental, as a user would grow the corpus: each step adds the next distractors to the same
index, so "ingest s" is the time to add that step's files (and "chunks/s" its throughput). For each N it prints
chunks, ingest time and chunks/s, the ratio to bare `SentenceTransformer.encode` throughput on a sample of that
step's chunks (torch's, whatever EMBEDDING_BACKEND the pipeline runs on; same model, same batch size, same
threads, measured right after), index size on disk, resident
memory (this process, plus the server's in server mode), retrieval and extractive-answer p50/p95 over the 27
questions of corpus/faq.jsonl, and quality on that set (hit@5, key-fact recall, refusal accuracy, failed
questions), so a drop in quality with scale shows. Machine-noise note: compare rows of one run, not runs.

A run to N = 20,000 takes hours. With --work, each finished step is kept (its row in rows.json, its index under
snapshots/), so a run that was stopped goes on with --resume: the steps it finished are not run again and the
step it was in re-ingests only what is missing (ingestion is incremental and crash-safe). Such a step's
"ingest s" and "chunks/s" cover the part ingested after the resume, marked "resumed" in the table.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

import app  # noqa: E402

app.offline_environment()  # before the model, Chroma or Gradio libraries are imported
from benchmarks.harness import percentile, start_chroma  # noqa: E402
from benchmarks.ingestion import library_batch_size  # noqa: E402
from benchmarks.synth_corpus import write_corpus  # noqa: E402


def rss_mb(pid: int | str = "self") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def du_mb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 1e6


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--sizes",
        type=int,
        nargs="+",
        default=None,
        help="the N to run (default 0 1000 5000 20000); with --measure-only, which kept indexes to re-measure (default all)",
    )
    ap.add_argument("--server", action="store_true", help="use a `chroma run` server instead of embedded Chroma")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1, help="encoder threads for ingestion")
    ap.add_argument("--json", type=Path, default=None, help="also write the rows as JSON here")
    ap.add_argument(
        "--work",
        type=Path,
        default=None,
        help="work folder to use and keep (corpus copy, distractors, index); default: a temp dir, removed",
    )
    ap.add_argument(
        "--measure-only",
        action="store_true",
        help="skip generation and ingestion: re-measure retrieval, answers and quality on the index "
        "already in --work (e.g. after changing chat/), at the N it holds",
    )
    ap.add_argument(
        "--resume",
        action="store_true",
        help="go on with the run kept in --work that was stopped: skip the steps it finished, finish the one it was in",
    )
    args = ap.parse_args()
    if (args.measure_only or args.resume) and not args.work:
        ap.error(f"--{'measure-only' if args.measure_only else 'resume'} needs --work (a folder a previous run kept)")
    if args.measure_only and args.resume:
        ap.error("--measure-only and --resume exclude each other")
    wanted = args.sizes
    if not args.measure_only:
        args.sizes = args.sizes or [0, 1000, 5000, 20000]

    import numpy as np

    from chat import evaluation as ev
    from ingest.embed import set_threads

    work = args.work or Path(tempfile.mkdtemp(prefix="scale-"))
    corpus = work / "corpus"
    distractors = work / "distractors"
    snapshots = work / "snapshots"
    rows_q, _ = ev.load_questions(ROOT / "corpus" / "faq.jsonl")
    results = []

    def open_index(path: Path):
        """Settings and store for the index in `path`, through a `chroma run` server on it in --server mode."""
        server = None
        kw = dict(corpus_dir=corpus, chroma_path=path, collection="scale", log_level="WARNING")
        if args.server:
            server = start_chroma(path)
            kw.update(chroma_host="127.0.0.1", chroma_port=server.port)
        settings = app.Settings(_env_file=None, **kw)
        return server, settings, app.build_store(settings)

    def measure(n: int, settings, store, server, path: Path, ingest: dict) -> None:
        set_threads(1)  # serving settings
        assistant = app.build_assistant(settings, store)
        started = time.perf_counter()
        assistant.lexicon.refresh(force=True)
        lexical_build = time.perf_counter() - started
        assistant.ask("warm-up: what is a small-cap stock?")
        retrieval = []
        for row in rows_q:
            t = time.perf_counter()
            assistant.retriever.search(row["question"] + " ")  # a fresh string: no query-cache hit
            retrieval.append((time.perf_counter() - t) * 1e3)
        out = work / f"eval-{n}"
        summary = ev.run_eval(
            assistant,
            lambda t: np.asarray(store.embedder.embed_documents(t)),
            rows_q,
            out,
            k=settings.top_k,
            progress=False,
            warmup=False,
        )
        answering = [json.loads(line)["latency_ms"] for line in (out / "results.jsonl").read_text().splitlines()]
        m = summary["metrics"]
        row = {
            "N": n,
            "files": n + 2,
            "chunks": store.count(),
            **ingest,
            "disk_mb": round(du_mb(path), 1),
            "rss_mb": round(rss_mb(), 0),
            "server_rss_mb": round(rss_mb(server.proc.pid), 0) if server else None,
            "lexical_build_s": round(lexical_build, 2),
            "retrieval_p50_ms": round(statistics.median(retrieval), 1),
            "retrieval_p95_ms": round(percentile(retrieval, 95), 1),
            "answer_p50_ms": round(statistics.median(answering), 1),
            "answer_p95_ms": round(percentile(answering, 95), 1),
            "hit@5": m["hit@5"],
            "fact_recall": m["fact_recall"],
            "refusal_accuracy": m["refusal_accuracy"],
            "failed_questions": m["failed_questions"],
            "failed_ids": [
                r["id"] for r in map(json.loads, (out / "results.jsonl").read_text().splitlines()) if not r["passed"]
            ],
        }
        results.append(row)
        print(json.dumps(row), file=sys.stderr, flush=True)

    no_ingest = {
        "embedded": 0,
        "ingest_s": 0.0,
        "chunks_per_s": float("nan"),
        "bare_chunks_per_s": float("nan"),
        "ratio": None,
        "resumed": False,
    }
    if args.measure_only:
        kept = sorted((int(d.name), d) for d in snapshots.glob("*") if d.name.isdigit())
        if not kept:
            sys.exit(f"no index snapshots in {snapshots}; run without --measure-only first")
        if wanted is not None:
            missing = sorted(set(wanted) - {n for n, _ in kept})
            if missing:
                sys.exit(f"no kept index for N = {', '.join(map(str, missing))} in {snapshots}")
            kept = [(n, d) for n, d in kept if n in wanted]
        previous = (
            {r["N"]: r for r in json.loads((work / "rows.json").read_text())} if (work / "rows.json").exists() else {}
        )
        print(f"re-measuring {len(kept)} kept indexes in {snapshots}", file=sys.stderr)
        for n, path in kept:
            server, settings, store = open_index(path)
            try:
                old = previous.get(n, {})
                measure(n, settings, store, server, path, {k: old.get(k, v) for k, v in no_ingest.items()})
                # one process measures every snapshot, so its own RSS would add them up: keep the ingest run's
                results[-1].update({k: old[k] for k in ("rss_mb", "server_rss_mb") if k in old})
            finally:
                if server:
                    server.stop()
    else:
        done: dict[int, dict] = {}
        if args.resume:
            if not (distractors / "metadata.json").exists() or not (corpus / "metadata.json").exists():
                sys.exit(f"{work} holds no run to resume (no generated distractors); run without --resume")
            if (work / "rows.json").exists():
                done = {r["N"]: r for r in json.loads((work / "rows.json").read_text())}
            print(f"resuming the run in {work}: steps done {sorted(done) or 'none'}", file=sys.stderr)
        elif work.exists() and any(work.iterdir()):
            sys.exit(f"{work} is not empty; give a new --work folder (or --measure-only / --resume to reuse it)")
        else:
            print(f"generating {max(args.sizes)} distractor articles (seed {args.seed}) ...", file=sys.stderr)
            write_corpus(distractors, docs=max(args.sizes), seed=args.seed)
        names = sorted(
            p.relative_to(distractors).as_posix()
            for p in distractors.rglob("*")
            if p.is_file() and p.name != "metadata.json"
        )
        sidecar = (
            json.loads((distractors / "metadata.json").read_text()) if (distractors / "metadata.json").exists() else {}
        )
        if len(names) < max(args.sizes):
            sys.exit(f"{distractors} holds {len(names)} distractor articles, fewer than N = {max(args.sizes)}")
        if not args.resume:
            shutil.copytree(ROOT / "corpus", corpus, ignore=shutil.ignore_patterns("faq.jsonl"))
            (corpus / "news").mkdir()
        base_meta = json.loads((ROOT / "corpus" / "metadata.json").read_text())
        index = work / ("chroma-server" if args.server else "chroma")
        server, settings, store = open_index(index)
        indexer = app.build_indexer(settings, store)
        _ = store.embedder.model  # load it now: the first step's ingest time should not include loading the model
        # The bare side is torch's SentenceTransformer whatever the pipeline runs on (the ingestion ratio's reference).
        bare_model = (
            store.embedder
            if settings.embedding_backend == "torch"
            else app.build_embedder(settings.model_copy(update={"embedding_backend": "torch"}))
        ).model
        bare_batch = library_batch_size(bare_model)  # as a user calls it
        added = 0
        try:
            for n in sorted(args.sizes):
                if n in done:  # finished before the run was stopped: its row and snapshot are kept
                    results.append(done[n])
                    added = n
                    continue
                # the step a stopped run was in: its ingest figures cover what is ingested from here on
                resumed = args.resume and store.count() > max((r["chunks"] for r in results), default=0)
                for name in names[added:n]:
                    (corpus / "news" / name).parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy(distractors / name, corpus / "news" / name)
                meta = dict(base_meta, **{f"news/{k}": v for k, v in sidecar.items() if k in set(names[:n])})
                (corpus / "metadata.json").write_text(json.dumps(meta))
                added = n

                set_threads(args.threads)
                before = set(store.chunks.get(include=[])["ids"])
                report = indexer.run(corpus, progress=sys.stderr.isatty())
                # bare encoder on a random sample of what this step added (same model and threads, the library's
                # own batch size); random, so that its mix of chunk lengths is the step's
                fresh = sorted(set(store.chunks.get(include=[])["ids"]) - before)
                picked = random.Random(n).sample(fresh, min(512, len(fresh)))
                sample = store.chunks.get(ids=picked, include=["documents"])["documents"] if picked else []
                start = time.perf_counter()
                bare_model.encode(sample, batch_size=bare_batch, normalize_embeddings=True)
                bare = len(sample) / (time.perf_counter() - start) if sample else float("nan")
                pipeline = report.chunks_embedded / report.seconds if report.chunks_embedded else float("nan")
                measure(
                    n,
                    settings,
                    store,
                    server,
                    index,
                    {
                        "embedded": report.chunks_embedded,
                        "ingest_s": round(report.seconds, 1),
                        "chunks_per_s": round(pipeline, 1),
                        "bare_chunks_per_s": round(bare, 1),
                        "ratio": round(pipeline / bare, 2) if report.chunks_embedded else None,
                        "resumed": resumed,
                        # the bare side's batch: the library's default (rows before 2026-12-07: the pipeline's 64)
                        "bare_batch_size": bare_batch,
                    },
                )
                if args.work:  # keep a copy of this step's index, so --measure-only can re-measure every N
                    shutil.rmtree(snapshots / str(n), ignore_errors=True)  # a copy the stopped run left half-made
                    shutil.copytree(index, snapshots / str(n))
                    (work / "rows.json").write_text(json.dumps(results, indent=2))
        finally:
            if server:
                server.stop()

    mode = "Chroma server (chroma run)" if args.server else "embedded Chroma"
    ingestion = (
        f"ingest, size and RSS columns from the run that built {snapshots}; queries and quality re-measured now"
        if args.measure_only
        else f"ingestion with {args.threads} encoder threads"
    )
    print(
        f"\nScale benchmark, {mode}, {os.cpu_count()} CPU cores, {app.Settings(_env_file=None).embedding_backend} "
        f"encoder; {ingestion}; queries with 1 encoder thread; "
        "latencies over the 27 questions of corpus/faq.jsonl\n"
    )
    head = (
        "| N distractors | chunks | ingest s (this step) | chunks/s | ÷ bare encode | disk MB | RSS MB | "
        "BM25 build s | retrieval p50/p95 ms | answer p50/p95 ms | hit@5 | key facts | refusals | failed |"
    )
    print(head)
    print("|" + "|".join("---" for _ in range(head.count("|") - 1)) + "|")
    for r in results:
        rss = f"{r['rss_mb']:.0f}" + (f" + {r['server_rss_mb']:.0f}" if r["server_rss_mb"] else "")
        ratio = f"{r['ratio']:.2f}" if r["ratio"] is not None else "–"
        ingest_s = f"{r['ingest_s']}" + (" (resumed)" if r.get("resumed") else "")
        print(
            f"| {r['N']:,} | {r['chunks']:,} | {ingest_s} | {r['chunks_per_s']} | {ratio} | {r['disk_mb']} | "
            f"{rss} | {r['lexical_build_s']} | {r['retrieval_p50_ms']} / {r['retrieval_p95_ms']} | "
            f"{r['answer_p50_ms']} / {r['answer_p95_ms']} | {r['hit@5']:.2f} | {r['fact_recall']:.2f} | "
            f"{r['refusal_accuracy']:.2f} | {r['failed_questions']} |"
        )
    if args.json:
        args.json.write_text(json.dumps({"mode": mode, "rows": results}, indent=2))
    if not args.work:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
