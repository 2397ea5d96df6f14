"""chat/evaluation/: metrics on hand-made cases, input formats, gates, compare, the HTML report, the judge against
the local OpenAI stub, and one end-to-end evaluation of corpus/faq.jsonl over the real corpus.

    python -m pytest tests/test_evaluate.py
"""

from __future__ import annotations

import csv
import json
import re
import uuid
from pathlib import Path

import numpy as np
import pytest

import app as app_module
from chat import evaluation as ev
from chat.evaluation.runner import similarities
from chat.schema import Answer, SentenceInfo

try:
    from tests.openai_stub import OpenAIStub
except ImportError:  # run with tests/ itself on sys.path
    from openai_stub import OpenAIStub

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "corpus"
DATA = Path(__file__).resolve().parent / "data" / "eval"
A, B = "news/a.txt", "b.txt"


# --- helpers: a scripted assistant and a toy embedding -----------------------------------------------


def cit(n: int, source: str, chunk: str, support: float = 1.0) -> dict:
    return {
        "n": n,
        "source": source,
        "chunk_id": chunk,
        "support": support,
        "title": "T",
        "section": "",
        "highlight": f"highlight {n}",
        "quote": f"passage {chunk}",
    }


def ret(source: str, chunk: str, score: float = 0.03) -> dict:
    return {"source": source, "chunk_id": chunk, "score": score, "dense_score": 0.5, "title": "T", "section": "S"}


def answer(
    text: str,
    *,
    refused: bool = False,
    citations: list | None = None,
    retrieved: list | None = None,
    sentences: list | None = None,
) -> Answer:
    """An `Answer` that reads as `text`: "Sentence. [1] Sentence. [2]" taken as cited sentences (a refusal: its
    message), unless `sentences` are given."""
    if sentences is None and not refused:
        sentences = []
        for part in re.split(r"(?<=[.!?\]])\s+(?=[^\[])", text):
            numbers = [int(n) for n in re.findall(r"\[(\d+)\]", part)]
            sentences.append({"text": re.sub(r"\s*\[\d+\]", "", part).strip(), "citations": numbers, "support": 1.0})
    return Answer(
        question="q",
        refused=refused,
        refusal_reason="not_covered" if refused else None,
        notes=[text] if refused else [],
        citations=citations or [],
        retrieved=retrieved or [],
        sentences=sentences or [],
        mode="extractive",
        latency_ms=1.0,
    )


class FakeAssistant:
    """ask() returns the scripted answer of a question; an Exception value is raised instead."""

    def __init__(self, script: dict):
        self.script = script
        self.asked: list[str] = []

    def ask(self, question, history=None):
        self.asked.append(question)
        out = self.script[question]
        if isinstance(out, Exception):
            raise out
        return out


def toy_embed(texts: list[str]) -> np.ndarray:
    """Bag of lower-case letters: identical texts have cosine 1, texts without a shared letter 0."""
    out = np.zeros((len(texts), 26))
    for i, t in enumerate(texts):
        for ch in t.lower():
            if "a" <= ch <= "z":
                out[i, ord(ch) - 97] += 1
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    return out / np.where(norms == 0, 1, norms)


REFUSAL = "Sorry, the articles I have don't cover that."
# fmt: off
GOOD = answer("Small caps trade at 15.6 times earnings. [1] The discount is 31%. [2]",
              citations=[cit(1, A, "a1"), cit(2, A, "a2", 0.8)], retrieved=[ret(A, "a1"), ret(A, "a2"), ret(B, "b1")],
              sentences=[{"text": "Small caps trade at 15.6 times earnings.", "citations": [1], "support": 1.0},
                         {"text": "The discount is 31%.", "citations": [2], "support": 0.8}])
# fmt: on


def rows_for(*specs: dict) -> list[dict]:
    rows = []
    for i, spec in enumerate(specs, 1):
        row = {
            "id": f"q{i}",
            "line": i,
            "reference": None,
            "expected_sources": [],
            "must_include": [],
            "expect_refusal": False,
        }
        row.update(spec)
        rows.append(row)
    return rows


# --- retrieval ---------------------------------------------------------------------------------------


def test_hit_and_reciprocal_rank_perfect_partial_and_zero():
    assert ev.retrieval_metrics([A, B], ["a.txt"], k=5) == {
        "first_hit_rank": 1,
        "hit@1": True,
        "hit@k": True,
        "rr": 1.0,
    }
    assert ev.retrieval_metrics([B, "x.txt", A], [A], k=5) == {
        "first_hit_rank": 3,
        "hit@1": False,
        "hit@k": True,
        "rr": pytest.approx(1 / 3),
    }
    assert ev.retrieval_metrics([B, "x.txt", A], [A], k=2) == {
        "first_hit_rank": None,
        "hit@1": False,
        "hit@k": False,
        "rr": 0.0,
    }
    assert ev.retrieval_metrics([], [A], k=5)["hit@k"] is False
    assert ev.retrieval_metrics([A], [], k=5) == {"first_hit_rank": None, "hit@1": None, "hit@k": None, "rr": None}


def test_sources_match_by_relative_path_or_file_name():
    assert ev.source_matches("news/a.txt", ["news/a.txt"])
    assert ev.source_matches("news/a.txt", ["a.txt"])
    assert ev.source_matches("news/a.txt", ["./news/A.TXT"])
    assert not ev.source_matches("a.txt", ["other/a.txt"])  # an expected path is more specific than a name
    assert not ev.source_matches("news/a.txt", ["b.txt", "news/b.txt"])
    assert not ev.source_matches("", ["a.txt"])


def test_mrr_over_rows_in_the_summary():
    rows = rows_for(
        {"question": "one", "expected_sources": [A]},
        {"question": "two", "expected_sources": [A]},
        {"question": "three", "expected_sources": ["c.txt"]},
    )
    results = [
        ev.evaluate_row(rows[0], answer("x", retrieved=[ret(A, "1")]), k=5),
        ev.evaluate_row(rows[1], answer("x", retrieved=[ret(B, "1"), ret(A, "2")]), k=5),
        ev.evaluate_row(rows[2], answer("x", retrieved=[ret(B, "1")]), k=5),
    ]
    for r in results:
        r["failures"], r["passed"] = [], True
    m = ev.summarise(results, k=5)["metrics"]
    assert m["mrr"] == pytest.approx(round((1 + 0.5 + 0) / 3, 4))
    assert m["hit@5"] == pytest.approx(round(2 / 3, 4))
    assert m["hit@1"] == pytest.approx(round(1 / 3, 4))


# --- answer metrics ------------------------------------------------------------------------------------


def test_token_f1_squad_style():
    assert ev.token_f1("The cat sat.", "a cat sat") == 1.0  # articles and punctuation do not count
    assert ev.token_f1("dogs bark", "cats meow") == 0.0
    assert ev.token_f1("the cat sat", "a cat sat down") == pytest.approx(0.8)  # P = 1, R = 2/3
    assert ev.token_f1("", "anything") == 0.0
    assert ev.token_f1("“Quoted” — text", '"quoted" text') == 1.0  # Unicode punctuation is punctuation


def test_fact_recall_with_alternatives_case_and_boundaries():
    text = "The Russell 2000 rose 17% over SEVEN straight sessions; small caps trade at 22.6x. [1]"
    assert ev.fact_recall(text, ["17%", "seven straight sessions"]) == (1.0, ["17%", "seven straight sessions"], [])
    recall, found, missing = ev.fact_recall(text, [["7 straight sessions", "seven straight sessions"], "Innodata"])
    assert (recall, found, missing) == (0.5, ["seven straight sessions"], ["Innodata"])
    assert ev.fact_recall(text, ["Amplitude", ["three", "3"]]) == (0.0, [], ["Amplitude", "three | 3"])
    assert ev.fact_recall(text, []) == (None, [], [])
    assert ev.fact_found("22.6", text)  # a number may carry a unit
    assert not ev.fact_found("7", text)  # but is not a piece of another number ("17%")
    assert not ev.fact_found("2000 rose 1", text)
    assert not ev.fact_found("seven", "seventeen days")
    assert ev.fact_found("S&P 500’s valuation", "the s&p 500's   valuation")  # quotes and spacing normalised


def test_similarity_uses_the_embedding_cosine():
    assert similarities(toy_embed, [("abc", "abc"), ("abc", "xyz")]) == [pytest.approx(1.0), pytest.approx(0.0)]
    unnormalised = lambda texts: toy_embed(texts) * 7  # noqa: E731 - rows are normalised anyway
    assert similarities(unnormalised, [("abc", "cab")]) == [pytest.approx(1.0)]


# --- citations -----------------------------------------------------------------------------------------


def sentences(*numbers: list[int]) -> list[SentenceInfo]:
    return [SentenceInfo(text=f"Claim {i}.", citations=ns) for i, ns in enumerate(numbers, 1)]


def test_citations_perfect():
    m = ev.citation_metrics(GOOD.sentences, GOOD.citations, GOOD.retrieved, [A])
    assert m == {
        "citation_coverage": 1.0,
        "citation_validity": 1.0,
        "invalid_citations": [],
        "cited_source_precision": 1.0,
    }


def test_citations_out_of_range_unretrieved_and_uncited():
    held = answer("x", citations=[cit(1, A, "a1"), cit(2, B, "gone")], retrieved=[ret(A, "a1")])
    m = ev.citation_metrics(sentences([1], [], [2, 3]), held.citations, held.retrieved, [A])
    assert m["citation_coverage"] == pytest.approx(2 / 3)
    assert m["invalid_citations"] == ["[2]", "[3]"]  # [2] is not a retrieved passage, [3] does not exist
    assert m["citation_validity"] == pytest.approx(1 / 3)
    assert m["cited_source_precision"] == 0.5


def test_citations_zero():
    m = ev.citation_metrics(sentences([], []), [], answer("x", retrieved=[ret(A, "a1")]).retrieved, [A])
    assert m == {
        "citation_coverage": 0.0,
        "citation_validity": None,
        "invalid_citations": [],
        "cited_source_precision": None,
    }
    wrong = answer("Wrong article. [1]", citations=[cit(1, B, "b1")], retrieved=[ret(B, "b1")])
    m = ev.citation_metrics(wrong.sentences, wrong.citations, wrong.retrieved, [A])
    assert (m["citation_validity"], m["cited_source_precision"]) == (1.0, 0.0)


def test_support_is_the_mean_of_sentence_support():
    r = ev.evaluate_row(rows_for({"question": "q"})[0], GOOD, k=5)
    assert r["support"] == pytest.approx(0.9)


# --- refusals and latency --------------------------------------------------------------------------------


def test_refusal_accounting():
    rows = [
        {"expect_refusal": True, "refused": True},
        {"expect_refusal": True, "refused": False},
        {"expect_refusal": True, "refused": None},  # an error is not a refusal
        {"expect_refusal": False, "refused": True},
        {"expect_refusal": False, "refused": False},
        {"expect_refusal": False, "refused": False},
    ]
    assert ev.refusal_metrics(rows) == {
        "expected_refusals": 3,
        "correct_refusals": 1,
        "refusal_accuracy": pytest.approx(1 / 3),
        "answerable": 3,
        "false_refusals": 1,
        "false_refusal_rate": pytest.approx(1 / 3),
    }
    perfect = [{"expect_refusal": True, "refused": True}, {"expect_refusal": False, "refused": False}]
    assert ev.refusal_metrics(perfect)["refusal_accuracy"] == 1.0
    assert ev.refusal_metrics(perfect)["false_refusals"] == 0
    assert ev.refusal_metrics([{"expect_refusal": False, "refused": False}])["refusal_accuracy"] is None


def test_refused_answer_scores_zero_on_answer_metrics():
    row = rows_for({"question": "q", "reference": "15.6 times", "must_include": ["15.6"], "expected_sources": [A]})[0]
    r = ev.evaluate_row(row, answer(REFUSAL, refused=True, retrieved=[ret(A, "a1")]), k=5)
    assert (r["token_f1"], r["fact_recall"], r["false_refusal"], r["refusal_correct"]) == (0.0, 0.0, True, None)
    assert r["hit@k"] is True  # retrieval is still judged
    assert "false refusal" in ev.row_failures(r, 5)


def test_latency_percentiles():
    assert ev.percentile([100, 200, 300, 400, 500], 50) == 300
    assert ev.percentile([100, 200, 300, 400, 500], 95) == pytest.approx(480)
    assert ev.percentile([42], 95) == 42
    assert ev.percentile([], 50) is None
    results = [{"question": str(i), "latency_ms": v, "passed": True} for i, v in enumerate([10, 20, 30, 40])]
    m = ev.summarise(results, k=5)["metrics"]
    assert (m["latency_p50_ms"], m["latency_p95_ms"]) == (25, pytest.approx(38.5))


# --- input formats -------------------------------------------------------------------------------------


def test_jsonl_with_unknown_fields_and_malformed_lines(tmp_path):
    rows, problems = ev.load_questions(DATA / "mixed.jsonl")
    assert [r["question"] for r in rows] == [
        "What is the P/E of the S&P 500?",
        "What is the capital of France?",
        "Which ETF is the largest?",
    ]
    first = rows[0]
    assert first["topic"] == "valuation" and first["priority"] == 2  # unknown fields kept as they are
    assert first["expected_sources"] == ["coinmela-small-caps-strong-start-2026-01-27.txt"]
    assert first["must_include"] == ["28", ["price-to-earnings", "P/E"]]
    assert first["line"] == 1 and first["id"] == "cm-pe"
    assert rows[1]["expect_refusal"] is True and rows[1]["id"] == "q02"
    assert rows[2]["expected_sources"] == ["a.txt", "b.txt"]  # a plain string is split like a CSV cell
    assert rows[2]["input_answer"] == "iShares"  # a field named like an output is kept under another name
    assert [p.split(":")[0] for p in problems] == ["line 3", "line 4", "line 5", "line 6", "line 7", "line 8"]
    assert "invalid JSON" in problems[0]
    assert "question" in problems[1]
    assert "JSON object" in problems[2]
    assert "expect_refusal" in problems[3]
    assert "must_include" in problems[4]
    assert "expected_sources" in problems[5]


def test_csv_with_list_fields(tmp_path):
    rows, problems = ev.load_questions(DATA / "questions.csv")
    by_id = {r["id"]: r for r in rows}
    assert by_id["c1"]["expected_sources"] == ["a.txt", "news/b.txt"]  # '|'-separated
    assert by_id["c2"]["expected_sources"] == ["a.txt", "b.txt"]  # ';'-separated
    assert by_id["c3"]["expected_sources"] == ["a.txt"]  # a JSON list
    assert by_id["c1"]["must_include"] == ["15.6", ["31%", "31 percent"]]  # JSON with alternatives
    assert by_id["c2"]["must_include"] == ["nearly 2%", "January 23"]  # plain cell: '|'-separated
    assert by_id["c1"]["expect_refusal"] is False and by_id["c4"]["expect_refusal"] is True
    assert by_id["c3"]["expect_refusal"] is False  # empty cell
    assert by_id["c1"]["reference"] == "Small caps trade at 15.6 times, a 31% discount."
    assert by_id["c2"]["reference"] is None
    assert by_id["c1"]["topic"] == "valuation"  # unknown column kept
    assert "line 2" not in " ".join(problems)
    # c5 spans lines 6-7 (a quoted newline); the bad rows after it are reported with their own line numbers
    assert by_id["c5"]["question"] == "A question\nover two lines?" and by_id["c5"]["line"] == 6
    assert problems == [
        "line 8: 'expect_refusal' must be true or false, not 'maybe'",
        "line 9: missing or empty 'question'",
        "line 10: 'must_include' is not a valid JSON list (Expecting value: line 1 column 2 (char 1))",
    ]


def test_csv_semicolon_delimited(tmp_path):
    p = tmp_path / "q.csv"
    p.write_text('question;expected_sources;expect_refusal\n"Why?";a.txt|b.txt;yes\n', encoding="utf-8")
    rows, problems = ev.load_questions(p)
    assert problems == [] and rows[0]["expected_sources"] == ["a.txt", "b.txt"] and rows[0]["expect_refusal"] is True


def test_a_file_without_valid_rows_is_a_clear_error(tmp_path):
    with pytest.raises(ev.EvalInputError, match=r"no valid questions in .*bad\.jsonl.*line 1: invalid JSON.*line 2"):
        ev.load_questions(DATA / "bad.jsonl")
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n\n", encoding="utf-8")
    with pytest.raises(ev.EvalInputError, match="empty"):
        ev.load_questions(empty)
    no_column = tmp_path / "q.csv"
    no_column.write_text("prompt,reference\nhi,there\n", encoding="utf-8")
    with pytest.raises(ev.EvalInputError, match="no 'question' column"):
        ev.load_questions(no_column)
    with pytest.raises(FileNotFoundError):
        ev.load_questions(tmp_path / "missing.jsonl")


def test_shipped_faq_dataset_is_valid():
    rows, problems = ev.load_questions(CORPUS / "faq.jsonl")
    assert problems == []
    by_cat: dict[str, list] = {}
    for r in rows:
        by_cat.setdefault(r["category"], []).append(r)
    assert len(by_cat["faq"]) == 4 and all(r["reference"] and r["expected_sources"] for r in by_cat["faq"])
    assert len(by_cat["ainvest"]) >= 4 and len(by_cat["coinmela"]) >= 4
    assert len([r for r in rows if r["expect_refusal"]]) >= 2
    sources = {p.name for p in CORPUS.glob("*.txt")}
    assert all(s in sources for r in rows for s in r["expected_sources"])
    assert len({r["id"] for r in rows}) == len(rows)


# --- run_eval with a scripted assistant --------------------------------------------------------------------


def scripted_run(tmp_path, name="run", overrides: dict | None = None, **kw):
    rows = rows_for(
        {
            "question": "How cheap are small caps?",
            "reference": "Small caps trade at 15.6 times earnings. The discount is 31%.",
            "expected_sources": [A],
            "must_include": ["15.6", "31%"],
            "topic": "valuation",
        },
        {"question": "What is the capital of France?", "expect_refusal": True},
        {
            "question": "Which article wins?",
            "expected_sources": [B],
            "must_include": ["Innodata"],
            "reference": "Innodata.",
        },
        {"question": "Broken <question>?", "must_include": ["x"]},
    )
    script = {
        rows[0]["question"]: GOOD,
        rows[1]["question"]: answer(REFUSAL, refused=True),
        rows[2]["question"]: answer(
            "<script>alert('x')</script> is the answer. [1]", citations=[cit(1, A, "a1")], retrieved=[ret(A, "a1")]
        ),
        rows[3]["question"]: ValueError("the question is too long"),
    }
    script.update(overrides or {})
    assistant = FakeAssistant(script)
    out = tmp_path / name
    summary = ev.run_eval(assistant, toy_embed, rows, out, k=5, progress=False, **kw)
    return summary, out, assistant


def read_results(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "results.jsonl").read_text(encoding="utf-8").splitlines()]


def test_run_eval_writes_every_file_and_scores_every_row(tmp_path):
    summary, out, assistant = scripted_run(tmp_path, meta={"questions_file": "x.jsonl"})
    assert assistant.asked[0] == assistant.asked[1]  # the untimed warm-up asks the first question
    for name in ("results.jsonl", "results.csv", "summary.json", "report.html"):
        assert (out / name).is_file(), name
    assert json.loads((out / "summary.json").read_text()) == summary
    results = read_results(out)
    assert len(results) == 4
    good, refusal, wrong, broken = results
    assert good["topic"] == "valuation" and good["id"] == "q1"  # input fields copied
    assert good["answer"] == GOOD.text and good["refused"] is False
    assert good["plain_answer"] == "Small caps trade at 15.6 times earnings. The discount is 31%."  # no markers
    assert [c["source"] for c in good["citations"]] == [A, A]
    assert [(r["rank"], r["source"], r["score"]) for r in good["retrieved"]] == [
        (1, A, 0.03),
        (2, A, 0.03),
        (3, B, 0.03),
    ]
    assert (good["hit@k"], good["rr"], good["fact_recall"], good["citation_validity"], good["passed"]) == (
        True,
        1.0,
        1.0,
        1.0,
        True,
    )
    assert good["similarity"] > 0.95 and good["token_f1"] == 1.0
    assert good["latency_ms"] is not None
    assert refusal["refusal_correct"] is True and refusal["passed"] is True
    assert wrong["hit@k"] is False and wrong["fact_recall"] == 0.0 and wrong["cited_source_precision"] == 0.0
    assert "missing facts: Innodata" in wrong["failures"]
    assert broken["error"] == "ValueError: the question is too long" and broken["passed"] is False
    assert broken["latency_ms"] is None
    m = summary["metrics"]
    assert m["hit@5"] == 0.5 and m["refusal_accuracy"] == 1.0 and m["false_refusals"] == 0 and m["errors"] == 1
    assert summary["run"]["k"] == 5 and summary["run"]["questions_file"] == "x.jsonl"
    assert summary["run"]["mode"] == "extractive"
    assert {f["id"] for f in summary["failures"]} == {"q3", "q4"}
    with open(out / "results.csv", encoding="utf-8", newline="") as f:
        csv_rows = list(csv.DictReader(f))
    assert len(csv_rows) == 4 and csv_rows[0]["topic"] == "valuation"
    assert csv_rows[0]["expected_sources"] == A and "hit@k" in csv_rows[0] and csv_rows[0]["hit@k"] == "True"
    text = ev.summary_table(summary)
    assert "hit@5" in text and "key-fact recall" in text and "1/1" in text and "q3:" in text


def test_run_eval_without_rows_is_an_error(tmp_path):
    with pytest.raises(ev.EvalInputError):
        ev.run_eval(FakeAssistant({}), toy_embed, [], tmp_path / "x", k=5, progress=False)


def test_a_broken_embedder_only_loses_similarity(tmp_path):
    def broken(texts):
        raise RuntimeError("no model")

    rows = rows_for({"question": "How cheap are small caps?", "reference": "15.6 times", "must_include": ["15.6"]})
    summary = ev.run_eval(
        FakeAssistant({rows[0]["question"]: GOOD}), broken, rows, tmp_path / "x", k=5, progress=False, warmup=False
    )
    assert summary["metrics"]["similarity"] is None and summary["metrics"]["fact_recall"] == 1.0
    assert "no model" in summary["warnings"][0]


# --- gates -------------------------------------------------------------------------------------------------


def gate_summary(**metrics) -> dict:
    base = {
        "hit@1": 0.5,
        "hit@5": 0.75,
        "fact_recall": 0.9,
        "similarity": 0.8,
        "false_refusals": 1,
        "refusal_accuracy": 0.5,
        "citation_validity": 1.0,
    }
    base.update(metrics)
    return {"run": {"k": 5}, "metrics": base, "counts": {}}


def test_gates_pass_and_fail():
    s = gate_summary()
    assert ev.check_gates(s) == []
    assert (
        ev.check_gates(
            s,
            min_hit=0.7,
            min_facts=0.9,
            min_similarity=0.8,
            max_false_refusals=1,
            min_refusal_accuracy=0.5,
            min_citation_validity=1.0,
        )
        == []
    )
    assert ev.check_gates(s, min_hit=0.9) == ["hit@5 0.75 < min 0.9"]
    failed = ev.check_gates(
        s,
        min_hit=0.9,
        min_facts=0.95,
        min_similarity=0.85,
        max_false_refusals=0,
        min_refusal_accuracy=1.0,
        min_citation_validity=1.0,
    )
    assert failed == [
        "hit@5 0.75 < min 0.9",
        "fact_recall 0.9 < min 0.95",
        "similarity 0.8 < min 0.85",
        "refusal_accuracy 0.5 < min 1",
        "false_refusals 1 > max 0",
    ]


def test_gate_on_an_unmeasured_metric_fails():
    s = gate_summary(refusal_accuracy=None)
    assert ev.check_gates(s, min_refusal_accuracy=0.5) == [
        "refusal_accuracy not measured (no applicable questions) but a gate requires min 0.5"
    ]


def test_run_eval_records_gates(tmp_path):
    summary, out, _ = scripted_run(tmp_path, gates={"min_hit": 0.9, "max_false_refusals": 0, "min_facts": None})
    assert summary["gates"] == {
        "thresholds": {"min_hit": 0.9, "max_false_refusals": 0},
        "failed": ["hit@5 0.5 < min 0.9"],
    }
    assert "Failed gates" in (out / "report.html").read_text(encoding="utf-8")


# --- compare -----------------------------------------------------------------------------------------------


def test_compare_runs_reports_metric_and_question_changes(tmp_path):
    _, old, _ = scripted_run(tmp_path, "old")
    fixed = answer("Innodata is the answer. [1]", citations=[cit(1, B, "b1")], retrieved=[ret(B, "b1")])
    refusal = answer(REFUSAL, refused=True, retrieved=[ret(A, "a1")])
    _, new, _ = scripted_run(
        tmp_path, "new", overrides={"How cheap are small caps?": refusal, "Which article wins?": fixed}
    )
    text = ev.compare_runs(new, old)
    assert re.search(r"false_refusals\s+0\s+1\s+\+1\s+worse", text)
    assert re.search(r"hit@5\s+0\.500\s+1\.000\s+\+0\.5\s+better", text)
    assert "q1 [newly failing]" in text and "now: false refusal" in text
    assert "q3 [fixed]" in text and "fact_recall: 0.000 -> 1.000" in text
    assert "q2" not in text and "q4" not in text  # unchanged questions are not listed
    data = json.loads((new / "compare.json").read_text(encoding="utf-8"))
    assert (new / "compare.txt").read_text(encoding="utf-8").strip() == text.strip()
    assert {q["id"]: q["status"] for q in data["questions"]} == {"q1": "newly failing", "q3": "fixed"}
    assert not (old / "compare.json").exists()


def test_compare_runs_orders_by_start_time_and_honours_out_dir(tmp_path):
    _, a, _ = scripted_run(tmp_path, "a")
    _, b, _ = scripted_run(tmp_path, "b")
    for d, started in ((a, "2026-01-02T00:00:00+00:00"), (b, "2026-01-01T00:00:00+00:00")):
        s = json.loads((d / "summary.json").read_text())
        s["run"]["started"] = started
        (d / "summary.json").write_text(json.dumps(s))
    text = ev.compare_runs(b, a, out_dir=tmp_path / "cmp")  # b is older: swapped
    assert "newest-last" in text
    assert json.loads((tmp_path / "cmp" / "compare.json").read_text())["new"] == str(a)
    assert "No per-question differences." in text
    with pytest.raises(FileNotFoundError):
        ev.compare_runs(tmp_path / "cmp", a)


# --- the report ----------------------------------------------------------------------------------------------


def test_report_is_self_contained_and_escaped(tmp_path):
    _, out, _ = scripted_run(tmp_path)
    page = (out / "report.html").read_text(encoding="utf-8")
    assert page.startswith("<!doctype html>") and "<style>" in page and "<svg" in page
    assert not re.search(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", page, re.I)
    assert not re.search(r"<link\b|@import|url\(\s*['\"]?(?:https?:)?//", page, re.I)
    assert "<script" not in page.lower()  # neither ours nor the answer's
    quote = "(?:&#39;|&#x27;)"  # either spelling of '
    assert re.search(rf"&lt;script&gt;alert\({quote}x{quote}\)&lt;/script&gt;", page)
    assert "Broken &lt;question&gt;?" in page
    assert 'id="q-q1"' in page and "hit@5" in page


# --- the judge -----------------------------------------------------------------------------------------------


def test_parse_grades_is_tolerant_but_strict_about_scores():
    nested = '{"correctness": {"score": 4, "reason": "mostly"}, "faithfulness": {"score": 5, "reason": "cited"}}'
    assert ev.parse_grades(nested) == {
        "correctness": 4,
        "correctness_reason": "mostly",
        "faithfulness": 5,
        "faithfulness_reason": "cited",
    }
    fenced = 'Here you go:\n```json\n{"Correctness": {"grade": "3/5", "explanation": "half"}, "faithfulness": 2.0}\n```'
    assert ev.parse_grades(fenced) == {
        "correctness": 3,
        "correctness_reason": "half",
        "faithfulness": 2,
        "faithfulness_reason": "",
    }
    flat = '{"correctness": "5", "correctness_reason": "right", "faithfulness": 1, "faithfulness_reason": "made up"}'
    assert ev.parse_grades(flat)["faithfulness_reason"] == "made up"
    for bad in (
        "",
        "great answer!",
        "[4, 5]",
        '{"correctness": 6, "faithfulness": 3}',
        '{"correctness": 4}',
        '{"correctness": true, "faithfulness": 3}',
        '{"correctness": 3.5, "faithfulness": 3}',
    ):
        with pytest.raises(ev.JudgeError):
            ev.parse_grades(bad)


def test_judge_against_the_openai_stub(tmp_path):
    with OpenAIStub(models=["judge"]) as stub:
        stub.reply(
            json.dumps(
                {
                    "correctness": {"score": 5, "reason": "matches the reference"},
                    "faithfulness": {"score": 4, "reason": "supported"},
                }
            ),
            'Sure! ```json\n{"correctness": {"score": "2", "reason": "wrong"},'
            ' "faithfulness": {"score": 5, "reason": "a refusal"}}\n```',
            "I would rate this answer highly.",
        )
        judge = ev.Judge(base_url=stub.base_url, api_key="sk-test", model="judge", timeout=10, max_retries=0)
        summary, out, _ = scripted_run(tmp_path, judge=judge, warmup=False)
        sent = stub.chat_requests
    results = read_results(out)
    assert len(sent) == 3  # the row whose question failed is not judged
    assert sent[0]["model"] == "judge" and sent[0]["temperature"] == 0
    user = sent[0]["messages"][1]["content"]
    assert "How cheap are small caps?" in user and "Reference answer:" in user and "passage a1" in user
    assert "should refuse" in sent[1]["messages"][1]["content"]
    assert (results[0]["judge_correctness"], results[0]["judge_faithfulness"]) == (5, 4)
    assert results[0]["judge_correctness_reason"] == "matches the reference"
    assert (results[1]["judge_correctness"], results[1]["judge_error"]) == (2, None)
    assert "judge: correctness 2/5" in results[1]["failures"]
    assert results[2]["judge_correctness"] is None and "not a JSON object" in results[2]["judge_error"]
    assert results[3]["judge_error"] is None  # errored question: never sent
    m = summary["metrics"]
    assert (m["judge_correctness"], m["judge_faithfulness"], m["judge_errors"]) == (3.5, 4.5, 1)
    assert summary["run"]["judge"] == "judge"


def test_judge_http_failure_is_recorded_per_row(tmp_path):
    with OpenAIStub() as stub:
        stub.fail(status=500, times=10)
        judge = ev.Judge(base_url=stub.base_url, api_key="sk-test", model="stub", timeout=10, max_retries=0)
        rows = rows_for({"question": "How cheap are small caps?", "reference": "15.6", "must_include": ["15.6"]})
        summary = ev.run_eval(
            FakeAssistant({rows[0]["question"]: GOOD}),
            toy_embed,
            rows,
            tmp_path / "x",
            k=5,
            judge=judge,
            progress=False,
            warmup=False,
        )
    r = read_results(tmp_path / "x")[0]
    assert r["judge_error"].startswith("InternalServerError") and r["fact_recall"] == 1.0
    assert summary["metrics"]["judge_errors"] == 1 and summary["metrics"]["judge_correctness"] is None


# --- end to end on the real corpus ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def real_run(tmp_path_factory, model_path, embedder):
    tmp = tmp_path_factory.mktemp("eval-e2e")
    settings = app_module.Settings(
        _env_file=None,
        corpus_dir=CORPUS,
        chroma_path=tmp / "chroma",
        collection=f"t{uuid.uuid4().hex[:12]}",
        embedding_model=model_path,
        log_level="WARNING",
        chroma_host=None,
        openai_api_key=None,
        openai_base_url=None,
    )
    store = app_module.build_store(settings, embedder)
    app_module.build_indexer(settings, store).run(CORPUS, progress=False)
    assistant = app_module.build_assistant(settings, store)
    rows, problems = ev.load_questions(CORPUS / "faq.jsonl")
    out = tmp / "report"
    summary = ev.run_eval(
        assistant,
        lambda texts: np.asarray(store.embedder.embed_documents(texts)),
        rows,
        out,
        k=settings.top_k,
        progress=False,
        meta={"questions_file": "corpus/faq.jsonl"},
    )
    return summary, out, rows, problems


def test_end_to_end_on_the_shipped_dataset(real_run):
    summary, out, rows, problems = real_run
    assert problems == []
    for name in ("results.jsonl", "results.csv", "summary.json", "report.html"):
        assert (out / name).stat().st_size > 0, name
    results = read_results(out)
    assert len(results) == len(rows) and all(r["category"] for r in results)
    m, c = summary["metrics"], summary["counts"]
    assert m["errors"] == 0 and summary["run"]["mode"] == "extractive"
    assert m["hit@5"] >= 0.9 and m["mrr"] >= 0.8
    assert m["fact_recall"] >= 0.8 and m["similarity"] >= 0.7 and m["token_f1"] >= 0.4
    assert m["citation_validity"] == 1.0 and m["citation_coverage"] == 1.0
    assert m["false_refusals"] == 0
    assert m["refusal_accuracy"] >= 0.6
    assert c["expected_refusals"] >= 2 and c["questions"] == len(rows)
    by_id = {r["id"]: r for r in results}
    for plainly_off_topic in ("no-1", "no-2", "no-3"):
        assert by_id[plainly_off_topic]["refused"] is True, by_id[plainly_off_topic]["answer"]
    for faq in ("faq-1", "faq-2", "faq-3", "faq-4"):  # the article's own FAQ is answered from it
        assert by_id[faq]["fact_recall"] == 1.0 and by_id[faq]["hit@1"] is True, by_id[faq]["answer"]
    assert all(r["latency_ms"] > 0 for r in results)
    assert ev.check_gates(summary, min_hit=0.9, max_false_refusals=0, min_citation_validity=1.0) == []
    page = (out / "report.html").read_text(encoding="utf-8")
    assert all(f'id="q-{r["id"]}"' in page for r in rows)


# --- per question type, and the gates on it ----------------------------------------------------------


def _typed(qtype: str, recall: float | None, refused: bool, expect_refusal: bool = False) -> dict:
    return {
        "id": f"{qtype}-{recall}-{refused}",
        "question": "q",
        "type": qtype,
        "expect_refusal": expect_refusal,
        "refused": refused,
        "fact_recall": recall,
        "cited_source_precision": None if refused else 1.0,
        "passed": True,
        "failures": [],
        "warnings": [],
        "latency_ms": 1.0,
    }


def test_summary_breaks_metrics_down_by_question_type():
    rows = [
        _typed("list", 1.0, False),
        _typed("list", 0.5, False),
        _typed("summary", 0.0, True),
        _typed("near_miss", None, True, expect_refusal=True),
        _typed("near_miss", None, False, expect_refusal=True),
    ]
    by = ev.summarise(rows, k=5)["by_type"]
    assert by["list"] == {
        "questions": 2,
        "answerable": 2,
        "fact_recall": 0.75,
        "cited_source_precision": 1.0,
        "false_refusals": 0,
        "expected_refusals": 0,
        "correct_refusals": 0,
    }
    assert by["summary"]["false_refusals"] == 1 and by["near_miss"]["correct_refusals"] == 1
    assert "by_type" not in ev.summarise([dict(r, type=None) for r in rows], k=5)


def test_type_gate_names_the_weak_type_and_rate_gates_apply():
    summary = ev.summarise([_typed("list", 1.0, False), _typed("points", 0.4, False)], k=5)
    failed = ev.check_gates(summary, min_type_facts=0.5, max_false_refusal_rate=0.0, min_source_precision=0.9)
    assert failed == ["fact_recall of points questions 0.4 < min 0.5"]
    assert ev.check_gates(summary, min_type_facts=0.3) == []
    assert (
        "not measured"
        in ev.check_gates(ev.summarise([dict(_typed("x", 1.0, False), type=None)], k=5), min_type_facts=0.5)[0]
    )


def test_table_prints_the_types_and_a_refusal_reason_mismatch_is_a_warning():
    summary = ev.summarise([_typed("list", 1.0, False)], k=5)
    assert "list" in ev.summary_table(summary) and "key facts" in ev.summary_table(summary)
    row = {"refused": True, "refusal": "partly_covered", "refusal_reason": "not_covered"}
    assert ev.row_warnings(row) == ["refused as not_covered, expected partly_covered"]


def test_framing_lines_and_notes_need_no_citation():
    """A lead line, group headings and notes are the answer's own words: only its sentences are counted."""
    listed = Answer(
        question="Which ETFs?",
        refused=False,
        lead="The CoinMela article names these ETFs:",
        sentences=[
            SentenceInfo(text="It is big", citations=[1], bullet=True, label="iShares Russell 2000 ETF"),
            SentenceInfo(text="Small caps are cheap", citations=[2], bullet=True, group="AInvest"),
        ],
        notes=["This is not investment advice: the articles report facts."],
        citations=[cit(1, "a", "x"), cit(2, "b", "y")],
        retrieved=[ret("a", "x"), ret("b", "y")],
    )
    assert listed.text == (
        "The CoinMela article names these ETFs:\n- iShares Russell 2000 ETF — It is big. [1]\n\nAInvest:\n"
        "- Small caps are cheap. [2]\n\nThis is not investment advice: the articles report facts."
    )
    m = ev.citation_metrics(listed.sentences, listed.citations, listed.retrieved, ["a"])
    assert m["citation_coverage"] == 1.0 and m["citation_validity"] == 1.0 and m["cited_source_precision"] == 0.5


def test_summary_counts_what_verification_dropped_and_why():
    rows = [
        dict(
            _typed("fact", 1.0, False),
            n_sentences=2,
            dropped=[{"reason": "echo", "text": "Q: why?"}, {"reason": "unsupported_words", "text": "x y z."}],
        ),
        dict(_typed("list", 1.0, False), n_sentences=1, dropped=[{"reason": "echo", "text": "Why?"}]),
        dict(_typed("summary", None, True), n_sentences=0, dropped=[]),
    ]
    summary = ev.summarise(rows, k=5)
    assert summary["verification"] == {
        "sentences": 6,
        "kept": 3,
        "dropped": 3,
        "dropped_share": 0.5,
        "by_reason": {"echo": 2, "unsupported_words": 1},
    }
    assert "6 answer sentences written, 3 kept, 3 dropped (50%): echo 2, unsupported_words 1" in ev.summary_table(
        summary
    )
    assert ev.verification_line(ev.summarise([_typed("fact", 1.0, False)], k=5)) == ""
