"""Running an eval: ask every question, score it, summarise, write results.jsonl/.csv, summary.json, report."""

import csv
import json
import logging
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from chat.evaluation.dataset import EvalInputError
from chat.evaluation.gates import check_gates
from chat.evaluation.judge import Judge, JudgeError
from chat.evaluation.metrics import (
    citation_metrics,
    fact_recall,
    mean_or_none,
    percentile,
    refusal_metrics,
    retrieval_metrics,
    token_f1,
    verification_counts,
)
from chat.evaluation.report import render_report
from chat.schema import Answer, Citation, Retrieved

log = logging.getLogger(__name__)


def default_out_dir(root: Path | str = ".") -> Path:
    """`<root>/reports/eval-YYYYmmdd-HHMMSS`."""
    return Path(root) / "reports" / f"eval-{datetime.now().strftime('%Y%m%d-%H%M%S')}"


def as_answer(answer: Answer | dict[str, Any]) -> Answer:
    """What `ask` returned, as an `Answer` (a dict is its JSON form, e.g. from another process)."""
    return answer if isinstance(answer, Answer) else Answer.from_dict(answer)


def _citations_out(cits: list[Citation]) -> list[dict]:
    keep = {"n", "source", "title", "section", "support", "highlight", "chunk_id", "quote"}
    return [c.model_dump(include=keep) for c in cits]


def _retrieved_out(retrieved: list[Retrieved]) -> list[dict]:
    return [
        {"rank": i, **r.model_dump(include={"source", "score", "dense_score", "section", "chunk_id"})}
        for i, r in enumerate(retrieved, 1)
    ]


def evaluate_row(
    row: dict, answer: Answer | None, *, k: int, error: str | None = None, latency_ms: float | None = None
) -> dict[str, Any]:
    """Every embedding-free metric of one question (similarity and judge are added by run_eval)."""
    answer = answer if answer is not None and not error else None
    refused = answer.refused if answer is not None else None
    citations = answer.citations if answer is not None else []
    retrieved = answer.retrieved if answer is not None else []
    out = dict(row)
    out.update(
        {
            "answer": answer.text if answer is not None else "",
            # The answer's words without its markers, from its structure: what key facts, token F1, similarity
            # and run comparisons read.
            "plain_answer": answer.plain_text if answer is not None else "",
            # ...and its layout (lead, headings, items, cited sentences, notes): what the report draws.
            "blocks": [b.model_dump() for b in answer.blocks] if answer is not None else [],
            "refused": refused,
            "mode": answer.mode if answer is not None else None,
            "error": error,
            "latency_ms": round(latency_ms, 1) if latency_ms is not None else None,
            "citations": _citations_out(citations),
            "retrieved": _retrieved_out(retrieved),
            "n_sentences": len(answer.sentences) if answer is not None else 0,
            "n_dropped": len(answer.dropped) if answer is not None else 0,
            "refusal_reason": answer.refusal_reason if answer is not None else None,
            "question_type": answer.question_type if answer is not None else None,
            "relevance": round(answer.relevance, 3) if answer is not None else None,
            # What verification removed and the rule that removed it (chat.claims.DROP_REASONS).
            "dropped": [
                {"reason": d.reason, "text": d.text, "unsupported_words": d.unsupported_words}
                for d in (answer.dropped if answer is not None else [])
            ],
        }
    )
    expected = row.get("expected_sources") or []
    # Retrieval is measured where an answer is expected: a question that should be refused (not English, a
    # detail the articles do not give) may be refused before anything is retrieved.
    out.update(retrieval_metrics([r.source for r in retrieved], [] if row.get("expect_refusal") else expected, k))
    answered_text = "" if refused or answer is None else answer.plain_text
    out["token_f1"] = token_f1(answered_text, row["reference"]) if row.get("reference") else None
    recall, found, missing = fact_recall(answered_text, row.get("must_include") or [])
    out.update({"fact_recall": recall, "facts_found": found, "facts_missing": missing})
    if refused or answer is None:
        out.update(
            {
                "citation_coverage": None,
                "citation_validity": None,
                "invalid_citations": [],
                "cited_source_precision": None,
                "support": None,
            }
        )
    else:
        out.update(citation_metrics(answer.sentences, citations, retrieved, expected))
        out["support"] = (
            mean_or_none(s.support for s in answer.sentences)
            if answer.sentences
            else mean_or_none(c.support for c in citations)
        )
    out["refusal_correct"] = (refused is True) if row.get("expect_refusal") else None
    out["false_refusal"] = (refused is True) if not row.get("expect_refusal") else None
    out["similarity"] = None
    for key in (
        "judge_correctness",
        "judge_correctness_reason",
        "judge_faithfulness",
        "judge_faithfulness_reason",
        "judge_error",
    ):
        out[key] = None
    return out


def row_failures(r: dict, k: int) -> list[str]:
    """Why a question counts as failed (empty = passed)."""
    f: list[str] = []
    if r.get("error"):
        f.append(f"error: {r['error']}")
    if r.get("expect_refusal"):
        if r.get("refused") is False:
            f.append("answered a question it should refuse")
    elif r.get("refused"):
        f.append("false refusal")
    if r.get("hit@k") is False:
        f.append(f"no expected source in the top {k}")
    if r.get("facts_missing") and not r.get("refused") and not r.get("error"):
        f.append("missing facts: " + "; ".join(r["facts_missing"]))
    if r.get("invalid_citations"):
        f.append("invalid citations: " + " ".join(r["invalid_citations"]))
    if r.get("judge_correctness") is not None and r["judge_correctness"] <= 2:
        f.append(f"judge: correctness {r['judge_correctness']}/5")
    if r.get("judge_faithfulness") is not None and r["judge_faithfulness"] <= 2:
        f.append(f"judge: faithfulness {r['judge_faithfulness']}/5")
    if r.get("judge_error"):
        f.append(f"judge error: {r['judge_error']}")
    return f


def row_warnings(r: dict) -> list[str]:
    """Weaker signals than failures: the answer may still be right."""
    w: list[str] = []
    if r.get("citation_coverage") is not None and r["citation_coverage"] < 1:
        w.append(f"uncited sentences ({r['citation_coverage']:.0%} cited)")
    if r.get("cited_source_precision") is not None and r["cited_source_precision"] < 1:
        w.append(f"cites a source outside expected_sources (precision {r['cited_source_precision']:.2f})")
    if r.get("hit@1") is False and r.get("hit@k"):
        w.append(f"first expected source only at rank {r.get('first_hit_rank')}")
    if r.get("refused") and r.get("refusal") and r.get("refusal_reason") and r["refusal"] != r["refusal_reason"]:
        w.append(f"refused as {r['refusal_reason']}, expected {r['refusal']}")
    return w


def similarities(embed: Callable[[list[str]], np.ndarray], pairs: list[tuple[str, str]]) -> list[float]:
    """Cosine of each (answer, reference) pair; embeds every text once, in one call."""
    texts = list(dict.fromkeys(t for pair in pairs for t in pair))
    vecs = np.asarray(embed(texts), dtype=np.float64)
    if vecs.ndim != 2 or vecs.shape[0] != len(texts):
        raise ValueError(f"embed returned shape {vecs.shape} for {len(texts)} texts")
    norms = np.linalg.norm(vecs, axis=1, keepdims=True)
    vecs = vecs / np.where(norms == 0, 1, norms)
    index = {t: i for i, t in enumerate(texts)}
    return [float(np.clip(vecs[index[a]] @ vecs[index[b]], -1.0, 1.0)) for a, b in pairs]


def summarise(results: list[dict], *, k: int, run: dict | None = None) -> dict[str, Any]:
    """Aggregate metrics over per-question results."""
    answerable = [r for r in results if not r.get("expect_refusal")]
    lat = [r["latency_ms"] for r in results if r.get("latency_ms") is not None]
    ref = refusal_metrics(results)

    def avg(key: str, rows: list[dict] = results) -> float | None:
        return mean_or_none(float(r[key]) for r in rows if r.get(key) is not None)

    def n(key: str) -> int:
        return sum(1 for r in results if r.get(key) is not None)

    metrics: dict[str, Any] = {
        "hit@1": avg("hit@1"),
        f"hit@{k}": avg("hit@k"),
        "mrr": avg("rr"),
        "similarity": avg("similarity", answerable),
        "token_f1": avg("token_f1", answerable),
        "fact_recall": avg("fact_recall", answerable),
        "citation_coverage": avg("citation_coverage"),
        "citation_validity": avg("citation_validity"),
        "cited_source_precision": avg("cited_source_precision"),
        "support": avg("support"),
        "refusal_accuracy": ref["refusal_accuracy"],
        "false_refusals": ref["false_refusals"],
        "false_refusal_rate": ref["false_refusal_rate"],
        "latency_p50_ms": percentile(lat, 50),
        "latency_p95_ms": percentile(lat, 95),
        "latency_mean_ms": mean_or_none(lat),
        "errors": sum(1 for r in results if r.get("error")),
        "failed_questions": sum(1 for r in results if not r.get("passed")),
    }
    counts = {
        "questions": len(results),
        "with_expected_sources": n("hit@k"),
        "with_reference": sum(1 for r in answerable if r.get("token_f1") is not None),
        "with_must_include": sum(1 for r in answerable if r.get("fact_recall") is not None),
        "answered": sum(1 for r in results if r.get("refused") is False),
        "refused": sum(1 for r in results if r.get("refused") is True),
        "expected_refusals": ref["expected_refusals"],
        "correct_refusals": ref["correct_refusals"],
        "answerable": ref["answerable"],
        "citations_checked": n("citation_validity"),
        "cited_with_expected_sources": n("cited_source_precision"),
    }
    judged = [r for r in results if r.get("judge_correctness") is not None]
    if any(r.get("judge_correctness") is not None or r.get("judge_error") for r in results):
        metrics["judge_correctness"] = avg("judge_correctness")
        metrics["judge_faithfulness"] = avg("judge_faithfulness")
        metrics["judge_errors"] = sum(1 for r in results if r.get("judge_error"))
        counts["judged"] = len(judged)
    metrics = {key: (round(v, 4) if isinstance(v, float) else v) for key, v in metrics.items()}
    failures = [
        {"id": r.get("id"), "question": r["question"], "failures": r["failures"]} for r in results if r.get("failures")
    ]
    metrics["questions_with_warnings"] = sum(1 for r in results if r.get("warnings"))
    out = {"run": dict(run or {}, k=k), "metrics": metrics, "counts": counts, "failures": failures}
    if any(r.get("type") for r in results):
        out["by_type"] = by_type(results)
    out["verification"] = verification_counts(results)
    return out


def by_type(results: list[dict]) -> dict[str, dict[str, Any]]:
    """The main metrics per question `type` (a column of the questions file): fact recall, cited-source
    precision and false refusals over its answerable rows, correct refusals over the rest."""
    groups: dict[str, list[dict]] = {}
    for r in results:
        groups.setdefault(str(r.get("type") or "(none)"), []).append(r)
    out = {}
    for name in sorted(groups):
        rows = groups[name]
        answerable = [r for r in rows if not r.get("expect_refusal")]
        ref = refusal_metrics(rows)
        facts = mean_or_none(r["fact_recall"] for r in answerable if r.get("fact_recall") is not None)
        prec = mean_or_none(r["cited_source_precision"] for r in rows if r.get("cited_source_precision") is not None)
        out[name] = {
            "questions": len(rows),
            "answerable": len(answerable),
            "fact_recall": round(facts, 4) if facts is not None else None,
            "cited_source_precision": round(prec, 4) if prec is not None else None,
            "false_refusals": ref["false_refusals"],
            "expected_refusals": ref["expected_refusals"],
            "correct_refusals": ref["correct_refusals"],
        }
    return out


def run_eval(
    assistant: Any,
    embed: Callable[[list[str]], np.ndarray],
    rows: list[dict],
    out_dir: Path,
    *,
    k: int,
    judge: Judge | None = None,
    progress: bool = True,
    warmup: bool = True,
    meta: dict | None = None,
    gates: dict | None = None,
    assistant_for: Callable[[dict], Any] | None = None,
) -> dict:
    """Ask every question, score it, write results.jsonl/.csv, summary.json and report.html; return the summary.

    `assistant.ask(question, [])` must return an `Answer` (or its `to_dict()`); `embed(texts)` returns one row
    per text (cosine after L2 normalisation). One untimed warm-up question (the first row's) runs first so that
    lazy model loading does not land in the latency percentiles (`warmup=False` to skip). `meta` is merged into
    summary["run"]: `questions_file` and `problems` (from load_questions) are shown in the report. `gates` are
    check_gates keywords; the outcome is stored in summary["gates"] and shown in the report. `assistant_for(row)`,
    when given, picks the assistant of each row (e.g. one per corpus the rows are asked of).
    """
    pick = assistant_for or (lambda row: assistant)
    from tqdm import tqdm

    if not rows:
        raise EvalInputError("no questions to evaluate")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    started = datetime.now(UTC)
    t0 = time.perf_counter()
    warmup_ms = None
    if warmup:
        w0 = time.perf_counter()
        try:
            pick(rows[0]).ask(rows[0]["question"], [])
        except Exception:  # noqa: BLE001 - the real run reports it
            pass
        warmup_ms = round((time.perf_counter() - w0) * 1e3, 1)

    results: list[dict] = []
    bar = tqdm(rows, desc="eval", unit="q", file=sys.stderr, disable=not progress, dynamic_ncols=True)
    for row in bar:
        ans, error, latency = None, None, None
        q0 = time.perf_counter()
        try:
            ans = as_answer(pick(row).ask(row["question"], []))
            latency = (time.perf_counter() - q0) * 1e3
        except Exception as e:  # noqa: BLE001 - one failing question must not stop the run
            error = f"{type(e).__name__}: {e}"
            log.warning("question %s failed: %s", row.get("id"), error)
        result = evaluate_row(row, ans, k=k, error=error, latency_ms=latency)
        if judge is not None and not error:
            try:
                g = judge.grade(row, result)
                result.update(
                    {
                        "judge_correctness": g["correctness"],
                        "judge_correctness_reason": g["correctness_reason"],
                        "judge_faithfulness": g["faithfulness"],
                        "judge_faithfulness_reason": g["faithfulness_reason"],
                    }
                )
            except JudgeError as e:
                result["judge_error"] = str(e)
                log.warning("judge failed on %s: %s", row.get("id"), e)
        results.append(result)
    bar.close()

    warnings: list[str] = []
    pairs = [
        (i, r["plain_answer"], r["reference"])
        for i, r in enumerate(results)
        if r.get("reference") and not r.get("expect_refusal")
    ]
    scored = [(i, a, b) for i, a, b in pairs if a and not results[i].get("refused")]
    for i, a, _b in pairs:
        if not a or results[i].get("refused"):
            results[i]["similarity"] = 0.0  # a refusal (or an error) says nothing the reference says
    if scored:
        try:
            for (i, _, _), sim in zip(scored, similarities(embed, [(a, b) for _, a, b in scored])):
                results[i]["similarity"] = round(sim, 4)
        except Exception as e:  # noqa: BLE001
            warnings.append(f"similarity not computed: {type(e).__name__}: {e}")
            log.warning("similarity not computed", exc_info=True)
            for i, _, _ in scored:
                results[i]["similarity"] = None

    for r in results:
        for key in (
            "rr",
            "token_f1",
            "fact_recall",
            "citation_coverage",
            "citation_validity",
            "cited_source_precision",
            "support",
        ):
            if isinstance(r.get(key), float):
                r[key] = round(r[key], 4)
        r["failures"] = row_failures(r, k)
        r["warnings"] = row_warnings(r)
        r["passed"] = not r["failures"]

    modes = sorted({r["mode"] for r in results if r.get("mode")})
    run = {
        "started": started.isoformat(timespec="seconds"),
        "seconds": round(time.perf_counter() - t0, 2),
        "mode": ", ".join(modes),
        "judge": getattr(judge, "model", None),
        "warmup_ms": warmup_ms,
        "out_dir": str(out_dir),
        **(meta or {}),
    }
    summary = summarise(results, k=k, run=run)
    if warnings:
        summary["warnings"] = warnings
    if gates:
        thresholds = {key: v for key, v in gates.items() if v is not None}
        summary["gates"] = {"thresholds": thresholds, "failed": check_gates(summary, **thresholds)}
    write_results(results, out_dir)
    (out_dir / "summary.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    (out_dir / "report.html").write_text(render_report(summary, results), encoding="utf-8")
    return summary


# Structure for programs (the report reads it from results.jsonl); the spreadsheet has `answer` for people.
JSONL_ONLY = ("blocks",)


def write_results(results: list[dict], out_dir: Path) -> None:
    with open(out_dir / "results.jsonl", "w", encoding="utf-8") as f:
        for r in results:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    columns: list[str] = []
    for r in results:
        for key in r:
            if key not in columns and key not in JSONL_ONLY:
                columns.append(key)
    with open(out_dir / "results.csv", "w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=columns, restval="")
        w.writeheader()
        for r in results:
            w.writerow({key: _csv_cell(key, v) for key, v in r.items() if key not in JSONL_ONLY})


def _csv_cell(key: str, v: Any) -> Any:
    if v is None:
        return ""
    if key == "citations":
        return " | ".join(f"[{c.get('n')}] {c.get('source')} ({c.get('support')})" for c in v)
    if key == "retrieved":
        return " | ".join(
            f"{c.get('rank')}. {c.get('source')}"
            + (f" ({c['score']:.4f})" if isinstance(c.get("score"), (int, float)) else "")
            for c in v
        )
    if key == "expected_sources" and isinstance(v, list) and all(isinstance(x, str) for x in v):
        return "|".join(v)
    if isinstance(v, (list, dict)):
        return json.dumps(v, ensure_ascii=False)
    return v
