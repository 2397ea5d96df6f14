"""Question latency: retrieval alone and the full extractive `Assistant.ask`, cold and warm caches.

    python benchmarks/query.py [--repeat 20] [--threads 1] [--corpus corpus/] [--quiet]
    EMBEDDING_BACKEND=onnx-int8 python benchmarks/query.py     # the same with another encoder backend

Ingests the corpus (default: the real corpus/) into a temporary embedded Chroma index, builds the Assistant as
app.py does (`build_assistant`, extractive mode: no OpenAI settings), sets encoder threads (default 1, as
`python app.py serve` does), warms up (every question asked once, BM25 mirror built), then for `--repeat` rounds
over a fixed list of 20 questions (FAQ topics, facts and figures, off-topic ones that must be refused) times,
interleaved per question so machine noise hits every figure alike:

- retrieval cold: `assistant.retriever.search(q)` with the query-vector cache cleared (embeds the question);
- retrieval warm: the same call again (query vector cached);
- ask cold:       `assistant.ask(q)` with the retriever's query-vector cache and the answerer's sentence-embedding
                  cache cleared (a question the process has not seen);
- ask warm:       the same `ask` again (both caches hot, as for a repeated or example question);
- ask query-cold: `ask` with only the query-vector cache cleared (isolates the cost of embedding the question).

`ask` also gets a per-stage breakdown (retrieval, answer selection, citation verification, and the time spent in
the embedding model inside each) from timing wrappers monkeypatched in this process only. Prints a table and,
last, one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]

import app  # noqa: E402

app.offline_environment()  # before the model, Chroma or Gradio libraries are imported

# isort: split

from benchmarks.harness import Clock, percentile  # noqa: E402

# fmt: off
QUESTIONS: list[tuple[str, str]] = [
    # FAQ topics of the articles (the app's example questions among them)
    ("faq", "How does the maturity wall affect small caps differently than large caps?"),
    ("faq", "Why is information inefficiency an advantage for small-cap investors?"),
    ("faq", "Are small-cap ETFs enough, or should investors pick individual stocks?"),
    ("faq", "How does a strong US dollar affect small caps versus large caps?"),
    ("faq", "How cheap are small caps compared with the S&P 500?"),
    ("faq", "Is the small-cap rally just the January Effect?"),
    # facts and figures
    ("fact", "How long did the Russell 2000 outperform the S&P 500 in January 2026?"),
    ("fact", "What forward P/E does the S&P Small Cap 600 trade at?"),
    ("fact", "What happened to the Russell 2000 on January 23?"),
    ("fact", "How much has the S&P 500 gained over the last three years?"),
    ("fact", "What are the net assets of the iShares Russell 2000 ETF?"),
    ("fact", "Why do lower interest rates help small-cap companies?"),
    ("fact", "Which sectors dominate the Russell 2000?"),
    ("fact", "Which individual small-cap stocks are mentioned as opportunities?"),
    ("fact", "What earnings growth is projected for small caps in 2026?"),
    # the other question types (lists, summaries, comparisons, several points, advice)
    ("types", "Which ETFs does the CoinMela piece name?"),
    ("types", "Give me the key points of the AInvest article"),
    ("types", "Do the two articles agree on what is driving small caps?"),
    ("types", "What could go wrong for small caps?"),
    ("types", "Should I buy small caps now?"),
    # off-topic: must be refused
    ("off", "What is the capital of France?"),
    ("off", "How do I bake sourdough bread at home?"),
    ("off", "Who won the 2022 FIFA World Cup?"),
    ("off", "Explain quantum entanglement in simple terms."),
    ("off", "What is the current price of Bitcoin?"),
]
# fmt: on


def summary(ms: list[float]) -> dict[str, float]:
    xs = sorted(ms)

    return {
        "n": len(xs),
        "p50": round(statistics.median(xs), 2),
        "p95": round(percentile(xs, 95), 2),
        "mean": round(statistics.fmean(xs), 2),
        "min": round(xs[0], 2),
        "max": round(xs[-1], 2),
    }


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--repeat", type=int, default=20, help="rounds over the question list (default 20)")
    p.add_argument(
        "--threads", type=int, default=1, help="encoder threads while asking (default 1, like `app.py serve`)"
    )
    p.add_argument("--corpus", type=Path, default=ROOT / "corpus", help="corpus to ingest (default: corpus/)")
    p.add_argument("--quiet", action="store_true", help="no progress output on stderr")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)

    def note(msg: str) -> None:
        if not args.quiet:
            print(f"[bench] {msg}", file=sys.stderr, flush=True)

    work = tempfile.TemporaryDirectory(prefix="bench-query-")
    app.setup_logging("WARNING")
    settings = app.Settings(
        _env_file=None,
        corpus_dir=args.corpus,
        chroma_path=Path(work.name) / "chroma",
        collection="bench",
        chroma_host=None,
        embedding_model="",
        log_level="WARNING",
        openai_api_key=None,
        openai_base_url=None,
        embed_threads=args.threads,
    )
    app.set_threads(settings, serving=True)  # applied when the model loads, whichever backend runs it
    threads = settings.embed_threads
    t = time.perf_counter()
    store = app.build_store(settings)
    report = app.build_indexer(settings, store).run(settings.corpus_dir, progress=False)
    note(
        f"ingested {settings.corpus_dir}: {report.chunks_total} chunks in {time.perf_counter() - t:.1f}s "
        f"(model load included); {settings.embedding_backend} encoder, {threads} threads"
    )
    assistant = app.build_assistant(settings, store)
    if assistant.mode != "extractive":
        sys.exit("expected the extractive answerer (no OpenAI settings)")
    retriever, answerer, embedder = assistant.retriever, assistant.answerer, store.embedder

    # Instrumentation: stage wrappers (instance attributes / the module function, this process only).
    import chat.verify as cite

    clock = Clock()
    model_encode = embedder.encode
    stage = {"name": "other"}
    texts_embedded: dict[str, int] = {}

    def encode(texts, **kw):
        texts_embedded[stage["name"]] = texts_embedded.get(stage["name"], 0) + len(texts)
        return clock.wrap(f"model.encode in {stage['name']}", model_encode)(texts, **kw)

    def in_stage(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        timed = clock.wrap(name, fn)

        def run(*a: Any, **kw: Any) -> Any:
            stage["name"] = name
            try:
                return timed(*a, **kw)
            finally:
                stage["name"] = "other"

        return run

    embedder.encode = encode  # type: ignore[method-assign]
    object.__setattr__(
        retriever, "search", in_stage("retrieval", retriever.search)
    )  # pydantic model: bypass validation
    answerer.draft = in_stage("answer selection", answerer.draft)  # type: ignore[method-assign]
    cite.verify_claims = in_stage("verification", cite.verify_claims)

    # The caches a first-time question misses; each is cleared only if this version of the code has it.
    query_caches = [c for c in (getattr(retriever, "_qcache", None),) if c is not None]
    answer_caches = [c for c in (getattr(assistant, "embed", None),) if hasattr(c, "clear")]

    def clear_query_cache() -> None:
        for c in query_caches:
            c.clear()

    def clear_all_caches() -> None:
        for c in query_caches + answer_caches:
            c.clear()

    # Warm-up: BM25 mirror, model kernels, every code path once.
    t = time.perf_counter()
    outcomes = {}
    for kind, q in QUESTIONS:
        a = assistant.ask(q)
        outcomes[q] = {"kind": kind, "refused": a.refused, "citations": len(a.citations)}
    note(f"warm-up: {len(QUESTIONS)} questions in {time.perf_counter() - t:.1f}s")

    asks = ("ask_cold", "ask_warm", "ask_query_cold")
    timings: dict[str, list[float]] = {k: [] for k in ("retrieval_cold", "retrieval_warm", *asks)}
    stages: dict[str, dict[str, list[float]]] = {k: {} for k in asks}
    embedded_per_ask: dict[str, dict[str, list[int]]] = {k: {} for k in asks}
    by_kind: dict[str, dict[str, list[float]]] = {}
    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    for r in range(args.repeat):
        for kind, q in QUESTIONS:
            clear_query_cache()
            t = time.perf_counter()
            retriever.search(q)
            timings["retrieval_cold"].append((time.perf_counter() - t) * 1e3)
            t = time.perf_counter()
            retriever.search(q)
            timings["retrieval_warm"].append((time.perf_counter() - t) * 1e3)
            for label, prepare in (
                ("ask_cold", clear_all_caches),
                ("ask_warm", None),
                ("ask_query_cold", clear_query_cache),
            ):
                if prepare:
                    prepare()
                clock.clear()
                texts_embedded.clear()
                t = time.perf_counter()
                assistant.ask(q)
                ms = (time.perf_counter() - t) * 1e3
                timings[label].append(ms)
                by_kind.setdefault(f"{label}:{kind}", []).append(ms)
                for name, secs in clock.seconds.items():
                    stages[label].setdefault(name, []).append(secs * 1e3)
                for name, n in texts_embedded.items():
                    embedded_per_ask[label].setdefault(name, []).append(n)
        note(f"round {r + 1}/{args.repeat} done ({time.perf_counter() - started:.0f}s)")
    load_after = os.getloadavg()[0]

    stats = {k: summary(v) for k, v in timings.items()}
    n_asks = len(timings["ask_cold"])
    stage_means = {
        label: {name: round(sum(v) / n_asks, 2) for name, v in sorted(st.items())} for label, st in stages.items()
    }
    embedded_means = {
        label: {name: round(sum(v) / n_asks, 1) for name, v in sorted(st.items())}
        for label, st in embedded_per_ask.items()
    }
    kind_p50 = {k: round(statistics.median(v), 2) for k, v in sorted(by_kind.items())}
    refused = {
        kind: sum(1 for o in outcomes.values() if o["kind"] == kind and o["refused"]) for kind in ("faq", "fact", "off")
    }
    totals = {kind: sum(1 for o in outcomes.values() if o["kind"] == kind) for kind in ("faq", "fact", "off")}

    lines = [
        f"Query benchmark: {len(QUESTIONS)} questions x {args.repeat} rounds, {report.chunks_total} chunks from "
        f"{settings.corpus_dir}, extractive mode, encoder threads {threads}, model {embedder.name}",
        "per question, interleaved: retrieval cold, retrieval warm, ask cold, ask warm, ask query-cold; "
        f"1-min load average {load_before:.2f} before, {load_after:.2f} after",
        f"refused at warm-up: faq {refused['faq']}/{totals['faq']}, fact {refused['fact']}/{totals['fact']}, "
        f"off-topic {refused['off']}/{totals['off']}",
        "",
        f"{'ms':44}{'p50':>9}{'p95':>9}{'mean':>9}{'n':>6}",
    ]
    labels = {
        "retrieval_cold": "retrieval, query vector not cached",
        "retrieval_warm": "retrieval, query vector cached",
        "ask_cold": "ask (extractive), caches cleared",
        "ask_warm": "ask (extractive), caches warm",
        "ask_query_cold": "ask, only query-vector cache cleared",
    }
    for k, label in labels.items():
        s = stats[k]
        lines.append(f"{label:44}{s['p50']:>9.1f}{s['p95']:>9.1f}{s['mean']:>9.1f}{s['n']:>6}")
    lines += [
        "",
        "ask, mean ms per stage (timing wrappers; model.encode is part of its stage's time):",
        f"  {'stage':24}{'cold ms':>10}{'warm ms':>10}{'encode cold':>13}{'encode warm':>13}"
        f"{'texts cold':>12}{'texts warm':>12}",
    ]
    for name in ("retrieval", "answer selection", "verification"):
        cold, warm = stage_means["ask_cold"].get(name, 0.0), stage_means["ask_warm"].get(name, 0.0)
        ec = stage_means["ask_cold"].get(f"model.encode in {name}", 0.0)
        ew = stage_means["ask_warm"].get(f"model.encode in {name}", 0.0)
        tc, tw = embedded_means["ask_cold"].get(name, 0.0), embedded_means["ask_warm"].get(name, 0.0)
        lines.append(f"  {name:24}{cold:>10.1f}{warm:>10.1f}{ec:>13.1f}{ew:>13.1f}{tc:>12.1f}{tw:>12.1f}")
    for label in asks:
        staged = sum(stage_means[label].get(n, 0.0) for n in ("retrieval", "answer selection", "verification"))
        stage_means[label]["other"] = round(stats[label]["mean"] - staged, 2)
    lines.append(f"  {'other':24}{stage_means['ask_cold']['other']:>10.1f}{stage_means['ask_warm']['other']:>10.1f}")
    lines.append(
        "caches cleared for 'cold': "
        + (
            ", ".join(
                n
                for n, c in (
                    ("retriever._qcache", query_caches),
                    ("assistant.embed (answer + verification vectors)", answer_caches),
                )
                if c
            )
            or "none found"
        )
    )
    lines.append("ask p50 by question kind (ms): " + ", ".join(f"{k} {v:.1f}" for k, v in kind_p50.items()))
    print("\n".join(lines), flush=True)

    result = {
        "benchmark": "query",
        "questions": len(QUESTIONS),
        "repeat": args.repeat,
        "threads": threads,
        "backend": settings.embedding_backend,
        "chunks": report.chunks_total,
        "ms": stats,
        "ask_stage_mean_ms": stage_means,
        "texts_embedded_per_ask": embedded_means,
        "ask_p50_by_kind_ms": kind_p50,
        "refused": {k: [refused[k], totals[k]] for k in totals},
        "loadavg": [round(load_before, 2), round(load_after, 2)],
    }
    print(json.dumps(result), flush=True)
    work.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
