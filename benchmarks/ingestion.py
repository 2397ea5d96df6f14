"""Ingest throughput: the real pipeline against bare `SentenceTransformer.encode` on the same chunk texts.

    python benchmarks/ingestion.py [--docs 1000] [--seed 0] [--batch-size N] [--threads N] [--keep DIR] [--quiet]
    EMBEDDING_BACKEND=onnx-int8 python benchmarks/ingestion.py --docs 300    # the pipeline on another backend

In one process:
1. writes `--docs` synthetic financial-news articles (benchmarks/synth_corpus.py: .md with front matter and .txt
   web captures with page chrome, 300-900 words, deterministic for `--seed`) into a temporary corpus;
2. reads and splits them with the indexer's own loader and Splitter to get the exact texts the model will read
   (`Chunk.embed_text`, one per distinct text, as the indexer embeds them), and warms the model up on them;
3. times, in this order: bare `model.encode` on the even-numbered texts, the real pipeline
   (`build_indexer(settings, store).run(corpus)` into a fresh embedded Chroma), bare `model.encode` on the
   odd-numbered texts. Splitting the bare pass around the pipeline spreads machine noise over both sides;
   the texts the pipeline actually sent to the model are recorded and checked to be exactly the same texts;
4. times an immediate no-op re-ingest in this process (model already loaded) and, unless `--no-cli`, as
   `python app.py ingest` in a fresh process (what a user waits for, model load included);
5. unless `--no-langchain`, times the LangChain tutorial pipeline on the same files, in this process: each file read
   as text (TextLoader), `RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200)`,
   `HuggingFaceEmbeddings` of the same model folder (sentence-transformers on torch, normalised) and
   `Chroma.from_documents` into a fresh persistent folder; the two are compared in files/s and MB/s of the same
   corpus (their chunks differ), with the same torch threads.
The pipeline also stores the sentence vectors of every passage (SENTENCE_VECTORS, on by default): its time is
reported whole and without that step (what a searchable index alone costs).

Both sides use the same model folder, `normalize_embeddings=True` and thread count (default: all cores, as
`python app.py ingest` does). The bare side is called as a user calls it, with the library's own batch size (32
texts; `--bare-batch-size` to change it); the pipeline packs its forward passes by EMBED_BATCH_TOKENS and
EMBED_BATCH_SIZE. The pipeline runs on EMBEDDING_BACKEND; the bare side is always torch's
`SentenceTransformer.encode`, so the ratio answers "how fast is ingestion next to the plain library" whatever the
backend. With an ONNX backend the bare encode of that backend is timed too (its own even and odd halves, next to
torch's), which gives the pipeline's own overhead. The pipeline's time is broken down with timing wrappers
(monkeypatched, only in this process). Prints a table and, last, one JSON line. Progress bars go to stderr.
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]

import app  # noqa: E402

app.offline_environment()  # before the model, Chroma or Gradio libraries are imported

from benchmarks.harness import Clock  # noqa: E402
from ingest.onnx_encoder import plan_batches  # noqa: E402

# Pipeline ÷ bare torch encode, per backend: the torch pipeline should lose little to the library itself (0.9,
# the ingestion issue); the int8 ONNX pipeline should beat the library by the speed-up its encoder brings (1.6, the
# "fast under load and at scale" issue). fp32 ONNX runs about as fast as torch.
TARGET_RATIOS = {"torch": 0.9, "onnx": 0.9, "onnx-int8": 1.6}
TARGET_NOOP_S = 1.0
CHUNK_ENCODE = "embed chunks (model.encode)"
SENTENCE_ENCODE = "embed sentence texts (model.encode)"
SENTENCE_WRITE = "sentence vectors: texts, reuse lookups, packing"


class LoadSampler:
    """Samples the 1-minute load average every few seconds, tagged with the current phase, so a reader can see
    whether the machine was equally busy while each side was measured (this process counts for ~threads)."""

    def __init__(self, every: float = 5.0) -> None:
        import threading

        self.phase = "setup"
        self.samples: dict[str, list[float]] = {}
        self._stop = threading.Event()
        self._every = every
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self._every):
            self.samples.setdefault(self.phase, []).append(os.getloadavg()[0])

    def mean(self, phase: str) -> float | None:
        xs = self.samples.get(phase)
        return round(sum(xs) / len(xs), 2) if xs else None

    def stop(self) -> None:
        self._stop.set()


@contextmanager
def stopwatch():
    out = {}
    w, c = time.perf_counter(), time.process_time()
    yield out
    out["wall"] = time.perf_counter() - w
    out["cpu"] = time.process_time() - c


def padding(token_counts: list[int], groups: list[list[int]], passes: Callable[[list[int]], list[list[int]]]) -> float:
    """Share of real word pieces among those the model computes when the texts are encoded as `groups` of indexes
    (one `encode` call per group), each call cut into forward passes by `passes` (positions in the group), every
    pass padded to its longest text."""
    real = padded = 0
    for group in groups:
        for rows in passes(group):
            batch = [token_counts[group[i]] for i in rows]
            real += sum(batch)
            padded += max(batch) * len(batch)
    return real / padded if padded else 1.0


def library_batch_size(model: Any) -> int:
    """The batch size `SentenceTransformer.encode` uses when not given one (32 in the versions pinned here)."""
    default = inspect.signature(model.encode).parameters.get("batch_size")
    return default.default if default is not None and isinstance(default.default, int) else 32


def library_passes(char_lengths: list[int], batch_size: int) -> Callable[[list[int]], list[list[int]]]:
    """sentence-transformers' passes: a call's texts sorted by character length, then `batch_size` at a time."""

    def cut(group: list[int]) -> list[list[int]]:
        order = sorted(range(len(group)), key=lambda i: -char_lengths[group[i]])
        return [order[b : b + batch_size] for b in range(0, len(order), batch_size)]

    return cut


def tutorial_pipeline(corpus: Path, folder: Path, model_path: str, note: Callable[[str], None]) -> dict[str, Any]:
    """LangChain's RAG tutorial ingest on `corpus`: text files into Documents, RecursiveCharacterTextSplitter,
    HuggingFaceEmbeddings, Chroma.from_documents. Timed as a whole (the model loaded first, untimed, as ours is)."""
    from langchain_chroma import Chroma
    from langchain_core.documents import Document as LCDocument
    from langchain_huggingface import HuggingFaceEmbeddings
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    embeddings = HuggingFaceEmbeddings(model_name=model_path, encode_kwargs={"normalize_embeddings": True})
    embeddings.embed_documents(["warm-up"])
    files = sorted(p for p in corpus.rglob("*") if p.is_file() and p.suffix in (".md", ".txt", ".html"))
    note(f"LangChain tutorial pipeline: {len(files)} files")
    with stopwatch() as sw:
        docs = [
            LCDocument(page_content=p.read_text(encoding="utf-8"), metadata={"source": str(p.relative_to(corpus))})
            for p in files
        ]
        splits = RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200).split_documents(docs)
        store = Chroma.from_documents(splits, embeddings, persist_directory=str(folder), collection_name="tutorial")
    count = store._collection.count()
    return {
        "files": len(files),
        "bytes": sum(p.stat().st_size for p in files),
        "chunks": count,
        "seconds": round(sw["wall"], 3),
        "cpu_seconds": round(sw["cpu"], 3),
    }


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--docs", type=int, default=1000, help="articles to generate (default 1000)")
    p.add_argument("--seed", type=int, default=0, help="corpus seed (default 0)")
    p.add_argument(
        "--batch-size", type=int, default=None, help="EMBED_BATCH_SIZE for the pipeline (default: the setting)"
    )
    p.add_argument(
        "--batch-tokens", type=int, default=None, help="EMBED_BATCH_TOKENS for the pipeline (default: the setting)"
    )
    p.add_argument(
        "--bare-batch-size",
        type=int,
        default=None,
        help="batch size of the bare SentenceTransformer.encode (default: the library's own, 32)",
    )
    p.add_argument(
        "--threads",
        type=int,
        default=0,
        help="encoder threads for both sides (default: all cores, like `app.py ingest`)",
    )
    p.add_argument(
        "--keep", type=Path, default=None, help="write corpus/ and chroma/ into this new or empty folder and keep them"
    )
    p.add_argument("--no-cli", action="store_true", help="skip the fresh-process `python app.py ingest` no-op timing")
    p.add_argument(
        "--no-langchain",
        action="store_true",
        help="skip the LangChain tutorial pipeline (Chroma.from_documents + HuggingFaceEmbeddings) on the same files",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.keep is not None:
        if args.keep.exists() and any(args.keep.iterdir()):
            sys.exit(
                f"--keep {args.keep}: the folder must be new or empty (a previous index would make the run a no-op)"
            )
        work = args.keep
        work.mkdir(parents=True, exist_ok=True)
        cleanup = None
    else:
        cleanup = tempfile.TemporaryDirectory(prefix="bench-ingest-")
        work = Path(cleanup.name)
    corpus, chroma = work / "corpus", work / "chroma"

    def note(msg: str) -> None:
        print(f"[bench] {msg}", file=sys.stderr, flush=True)

    from benchmarks.synth_corpus import write_corpus

    t = time.perf_counter()
    stats = write_corpus(corpus, docs=args.docs, seed=args.seed)
    mix = ", ".join(
        f"{stats[k]} {ext}" for k, ext in (("markdown", ".md"), ("html", ".html"), ("captures", ".txt")) if k in stats
    )
    note(
        f"generated {stats['docs']} articles ({mix}, "
        f"~{stats['mean_words']} body words each) in {time.perf_counter() - t:.1f}s: {corpus}"
    )

    app.setup_logging("WARNING")
    overrides: dict[str, Any] = dict(
        corpus_dir=corpus,
        chroma_path=chroma,
        collection="bench",
        chroma_host=None,
        embedding_model="",
        log_level="WARNING",
        openai_api_key=None,
        openai_base_url=None,
        embed_threads=args.threads or (os.cpu_count() or 1),
    )
    if args.batch_size:
        overrides["embed_batch_size"] = args.batch_size
    if args.batch_tokens is not None:
        overrides["embed_batch_tokens"] = args.batch_tokens
    settings = app.Settings(_env_file=None, **overrides)
    app.set_threads(settings, serving=False)  # both backends read it when their model loads

    threads = settings.embed_threads
    backend = settings.embedding_backend
    t = time.perf_counter()
    store = app.build_store(settings)
    indexer = app.build_indexer(settings, store)
    embedder = store.embedder
    _ = embedder.model  # load (and for ONNX, export once) before anything is timed
    # The bare side is torch's SentenceTransformer whatever the pipeline runs on (the ratio).
    torch_embedder = (
        embedder
        if backend == "torch"
        else app.build_embedder(settings.model_copy(update={"embedding_backend": "torch"}))
    )
    model = torch_embedder.model
    batch_size = embedder.batch_size
    # The bare side as a user calls it: the library's own batch size unless told otherwise.
    bare_batch = args.bare_batch_size or library_batch_size(model)
    note(
        f"models loaded in {time.perf_counter() - t:.1f}s; pipeline backend {backend}, "
        f"{threads} threads, passes of at most {batch_size} texts and {embedder.batch_tokens or 'any'} word pieces; "
        f"bare torch batch size {bare_batch}"
    )

    # --- the exact texts the pipeline will embed: same loader, same Splitter, distinct texts in first-seen order
    from ingest.load import discover, parse_document, read_sidecar, sidecar_entry

    found, sidecar = discover(corpus), read_sidecar(corpus)
    t = time.perf_counter()
    texts_all: list[str] = []
    for source, path in found.files:
        doc = parse_document(source, path, path.read_bytes(), sidecar_entry(sidecar, source))
        texts_all += [c.embed_text for c in indexer.splitter.split(source, doc.text)]
    texts = list(dict.fromkeys(texts_all))
    note(
        f"pre-split {len(found.files)} files into {len(texts_all)} chunks ({len(texts)} distinct texts) "
        f"in {time.perf_counter() - t:.1f}s"
    )

    def bare(subset: list[str]) -> dict[str, float]:
        with stopwatch() as sw:
            model.encode(
                subset,
                batch_size=bare_batch,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=not args.quiet,
            )
        return sw

    def bare_backend(subset: list[str]) -> dict[str, float]:
        with stopwatch() as sw:
            embedder.encode(subset)
        return sw

    # Warm-up (untimed): allocator, oneDNN kernels for the shapes in use.
    warm = sorted(texts, key=len, reverse=True)[:batch_size] + texts[:batch_size]
    t = time.perf_counter()
    model.encode(warm, batch_size=bare_batch, normalize_embeddings=True, show_progress_bar=False)
    if backend != "torch":
        embedder.encode(warm)
    note(f"warm-up: {len(warm)} texts in {time.perf_counter() - t:.1f}s")

    even, odd = texts[0::2], texts[1::2]
    sampler = LoadSampler()
    load_before = os.getloadavg()[0]
    note(f"bare encode 1/2: {len(even)} texts")
    sampler.phase = "bare"
    bare1 = bare(even)
    own1 = bare_backend(even) if backend != "torch" else None
    sampler.phase = "between"

    # --- the pipeline, instrumented
    clock = Clock()
    import ingest.index as index_mod

    sent: list[str] = []  # what the pipeline embedded for its chunks
    sentence_texts: list[str] = []  # ...and for the sentence vectors stored beside them (SENTENCE_VECTORS)
    encode = embedder.encode
    in_sentences = [False]

    def recording_encode(batch, **kw):
        (sentence_texts if in_sentences[0] else sent).extend(batch)
        label = SENTENCE_ENCODE if in_sentences[0] else CHUNK_ENCODE
        t = time.perf_counter()
        try:
            return encode(batch, **kw)
        finally:
            clock.seconds[label] = clock.seconds.get(label, 0.0) + time.perf_counter() - t
            clock.calls[label] = clock.calls.get(label, 0) + 1

    write_sentences = indexer._write_sentences

    def marking_write_sentences(*args):
        in_sentences[0] = True
        try:
            return write_sentences(*args)
        finally:
            in_sentences[0] = False

    patches: list[tuple[Any, str, Any]] = []

    def patch(obj: Any, name: str, label: str, fn: Callable[..., Any] | None = None) -> None:
        patches.append((obj, name, obj.__dict__.get(name) if hasattr(obj, "__dict__") else None))
        setattr(obj, name, clock.wrap(label, fn or getattr(obj, name)))

    patch(index_mod, "discover", "discover files")
    patch(index_mod, "parse_document", "load + clean (parse_document)")
    patch(indexer.splitter, "split", "split (Splitter.split)")
    patches.append((embedder, "encode", None))
    embedder.encode = recording_encode  # (times itself: chunks and sentence texts apart)
    patch(indexer, "_write_sentences", SENTENCE_WRITE, marking_write_sentences)
    patch(indexer, "_text_hash", "text hash (_text_hash)")
    patch(indexer, "_chunk_metadata", "chunk metadata")
    chunks_col, manifest_col = store.chunks, store.manifest
    patch(chunks_col, "upsert", "Chroma upsert (chunks)")
    for name in ("get", "delete", "count"):
        patch(chunks_col, name, "Chroma get/delete/count (chunks)")
    for name in ("get", "upsert", "delete"):
        patch(manifest_col, name, "Chroma manifest")
    sentences_col = store.sentences
    for name in ("get", "upsert", "delete"):
        patch(sentences_col, name, "Chroma sentence vectors")

    note("pipeline: build_indexer(settings, store).run(corpus)")
    sampler.phase = "pipeline"
    with stopwatch() as pipe:
        report = indexer.run(corpus, progress=not args.quiet)
    sampler.phase = "between"
    for obj, name, old in reversed(patches):
        if old is None:
            delattr(obj, name)
        else:
            setattr(obj, name, old)

    note(f"bare encode 2/2: {len(odd)} texts")
    sampler.phase = "bare"
    own2 = bare_backend(odd) if backend != "torch" else None
    bare2 = bare(odd)
    sampler.phase = "after"
    load_after = os.getloadavg()[0]
    sampler.stop()

    texts_match = sorted(sent) == sorted(texts)  # the indexer embeds longest-first, not in document order
    if not texts_match:
        note(
            f"WARNING: the pipeline embedded {len(sent)} texts, the pre-split gave {len(texts)} distinct texts; "
            "the bare figure is for the pre-split texts"
        )

    # --- the LangChain tutorial pipeline on the same files
    langchain = None if args.no_langchain else tutorial_pipeline(corpus, work / "langchain", embedder.model_path, note)

    # --- no-op re-ingest, in process and as the CLI in a fresh process
    with stopwatch() as noop:
        noop_report = app.build_indexer(settings, store).run(corpus, progress=False)
    cli: dict[str, Any] | None = None
    if not args.no_cli:
        env = {
            **os.environ,
            "CORPUS_DIR": str(corpus),
            "CHROMA_PATH": str(chroma),
            "COLLECTION": "bench",
            "CHROMA_HOST": "",
            "EMBEDDING_MODEL": "",
            "LOG_LEVEL": "WARNING",
            "EMBED_THREADS": str(settings.embed_threads),
            "EMBEDDING_BACKEND": backend,
            "EMBEDDING_CACHE": str(settings.embedding_cache_dir()),
        }
        t = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, str(ROOT / "app.py"), "ingest", "--json"],
            cwd=str(ROOT),
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        wall = time.perf_counter() - t
        try:
            cli_report = json.loads(proc.stdout)
        except ValueError:
            cli_report = {}
        cli = {
            "seconds": round(wall, 2),
            "exit": proc.returncode,
            "chunks_embedded": cli_report.get("chunks_embedded"),
            "report_seconds": cli_report.get("seconds"),
        }

    # --- padding efficiency of the three ways of batching the same texts (cheap: token counts only)
    tok = model.tokenizer
    token_counts = [
        min(len(ids), int(model.max_seq_length)) for ids in tok(texts, add_special_tokens=True)["input_ids"]
    ]
    char_lengths = [len(x) for x in texts]
    n = len(texts)
    group = indexer.batch_size  # the indexer encodes the new texts of each `batch_size` chunks in one call

    def pipeline_passes(rows: list[int]) -> list[list[int]]:
        return plan_batches([token_counts[i] for i in rows], batch_size, embedder.batch_tokens)

    bare_passes = library_passes(char_lengths, bare_batch)
    pad = {
        "pipeline": padding(
            token_counts, [list(range(i, min(i + group, n))) for i in range(0, n, group)], pipeline_passes
        ),
        "bare_halves": padding(token_counts, [list(range(0, n, 2)), list(range(1, n, 2))], bare_passes),
        "one_call": padding(token_counts, [list(range(n))], bare_passes),
    }

    # --- figures
    chunks = report.chunks_total
    bare_wall, bare_cpu = bare1["wall"] + bare2["wall"], bare1["cpu"] + bare2["cpu"]
    pipe_rate, bare_rate = chunks / pipe["wall"], len(texts) / bare_wall
    ratio = pipe_rate / bare_rate
    target = TARGET_RATIOS[backend]
    cpu_ratio = (chunks / pipe["cpu"]) / (len(texts) / bare_cpu)
    own = None
    if own1 is not None and own2 is not None:
        own_wall = own1["wall"] + own2["wall"]
        own = {"seconds": own_wall, "chunks_per_s": len(texts) / own_wall, "parts": [own1["wall"], own2["wall"]]}
    # The sentence-vector step's wrapper holds its own encode calls: keep them on their own line only.
    if SENTENCE_WRITE in clock.seconds:
        clock.seconds[SENTENCE_WRITE] -= clock.seconds.get(SENTENCE_ENCODE, 0.0)
    sentence_seconds = clock.seconds.get(SENTENCE_WRITE, 0.0) + clock.seconds.get(SENTENCE_ENCODE, 0.0)
    bare_chunk_wall = pipe["wall"] - sentence_seconds  # the pipeline's time for a searchable index alone
    accounted = sum(clock.seconds.values())
    breakdown = dict(sorted(clock.seconds.items(), key=lambda kv: -kv[1]))
    breakdown["other (file read + hash, manifest keys, loop, progress)"] = max(pipe["wall"] - accounted, 0.0)

    title = (
        f"Ingest benchmark: {args.docs} docs (seed {args.seed}; {mix}), "
        f"{chunks} chunks ({len(texts)} distinct texts, mean {sum(token_counts) / max(n, 1):.0f} word pieces), "
        f"pipeline passes ≤ {batch_size} texts and {embedder.batch_tokens or 'any'} word pieces, bare batch size "
        f"{bare_batch}, {threads} threads, pipeline backend {backend} (model {embedder.name})"
    )
    lines = [
        title,
        "order: warm-up -> bare encode (even-numbered texts) -> pipeline -> bare encode (odd-numbered texts)"
        + (
            f"; the {backend} bare encode runs right after torch's on the even half, right before on the odd"
            if own
            else ""
        ),
        f"machine load (1-min load average, this process included): {load_before:.2f} at start, {load_after:.2f} at end, "
        f"mean {sampler.mean('bare')} while bare encoding, {sampler.mean('pipeline')} during the pipeline "
        "(the wall-clock ratio is only fair when these are alike; the CPU-time ratio is less sensitive)",
        "",
        f"{'':28}{'chunks':>8}{'wall s':>10}{'chunks/s':>10}{'cpu s':>10}",
        f"{'bare SentenceTransformer':28}{len(texts):>8}{bare_wall:>10.2f}{bare_rate:>10.2f}{bare_cpu:>10.2f}"
        f"   ({bare1['wall']:.2f} + {bare2['wall']:.2f} s)",
        *(
            [
                f"{'bare ' + backend + ' encode':28}{len(texts):>8}{own['seconds']:>10.2f}{own['chunks_per_s']:>10.2f}"
                f"{'':>10}   ({own['parts'][0]:.2f} + {own['parts'][1]:.2f} s)"
            ]
            if own
            else []
        ),
        f"{'pipeline (Indexer.run)':28}{chunks:>8}{pipe['wall']:>10.2f}{pipe_rate:>10.2f}{pipe['cpu']:>10.2f}"
        f"   (report.seconds {report.seconds:.2f}, embedded {report.chunks_embedded}, reused {report.chunks_reused})",
        f"ratio pipeline/bare: {ratio:.3f} (target >= {target} for {backend}) {'OK' if ratio >= target else 'BELOW TARGET'}"
        f"; by CPU time {cpu_ratio:.3f}; texts the pipeline embedded == pre-split texts: {'yes' if texts_match else 'NO'}",
        *(
            [
                f"ratio pipeline/bare {backend} (the pipeline's own overhead): {pipe_rate / own['chunks_per_s']:.3f}; "
                f"bare {backend} / bare torch: {own['chunks_per_s'] / bare_rate:.3f}"
            ]
            if own
            else []
        ),
        *(
            [
                f"pipeline without its sentence vectors ({sentence_seconds:.2f} s of it, "
                f"{report.sentences_embedded} texts): {chunks / bare_chunk_wall:.2f} chunks/s, "
                f"ratio to bare {chunks / bare_chunk_wall / bare_rate:.3f}"
            ]
            if sentence_seconds
            else []
        ),
        *(
            [
                f"LangChain tutorial pipeline on the same {langchain['files']} files: {langchain['seconds']:.2f} s "
                f"({langchain['chunks']} chunks of 1,000 characters); ours {pipe['wall']:.2f} s: "
                f"{langchain['seconds'] / pipe['wall']:.3f}x its files/s"
                f" ({langchain['seconds'] / bare_chunk_wall:.3f}x without the sentence vectors)"
            ]
            if langchain
            else []
        ),
        f"no-op re-ingest (same process): {noop['wall']:.3f} s, chunks_embedded {noop_report.chunks_embedded}, "
        f"counts {json.dumps(noop_report.counts())} "
        f"{'OK' if noop_report.chunks_embedded == 0 and noop['wall'] < TARGET_NOOP_S else 'NOT OK'} "
        f"(target 0 embeddings, < {TARGET_NOOP_S:g} s)",
    ]
    if cli is not None:
        lines.append(
            f"no-op re-ingest (`python app.py ingest` in a new process, model load included): {cli['seconds']:.2f} s, "
            f"exit {cli['exit']}, chunks_embedded {cli['chunks_embedded']}, report.seconds {cli['report_seconds']}"
        )
    lines += ["", "pipeline wall time breakdown (timing wrappers):"]
    for label, secs in breakdown.items():
        calls = clock.calls.get(label)
        lines.append(
            f"  {label:56}{secs:>9.2f} s {100 * secs / pipe['wall']:>6.1f}%" + (f"  ({calls} calls)" if calls else "")
        )
    lines.append(
        f"padding efficiency (real / computed word pieces): pipeline {pad['pipeline']:.3f} "
        f"(one encode call per {group} chunks), bare halves {pad['bare_halves']:.3f}, one call {pad['one_call']:.3f}"
    )
    print("\n".join(lines), flush=True)

    result = {
        "benchmark": "ingest",
        "docs": args.docs,
        "seed": args.seed,
        "corpus": stats,
        "chunks": chunks,
        "texts": len(texts),
        "batch_size": batch_size,
        "batch_tokens": embedder.batch_tokens,
        "bare_batch_size": bare_batch,
        "threads": threads,
        "backend": backend,
        "pipeline": {
            "seconds": round(pipe["wall"], 3),
            "cpu_seconds": round(pipe["cpu"], 3),
            "chunks_per_s": round(pipe_rate, 3),
            "chunks_embedded": report.chunks_embedded,
            "chunks_reused": report.chunks_reused,
            "counts": report.counts(),
        },
        "bare": {
            "seconds": round(bare_wall, 3),
            "cpu_seconds": round(bare_cpu, 3),
            "chunks_per_s": round(bare_rate, 3),
            "parts_seconds": [round(bare1["wall"], 3), round(bare2["wall"], 3)],
        },
        "bare_backend": (
            {"seconds": round(own["seconds"], 3), "chunks_per_s": round(own["chunks_per_s"], 3)} if own else None
        ),
        "ratio": round(ratio, 4),
        "ratio_to_own_backend": round(pipe_rate / own["chunks_per_s"], 4) if own else None,
        "cpu_ratio": round(cpu_ratio, 4),
        "ratio_ok": ratio >= target,
        "texts_match": texts_match,
        "sentence_vectors": {
            "seconds": round(sentence_seconds, 3),
            "texts_embedded": report.sentences_embedded,
            "chunks_per_s_without": round(chunks / bare_chunk_wall, 3),
            "ratio_without": round(chunks / bare_chunk_wall / bare_rate, 4),
        },
        "langchain": (
            {
                **langchain,
                "ratio": round(langchain["seconds"] / pipe["wall"], 4),
                "ratio_without_sentence_vectors": round(langchain["seconds"] / bare_chunk_wall, 4),
            }
            if langchain
            else None
        ),
        "noop": {
            "seconds": round(noop["wall"], 3),
            "chunks_embedded": noop_report.chunks_embedded,
            "counts": noop_report.counts(),
            "ok": noop_report.chunks_embedded == 0 and noop["wall"] < TARGET_NOOP_S,
        },
        "noop_cli": cli,
        "breakdown_seconds": {k: round(v, 3) for k, v in breakdown.items()},
        "padding_efficiency": {k: round(v, 4) for k, v in pad.items()},
        "loadavg": [round(load_before, 2), round(load_after, 2)],
        "loadavg_mean": {"bare": sampler.mean("bare"), "pipeline": sampler.mean("pipeline")},
        "order": "warmup,bare_even,pipeline,bare_odd",
    }
    print(json.dumps(result), flush=True)
    if cleanup is not None:
        cleanup.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
