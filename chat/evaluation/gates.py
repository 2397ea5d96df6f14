"""Gates (thresholds that fail a run) and the printed summary table."""

from chat.evaluation.metrics import verification_line


def check_gates(
    summary: dict,
    *,
    min_hit: float | None = None,
    min_facts: float | None = None,
    min_similarity: float | None = None,
    max_false_refusals: int | None = None,
    min_refusal_accuracy: float | None = None,
    min_citation_validity: float | None = None,
    min_source_precision: float | None = None,
    max_false_refusal_rate: float | None = None,
    min_type_facts: float | None = None,
) -> list[str]:
    """Failed gates as messages, e.g. ``["hit@5 0.75 < min 0.9"]``; empty when all pass. A gate whose metric
    could not be measured (no applicable question) fails too. `min_type_facts` applies to every question type
    (the `type` column) that has answerable rows with key facts."""
    m = summary.get("metrics", {})
    k = summary.get("run", {}).get("k")
    hit_key = (
        f"hit@{k}"
        if f"hit@{k}" in m
        else next((key for key in m if key.startswith("hit@") and key != "hit@1"), "hit@k")
    )
    failed: list[str] = []
    for _name, key, threshold, lower in (
        ("hit", hit_key, min_hit, True),
        ("facts", "fact_recall", min_facts, True),
        ("similarity", "similarity", min_similarity, True),
        ("refusal accuracy", "refusal_accuracy", min_refusal_accuracy, True),
        ("citation validity", "citation_validity", min_citation_validity, True),
        ("false refusals", "false_refusals", max_false_refusals, False),
        ("cited-source precision", "cited_source_precision", min_source_precision, True),
        ("false refusal rate", "false_refusal_rate", max_false_refusal_rate, False),
    ):
        if threshold is None:
            continue
        value = m.get(key)
        if value is None:
            failed.append(
                f"{key} not measured (no applicable questions) but a gate requires "
                f"{'min' if lower else 'max'} {threshold:g}"
            )
        elif lower and value < threshold:
            failed.append(f"{key} {value:.4g} < min {threshold:g}")
        elif not lower and value > threshold:
            failed.append(f"{key} {value:g} > max {threshold:g}")
    if min_type_facts is not None:
        types = summary.get("by_type") or {}
        if not types:
            failed.append("fact_recall per type not measured (no 'type' column) but a gate requires it")
        for name, t in types.items():
            if t.get("fact_recall") is not None and t["fact_recall"] < min_type_facts:
                failed.append(f"fact_recall of {name} questions {t['fact_recall']:.4g} < min {min_type_facts:g}")
    return failed


# fmt: off
METRIC_LABELS = {
    "hit@1": ("retrieval", "hit@1"), "mrr": ("retrieval", "MRR"),
    "similarity": ("answer", "similarity to reference"), "token_f1": ("answer", "token F1"),
    "fact_recall": ("answer", "key-fact recall"),
    "citation_coverage": ("citations", "sentences with a citation"), "citation_validity": ("citations", "validity"),
    "cited_source_precision": ("citations", "cited-source precision"), "support": ("citations", "support"),
    "refusal_accuracy": ("refusal", "correct refusals"), "false_refusals": ("refusal", "false refusals"),
    "latency_p50_ms": ("latency", "p50 (ms)"), "latency_p95_ms": ("latency", "p95 (ms)"),
    "judge_correctness": ("judge", "correctness (1-5)"), "judge_faithfulness": ("judge", "faithfulness (1-5)"),
    "judge_errors": ("judge", "errors"), "errors": ("run", "errors"), "failed_questions": ("run", "failed questions"),
    "questions_with_warnings": ("run", "questions with warnings"),
}
# fmt: on


def metric_rows(summary: dict) -> list[tuple[str, str, str, str]]:
    """(group, label, value, n) for the summary table and the report."""
    m, c = summary["metrics"], summary["counts"]
    k = summary["run"].get("k")
    order = [
        "hit@1",
        f"hit@{k}",
        "mrr",
        "similarity",
        "token_f1",
        "fact_recall",
        "citation_coverage",
        "citation_validity",
        "cited_source_precision",
        "support",
        "refusal_accuracy",
        "false_refusals",
        "latency_p50_ms",
        "latency_p95_ms",
        "judge_correctness",
        "judge_faithfulness",
        "judge_errors",
        "errors",
        "failed_questions",
        "questions_with_warnings",
    ]
    n_for = {
        "hit@1": c["with_expected_sources"],
        f"hit@{k}": c["with_expected_sources"],
        "mrr": c["with_expected_sources"],
        "similarity": c["with_reference"],
        "token_f1": c["with_reference"],
        "fact_recall": c["with_must_include"],
        "citation_coverage": c["citations_checked"],
        "citation_validity": c["citations_checked"],
        "support": c["citations_checked"],
        "cited_source_precision": c.get("cited_with_expected_sources"),
        "refusal_accuracy": c["expected_refusals"],
        "false_refusals": c["answerable"],
        "latency_p50_ms": c["questions"] - m.get("errors", 0),
        "latency_p95_ms": c["questions"] - m.get("errors", 0),
        "judge_correctness": c.get("judged"),
        "judge_faithfulness": c.get("judged"),
        "failed_questions": c["questions"],
        "errors": c["questions"],
        "judge_errors": c["questions"],
        "questions_with_warnings": c["questions"],
    }
    out = []
    for key in order:
        if key not in m:
            continue
        group, label = METRIC_LABELS.get(key, ("retrieval", key))
        v = m[key]
        if v is None:
            value = "n/a"
        elif key == "refusal_accuracy":
            value = f"{c['correct_refusals']}/{c['expected_refusals']} ({v:.2f})"
        elif key == "false_refusals":
            value = f"{v}/{c['answerable']}"
        elif key.startswith("latency"):
            value = f"{v:,.0f}"
        elif isinstance(v, int):
            value = str(v)
        else:
            value = f"{v:.3f}"
        n = n_for.get(key)
        out.append((group, label, value, "" if n is None else str(n)))
    return out


def summary_table(summary: dict) -> str:
    """The aggregate table (and the failing questions) as plain text for the terminal."""
    rows = metric_rows(summary)
    run = summary["run"]
    head = (
        f"{summary['counts']['questions']} questions, mode {run.get('mode') or '?'}, k={run.get('k')}, "
        f"{run.get('seconds', 0):.1f}s" + (f", judge {run['judge']}" if run.get("judge") else "")
    )
    w1 = max(len(g) for g, *_ in rows)
    w2 = max(len(lbl) for _, lbl, *_ in rows)
    w3 = max(len(v) for *_, v, _ in rows)
    lines = [head, f"{'':{w1}}  {'metric':{w2}}  {'value':>{w3}}  n", "-" * (w1 + w2 + w3 + 9)]
    last = None
    for group, label, value, n in rows:
        lines.append(f"{group if group != last else '':{w1}}  {label:{w2}}  {value:>{w3}}  {n}")
        last = group
    types = summary.get("by_type")
    if types:
        lines.append("")
        lines.append(f"{'type':12}  {'n':>3}  {'key facts':>9}  {'source prec':>11}  {'false ref':>9}  {'refusals':>8}")
        for name, t in types.items():
            facts = f"{t['fact_recall']:.3f}" if t["fact_recall"] is not None else "-"
            prec = f"{t['cited_source_precision']:.3f}" if t["cited_source_precision"] is not None else "-"
            false = f"{t['false_refusals']}/{t['answerable']}" if t["answerable"] else "-"
            refs = f"{t['correct_refusals']}/{t['expected_refusals']}" if t["expected_refusals"] else "-"
            lines.append(f"{name:12}  {t['questions']:>3}  {facts:>9}  {prec:>11}  {false:>9}  {refs:>8}")
    if verification_line(summary):
        lines += ["", verification_line(summary)]
    fails = summary.get("failures") or []
    if fails:
        lines.append("")
        lines.append(f"Failed questions ({len(fails)}):")
        for f in fails:
            q = " ".join(f["question"].split())
            q = q if len(q) <= 70 else q[:67] + "..."
            lines.append(f"  {f['id']}: {q}")
            for reason in f["failures"]:
                lines.append(f"      - {reason}")
    for w in summary.get("warnings") or []:
        lines.append(f"warning: {w}")
    return "\n".join(lines)
