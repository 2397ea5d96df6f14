"""chat.extractive sentence features and naming rules, and chat.evidence's merging of searches — no model, no index.

python -m pytest tests/test_sentence_features.py -q
"""

from __future__ import annotations

from langchain_core.documents import Document

from chat.evidence import _interleave
from chat.normalization import Term
from chat.sentences import figure_near, term_named
from chat.text import tokenize


def terms(*words: str, **expansions: str) -> list[Term]:
    out = []
    for w in words:
        token = tokenize(w)[0]
        out.append(Term(token, w, expansions=frozenset(tokenize(expansions.get(w, ""))) - {token}))
    return out


def flat(_token: str) -> float:
    return 1.0


def test_the_figure_next_to_the_question_s_words_scores_above_a_figure_elsewhere_in_its_story():
    asked = terms("yield", "jump", "inflation", "report")
    answer = "The two-year yield jumped 14 basis points to 3.71% after the inflation report."
    story = "The inflation report that bond traders had awaited all week showed consumer prices up 0.5% on the month."
    assert figure_near(asked, answer, flat) > figure_near(asked, story, flat)
    assert figure_near(asked, "The yield jumped after the report.", flat) == 0.0  # no figure at all


def test_only_words_within_the_window_count():
    asked = terms("dividend", "raise")
    near = "The board raised the dividend by 5% on Tuesday."
    far = "The board raised its outlook for the year, and in other news, which analysts liked, the dividend is 5%."
    assert figure_near(asked, near, flat) == 1.0
    assert figure_near(asked, far, flat) == 0.5


def test_shorthand_is_named_by_most_of_what_it_stands_for():
    spx = terms("spx", spx="s&p 500")[0]
    assert term_named(spx, set(tokenize("the S&P 500 trades at 22.6 times")))
    assert not term_named(spx, set(tokenize("the S&P SmallCap 600 trades at 15.6 times")))
    assert term_named(spx, set(tokenize("SPX futures fell")))
    jan = terms("jan", jan="january")[0]
    assert term_named(jan, set(tokenize("in January")))


def doc(cid: str) -> Document:
    return Document(page_content=cid, metadata={"chunk_id": cid})


def test_two_searches_are_taken_in_turn_each_passage_once():
    first = [doc("a"), doc("b"), doc("c")]
    second = [doc("b"), doc("x"), doc("y")]
    merged = [d.metadata["chunk_id"] for d in _interleave(first, second, 5)]
    assert merged == ["a", "b", "x", "c", "y"]
    assert [d.metadata["chunk_id"] for d in _interleave(first, [], 2)] == ["a", "b"]
