"""The self-contained HTML report of a run (summary cards, a per-question chart, every answer)."""

import html
import re
from typing import Any

from chat.evaluation.dataset import KNOWN_FIELDS, OUTPUT_FIELDS
from chat.evaluation.gates import metric_rows
from chat.evaluation.metrics import source_matches, verification_line

# fmt: off
CHART_METRICS = (("hit@k", "hit@k", "#2563eb"), ("fact_recall", "key-fact recall", "#16a34a"),
                 ("similarity", "similarity", "#9333ea"), ("token_f1", "token F1", "#ea580c"))
# fmt: on


def esc(v: Any) -> str:
    return html.escape("" if v is None else str(v), quote=True)


def _answer_html(text: str) -> str:
    return re.sub(r"\[(\d+)\]", r'<sup class="cite">[\1]</sup>', esc(text))


def _score_cell(v: Any, *, good: float = 0.8, bad: float = 0.5) -> str:
    if v is None:
        return '<span class="na">–</span>'
    if isinstance(v, bool):
        return '<span class="ok">✓</span>' if v else '<span class="bad">✗</span>'
    cls = "ok" if v >= good else ("bad" if v < bad else "warn")
    return f'<span class="{cls}">{v:.2f}</span>'


def _chart_svg(results: list[dict], k: int) -> str:
    """Per-question bars of the main metrics, one small-multiple column per metric (0..1 each); questions that
    expect a refusal show the verdict across the columns instead."""
    label_w, col_w, bar_w, col_gap = 430, 170, 120, 18
    row_h, top, bottom = 24, 40, 10
    width = label_w + len(CHART_METRICS) * (col_w + col_gap)
    height = top + row_h * len(results) + bottom
    parts = [
        f'<svg viewBox="0 0 {width} {height}" width="100%" role="img" aria-label="Per-question metrics" class="chart">'
    ]
    for i in range(len(results)):
        if i % 2 == 0:
            parts.append(f'<rect x="0" y="{top + i * row_h}" width="{width}" height="{row_h}" class="band"/>')
    for c, (_key, label, color) in enumerate(CHART_METRICS):
        x = label_w + c * (col_w + col_gap)
        label = label.replace("hit@k", f"hit@{k}")
        parts.append(
            f'<rect x="{x}" y="14" width="10" height="10" rx="2" fill="{color}"/>'
            f'<text x="{x + 15}" y="23" class="colhead">{esc(label)}</text>'
        )
    parts.append('<text x="10" y="23" class="colhead">question</text>')
    for i, r in enumerate(results):
        y = top + i * row_h
        mid = y + row_h / 2
        status = "s-fail" if not r.get("passed") else ("s-warn" if r.get("warnings") else "s-pass")
        q = r["question"] if len(r["question"]) <= 52 else r["question"][:50].rstrip() + "…"
        parts.append(
            f'<circle cx="14" cy="{mid:.1f}" r="4" class="dot {status}"><title>{status[2:]}</title></circle>'
            f'<text x="26" y="{mid + 4:.1f}" class="qid">{esc(r.get("id"))}</text>'
            f'<text x="84" y="{mid + 4:.1f}" class="qt {status}">{esc(q)}<title>{esc(r["question"])}</title></text>'
        )
        x_first = label_w
        if r.get("expect_refusal") or r.get("error"):
            ok = r.get("refused") is True and not r.get("error")
            text = (
                "error: " + str(r.get("error"))[:60]
                if r.get("error")
                else "expected refusal: refused ✓"
                if ok
                else "expected refusal: answered instead ✗"
            )
            span = len(CHART_METRICS) * (col_w + col_gap) - col_gap
            parts.append(
                f'<rect x="{x_first}" y="{y + 5}" width="{span}" height="{row_h - 10}" rx="3" '
                f'class="{"refok" if ok else "refbad"}"/>'
                f'<text x="{x_first + 8}" y="{mid + 4:.1f}" class="reftext {"on" if ok else ""}">{esc(text)}</text>'
            )
            continue
        for c, (key, label, color) in enumerate(CHART_METRICS):
            x = label_w + c * (col_w + col_gap)
            v = r.get(key)
            parts.append(f'<rect x="{x}" y="{y + 7}" width="{bar_w}" height="{row_h - 14}" rx="2" class="track"/>')
            if v is None:
                parts.append(f'<text x="{x + bar_w + 8}" y="{mid + 4:.1f}" class="val na">n/a</text>')
                continue
            v = max(0.0, min(1.0, float(v)))
            parts.append(
                f'<rect x="{x}" y="{y + 7}" width="{max(1.5, v * bar_w):.1f}" height="{row_h - 14}" rx="2" '
                f'fill="{color}"><title>{esc(r.get("id"))} {esc(label)}: {v:.2f}</title></rect>'
                f'<text x="{x + bar_w + 8}" y="{mid + 4:.1f}" class="val">{v:.2f}</text>'
            )
        if r.get("refused"):
            parts.append(f'<text x="{x_first + 6}" y="{mid + 4:.1f}" class="reftext">false refusal</text>')
    parts.append("</svg>")
    return "".join(parts)


REPORT_CSS = """
:root{--fg:#0f172a;--muted:#64748b;--line:#e2e8f0;--bg:#f8fafc;--ok:#15803d;--okbg:#dcfce7;--bad:#b91c1c;
--badbg:#fee2e2;--warn:#b45309;--warnbg:#fef3c7;--accent:#2563eb}
*{box-sizing:border-box}
body{margin:0;font:14px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:var(--fg);
background:var(--bg)}
main{max-width:1280px;margin:0 auto;padding:28px 32px 60px}
h1{font-size:24px;margin:0 0 4px}
h2{font-size:17px;margin:34px 0 12px;padding-bottom:6px;border-bottom:1px solid var(--line)}
.meta{color:var(--muted);margin:0 0 18px}
.meta b{color:var(--fg);font-weight:600}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(200px,1fr));gap:12px;margin:18px 0}
.card{background:#fff;border:1px solid var(--line);border-radius:10px;padding:12px 14px;border-top:4px solid var(--line)}
.card.good{border-top-color:#22c55e}.card.mid{border-top-color:#f59e0b}.card.low{border-top-color:#ef4444}
.card .v{font-size:24px;font-weight:650;letter-spacing:-.02em}
.card .l{color:var(--muted);font-size:12.5px}
.gates{margin:10px 0;padding:10px 14px;border-radius:8px;background:var(--badbg);color:var(--bad)}
.gates.passed{background:var(--okbg);color:var(--ok)}
.panel{background:#fff;border:1px solid var(--line);border-radius:10px;padding:16px}
table{border-collapse:collapse;width:100%}
.two{display:grid;grid-template-columns:minmax(0,1fr) minmax(0,1fr);gap:24px;align-items:start}
.two h2{margin-top:22px}
.faillist{list-style:none;margin:0;padding:0}
.faillist li{padding:7px 0;border-bottom:1px solid var(--line);font-size:13px}
.faillist li:last-child{border-bottom:0}
.faillist .qid{margin-right:4px;text-decoration:none}
.faillist .why{color:var(--bad);font-size:12px;margin-left:2px}
a{color:var(--accent)}
@media (max-width:900px){.two{grid-template-columns:1fr}}
.agg td,.agg th{padding:5px 10px;border-bottom:1px solid var(--line);text-align:left}
.agg td.num{text-align:right;font-variant-numeric:tabular-nums;font-weight:600}
.agg td.n{color:var(--muted);text-align:right;font-variant-numeric:tabular-nums}
.agg td.grp{color:var(--muted);text-transform:uppercase;font-size:11px;letter-spacing:.06em}
.agg th{font-size:12px;color:var(--muted);font-weight:600}
.chart{display:block;max-width:100%;height:auto}
.chart text{font-size:12px;fill:#334155}
.chart .colhead{font-size:12px;font-weight:600;fill:#475569}
.chart .qid{font-weight:700;fill:#0f172a;font-size:11.5px}
.chart .qt.s-fail{fill:#b91c1c}
.chart .val{font-size:11.5px;fill:#334155;font-variant-numeric:tabular-nums}.chart .val.na{fill:#94a3b8}
.chart .band{fill:#f8fafc}.chart .track{fill:#eef2f7}
.chart .dot.s-pass{fill:#22c55e}.chart .dot.s-warn{fill:#f59e0b}.chart .dot.s-fail{fill:#ef4444}
.chart .refok{fill:#dcfce7}.chart .refbad{fill:#fee2e2}
.chart .reftext{font-size:11.5px;fill:#b91c1c;font-weight:600}.chart .reftext.on{fill:#166534}
.filter{display:flex;gap:16px;align-items:center;margin:0 0 10px;color:var(--muted)}
.filter label{cursor:pointer;user-select:none;display:inline-flex;align-items:center;gap:8px}
.toggle{position:absolute;opacity:0;pointer-events:none}
.filter .box{width:15px;height:15px;border:1.5px solid #94a3b8;border-radius:4px;background:#fff;display:inline-block}
.toggle:checked ~ .filter .box{background:var(--accent);border-color:var(--accent);box-shadow:inset 0 0 0 2px #fff}
.toggle:focus-visible ~ .filter .box{outline:2px solid var(--accent);outline-offset:2px}
#onlyfail:checked ~ table tr.pass{display:none}
.qs{background:#fff;border:1px solid var(--line);border-radius:10px;overflow:hidden;table-layout:fixed}
.qs th{background:#f1f5f9;text-align:left;font-size:12px;color:#475569;padding:8px 10px;border-bottom:1px solid var(--line)}
.qs>tbody>tr>td{vertical-align:top;padding:10px;border-bottom:1px solid var(--line);overflow-wrap:anywhere}
.qs>tbody>tr.fail>td:first-child{box-shadow:inset 4px 0 0 #ef4444}
.qs>tbody>tr.pass>td:first-child{box-shadow:inset 4px 0 0 #22c55e}
.qs>tbody>tr.fail{background:#fffafa}
.qs>tbody>tr.pass.warned>td:first-child{box-shadow:inset 4px 0 0 #f59e0b}
.qid{font-weight:700;font-size:12px;color:#334155}
.q{font-weight:600;margin:2px 0 6px}
.small{font-size:12px;color:var(--muted)}
.tag{display:inline-block;font-size:11px;padding:1px 7px;border-radius:99px;background:#f1f5f9;color:#475569;margin:2px 4px 2px 0}
.tag.ok{background:var(--okbg);color:var(--ok)}.tag.bad{background:var(--badbg);color:var(--bad)}
.tag.src{background:#eff6ff;color:#1d4ed8;max-width:100%;overflow:hidden;text-overflow:ellipsis;white-space:nowrap;
vertical-align:bottom}
.fails{margin:6px 0 0;padding:0;list-style:none}
.fails li{background:var(--badbg);color:var(--bad);border-radius:6px;padding:3px 8px;margin:4px 0;font-size:12.5px}
.fails li.w{background:var(--warnbg);color:var(--warn)}
.answer{margin:0}
.answer.refused{color:var(--muted);font-style:italic}
sup.cite{color:var(--accent);font-weight:600;font-size:10px}
details{margin-top:6px}
summary{cursor:pointer;color:var(--accent);font-size:12px}
.ref{font-size:12.5px;color:#334155;background:#f8fafc;border-left:3px solid #cbd5e1;padding:6px 8px;margin:6px 0 0}
.ev{font-size:12.5px}
.evh{font-weight:600;margin:0 0 2px;font-size:12px;color:#334155}
.evh ~ .evh{margin-top:8px}
.cit,.ret{white-space:nowrap;overflow:hidden}
.cit{margin:2px 0 5px}
.ev .n{display:inline-block;min-width:22px;color:var(--muted);font-variant-numeric:tabular-nums}
.ev .src{display:inline-block;max-width:calc(100% - 70px);overflow:hidden;text-overflow:ellipsis;vertical-align:bottom;
margin-left:3px}
.ev .sc{color:var(--muted);font-size:11.5px;font-variant-numeric:tabular-nums}
.hl{color:#475569;font-size:12px;white-space:normal;margin-left:22px;font-style:italic}
.scores{width:100%}
.scores td{padding:1px 0;border:0;font-size:12px;white-space:nowrap;color:#475569}
.scores td:last-child{text-align:right;font-variant-numeric:tabular-nums;padding-left:6px}
.ok{color:var(--ok);font-weight:600}.bad{color:var(--bad);font-weight:600}.warn{color:var(--warn);font-weight:600}
.na{color:#94a3b8}
footer{color:var(--muted);font-size:12px;margin-top:30px}
"""


def _card(
    label: str,
    value: Any,
    *,
    fmt: str = "{:.2f}",
    good: float | None = None,
    bad: float | None = None,
    lower_better: bool = False,
) -> str:
    if value is None:
        return f'<div class="card"><div class="v">n/a</div><div class="l">{esc(label)}</div></div>'
    cls = ""
    if good is not None and bad is not None:
        if lower_better:
            cls = "good" if value <= good else ("low" if value > bad else "mid")
        else:
            cls = "good" if value >= good else ("low" if value < bad else "mid")
    return (
        f'<div class="card {cls}"><div class="v">{esc(fmt.format(value))}</div><div class="l">{esc(label)}</div></div>'
    )


def _anchor(r: dict) -> str:
    return "q-" + re.sub(r"[^A-Za-z0-9_-]+", "-", str(r.get("id", r.get("line", ""))))


def render_report(summary: dict, results: list[dict]) -> str:
    """A self-contained HTML page: no external resource, inline CSS and SVG; every text is escaped."""
    run, m, c = summary["run"], summary["metrics"], summary["counts"]
    k = run.get("k")
    passed = sum(1 for r in results if r.get("passed"))
    meta_bits = [
        f"<b>{c['questions']}</b> questions",
        f"<b>{passed}</b> passed",
        f"mode <b>{esc(run.get('mode'))}</b>",
        f"k = <b>{esc(k)}</b>",
        f"started <b>{esc(run.get('started'))}</b>",
        f"{esc(run.get('seconds'))} s",
    ]
    if run.get("questions_file"):
        meta_bits.append(f"file <b>{esc(run['questions_file'])}</b>")
    if run.get("judge"):
        meta_bits.append(f"judge <b>{esc(run['judge'])}</b>")
    cards = [
        _card(f"hit@{k}", m.get(f"hit@{k}"), good=0.9, bad=0.7),
        _card("MRR", m.get("mrr"), good=0.8, bad=0.5),
        _card("key-fact recall", m.get("fact_recall"), good=0.8, bad=0.6),
        _card("similarity", m.get("similarity"), good=0.75, bad=0.5),
        _card("token F1", m.get("token_f1"), good=0.5, bad=0.25),
        _card("citation validity", m.get("citation_validity"), good=0.99, bad=0.9),
        _card(
            f"correct refusals ({c['correct_refusals']}/{c['expected_refusals']})",
            m.get("refusal_accuracy"),
            good=0.99,
            bad=0.6,
        ),
        _card(
            f"false refusals (of {c['answerable']})",
            m.get("false_refusals"),
            fmt="{}",
            good=0,
            bad=1,
            lower_better=True,
        ),
        _card("latency p50 / ms", m.get("latency_p50_ms"), fmt="{:,.0f}"),
        _card("latency p95 / ms", m.get("latency_p95_ms"), fmt="{:,.0f}"),
    ]
    if "judge_correctness" in m:
        cards.append(_card("judge correctness", m.get("judge_correctness"), good=4, bad=3))
        cards.append(_card("judge faithfulness", m.get("judge_faithfulness"), good=4, bad=3))

    agg = [
        '<table class="agg"><tr><th></th><th>metric</th><th style="text-align:right">value</th>'
        '<th style="text-align:right">n</th></tr>'
    ]
    last = None
    for group, label, value, n in metric_rows(summary):
        agg.append(
            f'<tr><td class="grp">{esc(group if group != last else "")}</td><td>{esc(label)}</td>'
            f'<td class="num">{esc(value)}</td><td class="n">{esc(n)}</td></tr>'
        )
        last = group
    agg.append("</table>")
    if summary.get("by_type"):  # the per-type table, as the terminal shows it
        agg.append(
            '<table class="agg"><tr><th>question type</th><th class="num">n</th><th class="num">key facts</th>'
            '<th class="num">cited-source precision</th><th class="num">false refusals</th>'
            '<th class="num">correct refusals</th></tr>'
        )
        for name, t in summary["by_type"].items():

            def cell(v: Any) -> str:
                return "–" if v is None else f"{v:.3f}"

            agg.append(
                f'<tr><td>{esc(name)}</td><td class="num">{t["questions"]}</td>'
                f'<td class="num">{cell(t["fact_recall"])}</td>'
                f'<td class="num">{cell(t["cited_source_precision"])}</td>'
                f'<td class="num">{t["false_refusals"]}/{t["answerable"]}</td>'
                f'<td class="num">{t["correct_refusals"]}/{t["expected_refusals"]}</td></tr>'
            )
        agg.append("</table>")
    if verification_line(summary):
        agg.append(f'<p class="verification">{esc(verification_line(summary))}</p>')

    rows_html = []
    for r in results:
        cls = ("pass warned" if r.get("warnings") else "pass") if r.get("passed") else "fail"
        q = [f'<div class="qid">{esc(r.get("id"))}</div><div class="q">{esc(r["question"])}</div>']
        tags = []
        if r.get("expect_refusal"):
            tags.append('<span class="tag">expects refusal</span>')
        for s in r.get("expected_sources") or []:
            tags.append(f'<span class="tag src" title="{esc(s)}">{esc(s)}</span>')
        for f in r.get("facts_found") or []:
            tags.append(f'<span class="tag ok">✓ {esc(f)}</span>')
        for f in r.get("facts_missing") or []:
            tags.append(f'<span class="tag bad">✗ {esc(f)}</span>')
        q.append("<div>" + "".join(tags) + "</div>")
        if r.get("failures") or r.get("warnings"):
            q.append(
                '<ul class="fails">'
                + "".join(f"<li>{esc(f)}</li>" for f in r.get("failures") or [])
                + "".join(f'<li class="w">{esc(f)}</li>' for f in r.get("warnings") or [])
                + "</ul>"
            )
        extra = {
            key: v
            for key, v in r.items()
            if key not in KNOWN_FIELDS and key not in OUTPUT_FIELDS and key not in ("id", "facts_found")
        }
        if extra:
            q.append('<div class="small">' + " · ".join(f"{esc(key)}: {esc(v)}" for key, v in extra.items()) + "</div>")

        if r.get("error"):
            a = [f'<p class="answer refused">{esc(r["error"])}</p>']
        elif r.get("refused"):
            a = [f'<p class="answer refused">{esc(r.get("answer"))}</p>']
        else:
            a = [f'<p class="answer">{_answer_html(r.get("answer", ""))}</p>']
        if r.get("reference"):
            a.append(
                f'<details><summary>reference answer</summary><div class="ref">{esc(r["reference"])}</div></details>'
            )
        if r.get("judge_correctness") is not None:
            a.append(
                f'<div class="small">judge: correctness {esc(r["judge_correctness"])}/5 — '
                f"{esc(r.get('judge_correctness_reason'))}<br>faithfulness {esc(r['judge_faithfulness'])}/5 — "
                f"{esc(r.get('judge_faithfulness_reason'))}</div>"
            )

        expected = r.get("expected_sources") or []
        ev = ['<div class="ev">']
        if r.get("citations"):
            ev.append('<div class="evh">Cited</div>')
            for cit in r["citations"]:
                good = source_matches(cit.get("source", ""), expected) if expected else None
                mark = "" if good is None else ('<span class="ok">✓</span>' if good else '<span class="bad">✗</span>')
                ev.append(
                    f'<div class="cit"><span class="n">[{esc(cit.get("n"))}]</span>{mark} '
                    f'<span class="src" title="{esc(cit.get("source"))}">{esc(cit.get("source"))}</span>'
                    f' <span class="sc">{esc(cit.get("support"))}</span>'
                    f'<div class="hl">“{esc(cit.get("highlight"))}”</div></div>'
                )
        if r.get("retrieved"):
            ev.append('<div class="evh">Retrieved <span class="small">(dense cosine)</span></div>')
            for ret in r["retrieved"]:
                good = source_matches(ret.get("source", ""), expected) if expected else None
                mark = "" if good is None else ('<span class="ok">✓</span>' if good else '<span class="na">·</span>')
                score = ret.get("dense_score")
                title = " — ".join(str(x) for x in (ret.get("source"), ret.get("section")) if x)
                ev.append(
                    f'<div class="ret"><span class="n">{esc(ret.get("rank"))}.</span>{mark} '
                    f'<span class="src" title="{esc(title)}">{esc(ret.get("source"))}</span> <span class="sc">'
                    f"{format(score, '.2f') if isinstance(score, (int, float)) else ''}</span></div>"
                )
        ev.append("</div>")

        scores = [
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
            scores.insert(0, ("refused", r.get("refused") is True))
        elif r.get("refused"):
            scores.insert(0, ("answered", False))
        scores = [(label, v) for label, v in scores if v is not None]
        sc = ['<table class="scores">']
        for label, v in scores:
            thresholds = {"token F1": (0.5, 0.25), "similarity": (0.75, 0.5)}.get(label, (0.8, 0.5))
            sc.append(f"<tr><td>{esc(label)}</td><td>{_score_cell(v, good=thresholds[0], bad=thresholds[1])}</td></tr>")
        lat = r.get("latency_ms")
        sc.append(f"<tr><td>latency</td><td>{'–' if lat is None else f'{lat:,.0f} ms'}</td></tr></table>")
        rows_html.append(
            f'<tr class="{cls}" id="{esc(_anchor(r))}"><td>{"".join(q)}</td><td>{"".join(a)}</td><td>{"".join(ev)}</td>'
            f"<td>{''.join(sc)}</td></tr>"
        )

    fl = []
    for r in results:
        if r.get("passed"):
            continue
        fl.append(
            f'<li><a href="#{esc(_anchor(r))}" class="qid">{esc(r.get("id"))}</a> {esc(r["question"])}'
            + "".join(f'<div class="why">{esc(f)}</div>' for f in r.get("failures") or [])
            + "</li>"
        )
    failing = f'<ul class="faillist">{"".join(fl)}</ul>' if fl else '<p class="ok">Every question passed.</p>'
    warned = [r for r in results if r.get("passed") and r.get("warnings")]
    if warned:
        failing += (
            '<p class="small">With warnings only: '
            + ", ".join(f'<a href="#{esc(_anchor(r))}">{esc(r.get("id"))}</a>' for r in warned)
            + "</p>"
        )
    problems = run.get("problems") or []
    gate_html = ""
    gates = summary.get("gates") or {}
    if gates.get("failed"):
        gate_html = '<div class="gates"><b>Failed gates:</b> ' + "; ".join(esc(g) for g in gates["failed"]) + "</div>"
    elif gates.get("thresholds"):
        gate_html = (
            '<div class="gates passed"><b>All gates passed:</b> '
            + ", ".join(f"{esc(key)} {esc(v)}" for key, v in gates["thresholds"].items())
            + "</div>"
        )
    notes = ""
    if problems or summary.get("warnings"):
        items = [f"<li>{esc(p)}</li>" for p in [*problems, *(summary.get("warnings") or [])]]
        notes = f"<h2>Input problems and warnings</h2><ul>{''.join(items)}</ul>"
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Chatbot evaluation — {esc(run.get("started"))}</title>
<style>{REPORT_CSS}</style></head>
<body><main>
<h1>Chatbot evaluation</h1>
<p class="meta">{" · ".join(meta_bits)}</p>
{gate_html}
<div class="cards">{"".join(cards)}</div>
<div class="two">
<section><h2>Aggregate metrics</h2><div class="panel">{"".join(agg)}</div></section>
<section><h2>Failing questions ({c["questions"] - passed})</h2><div class="panel">{failing}</div></section>
</div>
<h2>Per question</h2>
<div class="panel">{_chart_svg(results, k)}</div>
{notes}
<h2>Questions, answers and evidence</h2>
<input type="checkbox" id="onlyfail" class="toggle">
<div class="filter"><label for="onlyfail"><span class="box"></span>show only failing questions ({c["questions"] - passed} of {c["questions"]})</label></div>
<table class="qs">
<colgroup><col style="width:24%"><col style="width:37%"><col style="width:24%"><col style="width:15%"></colgroup>
<tr><th>Question, expectations, failures</th><th>Answer</th><th>Evidence</th><th>Scores</th></tr>
{"".join(rows_html)}
</table>
<footer>Generated by chat/evaluation/. Similarity: cosine of the bundled embedding model; token F1: SQuAD
normalisation; fact recall: case-insensitive match of must_include items; citation validity: every [n] in range and
pointing at a retrieved passage.</footer>
</main></body></html>
"""
