"""The self-contained HTML report of a run: summary figures, a per-question chart, every answer with its evidence.

This module prepares what the page shows, as plain data (the view model: figures, question rows, the per-type
table, chart points). The page itself is templates/report.html.j2 (Jinja2, autoescaped, StrictUndefined), the chart
the macro in templates/chart.svg.j2, the look templates/report.css. The stylesheet is inlined at render, so
report.html is one file that works offline and loads nothing; its Content-Security-Policy allows that stylesheet,
by hash, and nothing else.

    from chat.evaluation.report import render_report
    page = render_report(json.load(open("summary.json")), [json.loads(line) for line in open("results.jsonl")])
"""

from __future__ import annotations

import base64
import functools
import hashlib
import logging
import re
from dataclasses import dataclass
from typing import Any, NamedTuple

import jinja2

from chat.evaluation.dataset import KNOWN_FIELDS, OUTPUT_FIELDS
from chat.evaluation.gates import metric_rows
from chat.evaluation.metrics import source_matches, verification_line

log = logging.getLogger(__name__)


class ChartMetric(NamedTuple):
    """A column of the chart."""

    key: str  # the result field
    label: str  # "hit@k" reads hit@<k> in the column head; the bar tooltips keep "hit@k", as they always have
    color: str


# fmt: off
CHART_METRICS = (ChartMetric("hit@k", "hit@k", "#2563eb"), ChartMetric("fact_recall", "key-fact recall", "#16a34a"),
                 ChartMetric("similarity", "similarity", "#9333ea"), ChartMetric("token_f1", "token F1", "#ea580c"))
# fmt: on

# The colour of a per-question score (ok at or above the first, bad below the second, warn between). Colour only:
# what fails a question is metrics.row_failures, what fails a run the gates. Similarity and token F1 run lower than
# the 0..1 ratios for answers that are right (a paraphrase of the reference), so they have bands of their own.
SCORE_BANDS = {"token F1": (0.5, 0.25), "similarity": (0.75, 0.5)}
DEFAULT_SCORE_BAND = (0.8, 0.5)


@dataclass(frozen=True)
class Figure:
    """One card of the figures grid: `value` shown with format spec `spec` (n/a when None), coloured by `level`
    (good, mid, low, or "" for a figure without thresholds)."""

    label: str
    value: Any
    spec: str = ".2f"
    level: str = ""


@dataclass(frozen=True)
class Score:
    """One per-question score: a 0..1 figure or a yes/no, with its colour (ok, warn, bad)."""

    label: str
    value: float | bool
    level: str


@dataclass(frozen=True)
class Cited:
    """A passage the answer cites; `good` says whether its source is an expected one (None: nothing expected)."""

    n: Any
    good: bool | None
    source: Any
    support: Any
    highlight: Any


@dataclass(frozen=True)
class Passage:
    """A retrieved passage, with its dense score; `title` is its source and section, for the hover text."""

    rank: Any
    good: bool | None
    source: Any
    title: str
    score: float | None


@dataclass(frozen=True)
class Row:
    """One question of the run, as the questions table (and the failing-questions list) shows it.

    `status` is the row's class: pass, "pass warned" or fail. An answer is drawn from its `blocks` (Answer.blocks:
    lead, headings, items and runs of cited sentences, notes), so its citations are data, never parsed out of the
    text; `answer` alone (the error or the refusal) is shown as is."""

    status: str
    anchor: str
    id: Any
    question: str
    expect_refusal: bool
    expected_sources: list[str]
    facts_found: list[Any]
    facts_missing: list[Any]
    failures: list[str]
    warnings: list[str]
    extra: list[tuple[str, Any]]
    answer: Any
    blocks: list[dict[str, Any]] | None
    answered: bool
    reference: Any
    judge: dict[str, Any] | None
    cited: list[Cited]
    retrieved: list[Passage]
    scores: list[Score]
    latency_ms: float | None


@dataclass(frozen=True)
class Refusal:
    """What the chart shows across the metric columns of a question that expects a refusal or failed."""

    ok: bool
    text: str


@dataclass(frozen=True)
class ChartPoint:
    """One question of the chart: its status (pass, warn, fail), its question cut to fit the label column, and
    either a value per chart metric (0..1, None for n/a) or a refusal verdict."""

    status: str
    id: Any
    question: str
    short: str
    values: tuple[float | None, ...]
    refusal: Refusal | None
    false_refusal: bool


@dataclass(frozen=True)
class Chart:
    """The per-question chart: the run's k (for the hit@k column head), the metrics, one point per question."""

    k: Any
    metrics: tuple[ChartMetric, ...]
    points: list[ChartPoint]


def level(value: float, good: float, bad: float, *, lower_better: bool = False) -> str:
    """good, mid or low: a figure against its thresholds (at or past `good`, past `bad`, between)."""
    if lower_better:
        return "good" if value <= good else ("low" if value > bad else "mid")
    return "good" if value >= good else ("low" if value < bad else "mid")


def figure(
    label: str,
    value: Any,
    *,
    spec: str = ".2f",
    good: float | None = None,
    bad: float | None = None,
    lower_better: bool = False,
) -> Figure:
    """A figure card; coloured only when it has thresholds and a value."""
    shade = "" if value is None or good is None or bad is None else level(value, good, bad, lower_better=lower_better)
    return Figure(label, value, spec, shade)


def figures(summary: dict) -> list[Figure]:
    """The run's headline figures, in the order of the grid (the judge's two only when the run had a judge)."""
    m, c, k = summary["metrics"], summary["counts"], summary["run"].get("k")
    cards = [
        figure(f"hit@{k}", m.get(f"hit@{k}"), good=0.9, bad=0.7),
        figure("MRR", m.get("mrr"), good=0.8, bad=0.5),
        figure("key-fact recall", m.get("fact_recall"), good=0.8, bad=0.6),
        figure("similarity", m.get("similarity"), good=0.75, bad=0.5),
        figure("token F1", m.get("token_f1"), good=0.5, bad=0.25),
        figure("citation validity", m.get("citation_validity"), good=0.99, bad=0.9),
        figure(
            f"correct refusals ({c['correct_refusals']}/{c['expected_refusals']})",
            m.get("refusal_accuracy"),
            good=0.99,
            bad=0.6,
        ),
        figure(
            f"false refusals (of {c['answerable']})", m.get("false_refusals"), spec="", good=0, bad=1, lower_better=True
        ),
        figure("latency p50 / ms", m.get("latency_p50_ms"), spec=",.0f"),
        figure("latency p95 / ms", m.get("latency_p95_ms"), spec=",.0f"),
    ]
    if "judge_correctness" in m:
        cards.append(figure("judge correctness", m.get("judge_correctness"), good=4, bad=3))
        cards.append(figure("judge faithfulness", m.get("judge_faithfulness"), good=4, bad=3))
    return cards


def anchor(r: dict) -> str:
    """The row's id in the page (the failing-questions list links to it)."""
    return "q-" + re.sub(r"[^A-Za-z0-9_-]+", "-", str(r.get("id", r.get("line", ""))))


def scores(r: dict, k: Any) -> list[Score]:
    """The per-question scores the row has (a refusal verdict first when one applies), coloured by SCORE_BANDS."""
    pairs: list[tuple[str, Any]] = [
        ("hit@1", r.get("hit@1")),
        (f"hit@{k}", r.get("hit@k")),
        ("RR", r.get("rr")),
        ("similarity", r.get("similarity")),
        ("token F1", r.get("token_f1")),
        ("fact recall", r.get("fact_recall")),
        ("cited sentences", r.get("citation_coverage")),
        ("validity", r.get("citation_validity")),
        ("src precision", r.get("cited_source_precision")),
        ("support", r.get("support")),
    ]
    if r.get("expect_refusal"):
        pairs.insert(0, ("refused", r.get("refused") is True))
    elif r.get("refused"):
        pairs.insert(0, ("answered", False))
    out = []
    for label, v in pairs:
        if v is None:
            continue
        if isinstance(v, bool):
            shade = "ok" if v else "bad"
        else:
            good, bad = SCORE_BANDS.get(label, DEFAULT_SCORE_BAND)
            shade = "ok" if v >= good else ("bad" if v < bad else "warn")
        out.append(Score(label, v, shade))
    return out


def question_row(r: dict, k: Any) -> Row:
    """One result row (results.jsonl) as the questions table shows it."""
    expected = r.get("expected_sources") or []
    cited = [
        Cited(
            c.get("n"),
            source_matches(c.get("source", ""), expected) if expected else None,
            c.get("source"),
            c.get("support"),
            c.get("highlight"),
        )
        for c in r.get("citations") or []
    ]
    retrieved = [
        Passage(
            p.get("rank"),
            source_matches(p.get("source", ""), expected) if expected else None,
            p.get("source"),
            " — ".join(str(x) for x in (p.get("source"), p.get("section")) if x),
            p.get("dense_score") if isinstance(p.get("dense_score"), (int, float)) else None,
        )
        for p in r.get("retrieved") or []
    ]
    # Fields of the questions file the report has no place for (topic, style…) are shown as they came.
    skip = {"id", "facts_found"}
    extra = [
        (key, v) for key, v in r.items() if key not in KNOWN_FIELDS and key not in OUTPUT_FIELDS and key not in skip
    ]
    judge = None
    if r.get("judge_correctness") is not None:
        judge = {
            "correctness": r["judge_correctness"],
            "correctness_reason": r.get("judge_correctness_reason"),
            "faithfulness": r.get("judge_faithfulness"),
            "faithfulness_reason": r.get("judge_faithfulness_reason"),
        }
    answered = not r.get("error") and not r.get("refused")
    return Row(
        status=("pass warned" if r.get("warnings") else "pass") if r.get("passed") else "fail",
        anchor=anchor(r),
        id=r.get("id"),
        question=r["question"],
        expect_refusal=bool(r.get("expect_refusal")),
        expected_sources=expected,
        facts_found=r.get("facts_found") or [],
        facts_missing=r.get("facts_missing") or [],
        failures=r.get("failures") or [],
        warnings=r.get("warnings") or [],
        extra=extra,
        answer=r["error"] if r.get("error") else r.get("answer"),
        # (a run written before answers carried their blocks shows its text as it is)
        blocks=r.get("blocks") or None if answered else None,
        answered=answered,
        reference=r.get("reference"),
        judge=judge,
        cited=cited,
        retrieved=retrieved,
        scores=scores(r, k),
        latency_ms=r.get("latency_ms"),
    )


def chart_point(r: dict) -> ChartPoint:
    """One question of the chart. A question that expects a refusal, or failed with an error, gets its verdict
    instead of bars. A question past 52 characters is cut to 50 and "…" to fit the label column (the whole text is
    its tooltip)."""
    status = "fail" if not r.get("passed") else ("warn" if r.get("warnings") else "pass")
    q = r["question"]
    short = q if len(q) <= 52 else q[:50].rstrip() + "…"
    refusal = None
    if r.get("error"):
        refusal = Refusal(False, "error: " + str(r.get("error"))[:60])
    elif r.get("expect_refusal"):
        ok = r.get("refused") is True
        refusal = Refusal(ok, "expected refusal: refused ✓" if ok else "expected refusal: answered instead ✗")
    values = tuple(
        None if r.get(metric.key) is None else max(0.0, min(1.0, float(r[metric.key]))) for metric in CHART_METRICS
    )
    return ChartPoint(status, r.get("id"), q, short, values, refusal, bool(r.get("refused")))


def chart_points(results: list[dict], k: Any) -> Chart:
    """The per-question chart's data: one point per result, in run order."""
    return Chart(k, CHART_METRICS, [chart_point(r) for r in results])


def view_model(summary: dict, results: list[dict]) -> dict[str, Any]:
    """Everything report.html.j2 reads, from summary.json and the rows of results.jsonl."""
    run, c = summary["run"], summary["counts"]
    k = run.get("k")
    rows = [question_row(r, k) for r in results]
    passed = sum(1 for r in results if r.get("passed"))
    gates = summary.get("gates") or {}
    meta = {key: run.get(key) for key in ("mode", "started", "seconds", "questions_file", "judge")}
    return {
        "meta": {**meta, "k": k, "questions": c["questions"], "passed": passed, "failed": c["questions"] - passed},
        "gates": {"failed": gates.get("failed") or [], "thresholds": gates.get("thresholds") or {}},
        "figures": figures(summary),
        "metric_table": metric_rows(summary),
        "type_table": list((summary.get("by_type") or {}).items()),  # as the terminal shows it
        "verification": verification_line(summary),
        "failing": [row for row in rows if row.status == "fail"],
        "warned": [row for row in rows if row.status == "pass warned"],
        "chart_data": chart_points(results, k),
        "notes": [*(run.get("problems") or []), *(summary.get("warnings") or [])],
        "rows": rows,
    }


def _blank_none(value: Any) -> Any:
    # A field a row may lack (an id, a citation's support) shows as nothing, not as "None".
    return "" if value is None else value


@functools.cache
def environment() -> jinja2.Environment:
    """The report's Jinja2 environment: templates/ of this package, everything escaped, undefined names fatal."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("chat.evaluation", "templates"),
        # Every text on the page comes from a questions file or an answer: escape in .html.j2 and .svg.j2 alike.
        autoescape=jinja2.select_autoescape(("html.j2", "svg.j2"), default=True, default_for_string=True),
        # A field the view model lacks fails the render instead of leaving a blank in the report.
        undefined=jinja2.StrictUndefined,
        finalize=_blank_none,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["fmt"] = format  # {{ value|fmt(",.0f") }}: Python's format spec, as the terminal table uses
    return env


@functools.cache
def stylesheet() -> tuple[str, str]:
    """templates/report.css, to inline, and its CSP source ("sha256-…"): the page allows that stylesheet only."""
    env = environment()
    css, _, _ = env.loader.get_source(env, "report.css")  # read as is: CSS is not a template
    digest = base64.b64encode(hashlib.sha256(css.encode("utf-8")).digest()).decode("ascii")
    return css, f"sha256-{digest}"


def render_report(summary: dict, results: list[dict]) -> str:
    """The report page of a run: one self-contained HTML file (inline CSS and SVG, no script, nothing loaded)."""
    css, css_hash = stylesheet()
    page = environment().get_template("report.html.j2").render(view_model(summary, results), css=css, css_hash=css_hash)
    log.debug("report: %d questions, %d bytes", len(results), len(page))
    return page
