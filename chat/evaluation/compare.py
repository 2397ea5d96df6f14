"""Comparing two eval runs: per-metric deltas and the questions whose result changed."""

import json
import re
from pathlib import Path
from typing import Any

# fmt: off
LOWER_IS_BETTER = ("latency_p50_ms", "latency_p95_ms", "latency_mean_ms", "false_refusals", "false_refusal_rate",
                   "errors", "failed_questions", "questions_with_warnings", "judge_errors")

PER_QUESTION = ("passed", "refused", "hit@1", "hit@k", "rr", "similarity", "token_f1", "fact_recall",
                "citation_coverage", "citation_validity", "cited_source_precision", "support",
                "judge_correctness", "judge_faithfulness")
# fmt: on


def _load_run(d: Path) -> tuple[dict, list[dict]]:
    d = Path(d)
    summary_path = d / "summary.json"
    if not summary_path.is_file():
        raise FileNotFoundError(f"{d} is not an eval run (no summary.json)")
    summary = json.loads(summary_path.read_text(encoding="utf-8"))
    results = []
    if (d / "results.jsonl").is_file():
        results = [
            json.loads(line) for line in (d / "results.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()
        ]
    return summary, results


def _fmt(v: Any) -> str:
    if v is None:
        return "n/a"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        return f"{v:,.0f}" if abs(v) >= 100 else f"{v:.3f}"
    return str(v)


def compare_runs(new_dir: Path, old_dir: Path, out_dir: Path | None = None) -> str:
    """Per-metric and per-question differences between two runs; written to compare.json and compare.txt in
    `out_dir` (default: the newer run's folder). When `old_dir` turns out to be the newer run (by start time),
    the two are swapped so that deltas always read old -> new."""
    new_s, new_r = _load_run(new_dir)
    old_s, old_r = _load_run(old_dir)
    swapped = False
    if (old_s.get("run", {}).get("started") or "") > (new_s.get("run", {}).get("started") or ""):
        new_dir, old_dir, new_s, old_s, new_r, old_r = old_dir, new_dir, old_s, new_s, old_r, new_r
        swapped = True
    out_dir = Path(out_dir) if out_dir else Path(new_dir)

    metrics = []
    keys = list(dict.fromkeys([*old_s.get("metrics", {}), *new_s.get("metrics", {})]))
    for key in keys:
        a, b = old_s["metrics"].get(key), new_s["metrics"].get(key)
        delta = (b - a) if isinstance(a, (int, float)) and isinstance(b, (int, float)) else None
        if delta is None or abs(delta) < 1e-9:
            verdict = "same" if a == b else "changed"
        else:
            better = delta < 0 if key in LOWER_IS_BETTER else delta > 0
            verdict = "better" if better else "worse"
        if key.startswith("latency") and delta is not None and a and abs(delta) / a < 0.1:
            verdict = "same"  # latency noise
        metrics.append(
            {"metric": key, "old": a, "new": b, "delta": None if delta is None else round(delta, 4), "verdict": verdict}
        )

    def key_of(r: dict) -> str:
        return re.sub(r"\s+", " ", r.get("question", "")).strip().lower()

    old_by = {key_of(r): r for r in old_r}
    new_by = {key_of(r): r for r in new_r}
    questions = []
    for q, nr in new_by.items():
        orow = old_by.get(q)
        if orow is None:
            continue
        changes = {}
        for key in PER_QUESTION:
            a, b = orow.get(key), nr.get(key)
            if a == b:
                continue
            if isinstance(a, float) and isinstance(b, float) and abs(a - b) < 0.005:
                continue
            changes[key] = {"old": a, "new": b}
        status = None
        if orow.get("passed") and not nr.get("passed"):
            status = "newly failing"
        elif not orow.get("passed") and nr.get("passed"):
            status = "fixed"
        # Words, not citation numbers: a run from before `plain_answer` was recorded compares its whole text.
        answer_changed = orow.get("plain_answer", orow.get("answer", "")) != nr.get(
            "plain_answer", nr.get("answer", "")
        )
        if changes or answer_changed:
            questions.append(
                {
                    "id": nr.get("id"),
                    "question": nr.get("question"),
                    "status": status,
                    "answer_changed": answer_changed,
                    "changes": changes,
                    "old_failures": orow.get("failures", []),
                    "new_failures": nr.get("failures", []),
                }
            )
    report = {
        "new": str(new_dir),
        "old": str(old_dir),
        "swapped": swapped,
        "new_started": new_s.get("run", {}).get("started"),
        "old_started": old_s.get("run", {}).get("started"),
        "metrics": metrics,
        "questions": questions,
        "only_in_new": [r.get("question") for q, r in new_by.items() if q not in old_by],
        "only_in_old": [r.get("question") for q, r in old_by.items() if q not in new_by],
    }

    lines = [f"old: {old_dir} ({report['old_started']})", f"new: {new_dir} ({report['new_started']})"]
    if swapped:
        lines.append("(the arguments were given newest-last; compared old -> new by start time)")
    lines += ["", f"{'metric':24} {'old':>10} {'new':>10} {'delta':>10}  verdict"]
    for m in metrics:
        d = "" if not m["delta"] else f"{m['delta']:+.4g}"
        lines.append(f"{m['metric']:24} {_fmt(m['old']):>10} {_fmt(m['new']):>10} {d:>10}  {m['verdict']}")
    lines.append("")
    if not questions:
        lines.append("No per-question differences.")
    for q in questions:
        tag = f" [{q['status']}]" if q["status"] else ""
        lines.append(f"{q['id']}{tag}: {q['question']}")
        for key, ch in q["changes"].items():
            lines.append(f"    {key}: {_fmt(ch['old'])} -> {_fmt(ch['new'])}")
        if q["answer_changed"]:
            lines.append("    answer text changed")
        if q["status"] == "newly failing":
            lines += [f"    now: {f}" for f in q["new_failures"]]
    for label, items in (("only in new run", report["only_in_new"]), ("only in old run", report["only_in_old"])):
        if items:
            lines.append(f"{label}: " + "; ".join(items))
    text = "\n".join(lines)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "compare.json").write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    (out_dir / "compare.txt").write_text(text + "\n", encoding="utf-8")
    return text
