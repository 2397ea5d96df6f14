"""The HTML report of an evaluation run (chat/evaluation/report.py and its templates), rendered for real: what a
questions file or an answer holds is escaped, the page loads nothing, a field the view model lacks fails the
render, the chart macro draws one point per question, and (in headless Chromium) the page is styled under its own
Content-Security-Policy and fits a phone.

    python -m pytest tests/test_report.py
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from html.parser import HTMLParser
from importlib import resources
from pathlib import Path

import jinja2
import numpy as np
import pytest

from chat import evaluation as ev
from chat.evaluation import report
from chat.schema import Answer

try:
    from tests.test_evaluate import answer
except ImportError:  # run with tests/ itself on sys.path
    from test_evaluate import answer

ROOT = Path(__file__).resolve().parents[1]

NASTY_QUESTION = 'Is "<script>alert(1)</script>" & <b>this</b> a question?'
NASTY_ANSWER = 'It says "<script>alert(2)</script>" & <img src=x onerror=alert(3)>. [1] Then more. [2]'
NASTY_SOURCE = 'we"ird <b>name</b>.txt'
SOURCE = "news/a.txt"


class Page(HTMLParser):
    """Every element (tag and attributes), and the text inside the elements of each class and of each tag."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.open: list[tuple[str, list[str]]] = []
        self.texts: dict[str, list[str]] = {}
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.handle_startendtag(tag, attrs)
        self.open.append((tag, (dict(attrs).get("class") or "").split()))

    def handle_startendtag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))

    def handle_endtag(self, tag):
        while self.open and self.open.pop()[0] != tag:
            pass

    def handle_data(self, data):
        for key in {key for tag, classes in self.open for key in (f"<{tag}>", *classes)}:
            self.texts.setdefault(key, []).append(data)

    def text(self, key: str) -> str:
        """The text inside elements of class `key`, or of tag `key` written "<tag>"."""
        return "".join(self.texts.get(key, []))

    def tags(self, tag: str, cls: str | None = None) -> list[dict[str, str | None]]:
        return [a for t, a in self.elements if t == tag and (cls is None or cls in (a.get("class") or "").split())]


class Scripted:
    """ask() returns the scripted answer of a question (the seam run_eval asks through)."""

    def __init__(self, script: dict) -> None:
        self.script = script

    def ask(self, question, history=None):
        return self.script[question]


def same_everywhere(texts: list[str]) -> np.ndarray:
    return np.ones((len(texts), 3))  # one vector for every text: similarity is not what these tests are about


def cited(n: int, source: str) -> dict:
    return {"n": n, "source": source, "chunk_id": f"c{n}", "support": 1.0, "highlight": f"passage {n}", "quote": ""}


def found(source: str) -> dict:
    return {"source": source, "chunk_id": "c1", "score": 0.03, "dense_score": 0.5, "section": "S"}


def answered(text: str, sources: list[str], refused: bool = False) -> Answer:
    """An `Answer` that reads as `text` ("Sentence. [1] Sentence. [2]"; a refusal: its message)."""
    return answer(
        text,
        refused=refused,
        citations=[cited(n, s) for n, s in enumerate(sources, 1)],
        retrieved=[found(s) for s in sources],
    )


@pytest.fixture
def run(tmp_path) -> tuple[dict, list[dict], str]:
    """A three-question run through run_eval: an answer and a question full of markup, a plain answer, a refusal."""
    rows = [
        {"question": NASTY_QUESTION, "expected_sources": [NASTY_SOURCE], "must_include": ["more"], "type": "fact"},
        {
            "question": "How cheap are small caps?",
            "expected_sources": [SOURCE],
            "must_include": ["15.6"],
            "type": "fact",
        },
        {"question": "What is the capital of France?", "expect_refusal": True, "type": "out_of_scope"},
    ]
    for i, row in enumerate(rows, 1):
        row.update(id=f"q{i}", line=i)
        row.setdefault("reference", None)
        row.setdefault("expect_refusal", False)
    script = {
        rows[0]["question"]: answered(NASTY_ANSWER, [NASTY_SOURCE, SOURCE]),
        rows[1]["question"]: answered("They trade at 15.6 times earnings. [1]", [SOURCE]),
        rows[2]["question"]: answered("Sorry, the articles I have don't cover that.", [], refused=True),
    }
    summary = ev.run_eval(Scripted(script), same_everywhere, rows, tmp_path, k=5, progress=False, warmup=False)
    results = [json.loads(line) for line in (tmp_path / "results.jsonl").read_text(encoding="utf-8").splitlines()]
    return summary, results, (tmp_path / "report.html").read_text(encoding="utf-8")


def test_questions_answers_and_sources_are_escaped(run):
    _, _, html = run
    assert "<script" not in html.lower() and "<img" not in html.lower() and "<b>this" not in html
    page = Page(html)
    assert NASTY_QUESTION in page.text("q")  # shown as written, as text
    answer = page.text("answer")
    assert 'It says "<script>alert(2)</script>" & <img src=x onerror=alert(3)>.[1] Then more.[2]' in answer
    # The answer's [n] markers are the only elements drawn inside it: the markup it contains stayed text.
    assert [a.get("class") for a in page.tags("sup")] == ["cite"] * 3  # [1] and [2] here, [1] in q2
    assert "this" not in page.text("<b>") and "alert" not in page.text("<b>")  # the page's own <b>s only
    # In attributes too: the hover text of the expected source and of the cited one is the name as it is.
    assert [a["title"] for a in page.tags("span", "src")].count(NASTY_SOURCE) == 2


def test_the_page_loads_nothing_and_inlines_its_stylesheet(run):
    _, _, html = run
    page = Page(html)
    for tag, attrs in page.elements:
        assert "src" not in attrs and "srcset" not in attrs and "style" not in attrs, (tag, attrs)
        for name in ("href", "action", "xlink:href", "data", "poster"):
            assert attrs.get(name) is None or attrs[name].startswith("#"), (tag, name, attrs[name])
    assert not re.search(r"<(?:link|script|img|iframe|object|embed)\b|@import|url\(", html, re.I)
    css = resources.files("chat.evaluation").joinpath("templates/report.css").read_text(encoding="utf-8")
    assert page.text("<style>") == css  # the stylesheet itself, inline, unchanged
    # The Content-Security-Policy allows nothing but that stylesheet (so the browser applies it).
    (csp,) = [a["content"] for a in page.tags("meta") if a.get("http-equiv") == "Content-Security-Policy"]
    digest = base64.b64encode(hashlib.sha256(css.encode("utf-8")).digest()).decode("ascii")
    assert csp == f"default-src 'none'; style-src 'sha256-{digest}'"


def test_a_missing_field_fails_the_render(run):
    summary, results, _ = run
    template = report.environment().get_template("report.html.j2")
    css, css_hash = report.stylesheet()
    view = report.view_model(summary, results)
    assert template.render(view, css=css, css_hash=css_hash)  # the whole view model renders
    for field in ("figures", "rows", "chart_data", "meta"):
        with pytest.raises(jinja2.UndefinedError):
            template.render({key: v for key, v in view.items() if key != field}, css=css, css_hash=css_hash)
    # A row of the per-type table without a count fails too, instead of printing a blank.
    del summary["by_type"]["fact"]["answerable"]
    with pytest.raises(jinja2.UndefinedError, match="answerable"):
        report.render_report(summary, results)


def test_the_chart_draws_one_point_and_one_bar_per_question():
    rows = [{"id": f"q{i}", "question": f"question {i}", "passed": i != 3, "fact_recall": i / 6} for i in range(7)]
    rows.append({"id": "r", "question": "refuse me", "passed": True, "expect_refusal": True, "refused": True})
    chart = report.environment().get_template("chart.svg.j2").module.chart
    page = Page(str(chart(report.chart_points(rows, 5))))
    assert len(page.tags("circle")) == len(page.tags("g", "point")) == len(rows)
    assert [a["class"] for a in page.tags("circle")] == ["dot s-pass"] * 3 + ["dot s-fail"] + ["dot s-pass"] * 4
    # fact recall is the only metric these rows have: one bar each, as long as its value (120 px for 1.0).
    bars = page.tags("rect", "bar")
    assert [float(b["width"]) for b in bars] == [1.5] + [round(120 * i / 6, 1) for i in range(1, 7)]
    assert {b["fill"] for b in bars} == {"#16a34a"}
    assert len(page.tags("text", "na")) == 7 * 3  # the three other metrics: n/a
    assert len(page.tags("rect", "refok")) == 1 and "expected refusal: refused ✓" in page.text("reftext")
    assert page.tags("svg")[0]["viewbox"] == f"0 0 {430 + 4 * 188} {40 + 24 * len(rows) + 10}"


def test_citations_are_drawn_from_the_answers_blocks_not_its_text(run):
    """A sentence's citations are data (Answer.blocks): each is a superscript; brackets in the words stay words."""
    summary, results, _ = run
    row = dict(results[1])
    row["blocks"] = [
        {"kind": "lead", "text": "Two things [3]:", "label": "", "pieces": []},
        {
            "kind": "item",
            "text": "",
            "label": "Innodata",
            "pieces": [{"sentence": 0, "text": "It rose.", "citations": [1, 2]}],
        },
        {"kind": "note", "text": "This is not investment advice.", "label": "", "pieces": []},
    ]
    page = Page(report.render_report(summary, [row]))
    assert [a.get("class") for a in page.tags("sup")] == ["cite", "cite"]  # [1] and [2]; the lead's "[3]" is text
    assert "Two things [3]:" in page.text("lead") and "Innodata — It rose.[1][2]" in page.text("item")
    assert page.text("note") == "This is not investment advice."


@pytest.mark.browser
def test_the_report_is_styled_under_its_policy_and_fits_a_phone(run, tmp_path, browser):
    path = tmp_path / "report.html"
    artifacts = ROOT / "test-artifacts"
    artifacts.mkdir(exist_ok=True)
    for name, width, height in (("desktop", 1280, 900), ("phone", 390, 844)):
        page = browser.new_page(viewport={"width": width, "height": height})
        try:
            blocked: list[str] = []
            page.on("console", lambda m, blocked=blocked: blocked.append(m.text))
            requests: list[str] = []
            page.on("request", lambda r, requests=requests: requests.append(r.url))
            page.goto(path.as_uri())
            assert all(url == path.as_uri() for url in requests) and not blocked, (requests, blocked)
            # The stylesheet applied (a CSP that blocked it would leave the cards unstyled).
            assert page.eval_on_selector(".card", "e => getComputedStyle(e).borderTopWidth") != "0px"
            assert page.evaluate("document.documentElement.scrollWidth") <= width
            tops = page.eval_on_selector_all(".card", "cs => cs.map(c => Math.round(c.getBoundingClientRect().top))")
            per_row = tops.count(tops[0])
            assert per_row == (5 if name == "desktop" else 3), tops
            page.screenshot(path=str(artifacts / f"report-{name}.png"))
        finally:
            page.close()
