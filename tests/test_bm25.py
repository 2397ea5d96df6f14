"""chat.bm25: Okapi BM25 (k1=1.5, b=0.75, Lucene IDF) against the formula written out term by term."""

from __future__ import annotations

import math

import numpy as np
import pytest

from chat.bm25 import SparseBM25

CORPUS = [
    ["small", "cap", "rally", "small", "cap"],
    ["russell", "2000", "rally", "small"],
    ["fed", "rate", "cut"],
    [],
    ["small", "small", "small", "valuation", "gap", "cap", "discount", "s&p"],
]


def okapi(corpus: list[list[str]], query: dict[str, float], k1: float = 1.5, b: float = 0.75) -> list[float]:
    n = len(corpus)
    avgdl = sum(map(len, corpus)) / n
    out = []
    for doc in corpus:
        score = 0.0
        for term, weight in query.items():
            tf = doc.count(term)
            if not tf or weight <= 0:
                continue
            df = sum(term in d for d in corpus)
            idf = math.log(1 + (n - df + 0.5) / (df + 0.5))
            score += weight * idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * len(doc) / avgdl))
        out.append(score)
    return out


@pytest.mark.parametrize(
    "query",
    [
        {"small": 1.0},
        {"small": 1.0, "cap": 0.7, "rally": 0.35},
        {"rate": 1.0, "cut": 1.0, "unknown": 1.0},
        {"small": 0.0, "gap": 2.0},  # a zero weight counts for nothing
        {"nowhere": 1.0},
    ],
)
def test_scores_are_okapi_bm25_term_by_term(query):
    index = SparseBM25(CORPUS)
    got = index.scores(query)
    assert got.dtype == np.float32 and got.shape == (len(CORPUS),)
    assert np.allclose(got, okapi(CORPUS, query), rtol=1e-5, atol=1e-6)


def test_document_frequencies_and_rows_holding_every_token():
    index = SparseBM25(CORPUS)
    assert [index.doc_freq(t) for t in ("small", "cap", "fed", "nowhere")] == [3, 2, 1, 0]
    assert index.rows_with(["small", "cap"]) == {0, 4}
    assert index.rows_with(["small", "rally"]) == {0, 1}
    assert index.rows_with(["small", "nowhere"]) == set()
    rows, weights = index.column("small")
    assert rows.tolist() == [0, 1, 4] and (weights > 0).all()  # a term's rows in order, each once
    assert index.column("nowhere")[0].size == 0


def test_an_empty_corpus_scores_nothing():
    index = SparseBM25([])
    assert index.scores({"small": 1.0}).shape == (0,)
    assert index.rows_with(["small"]) == set() and index.doc_freq("small") == 0
