"""Okapi BM25 over tokenized chunks, precomputed into a sparse chunk × term matrix (the lexical side of retrieval).

    index = SparseBM25([tokenize(chunk) for chunk in chunks])
    scores = index.scores({"small": 1.0, "cap": 1.0, "discount": 0.7})   # one score per chunk, in corpus order
    index.rows_with(["russel", "2000"])                                   # chunks holding every one of the tokens

chat.lexicon builds one per snapshot of the Chroma collection; chat.retrieval fuses its scores with the dense ones.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

__all__ = ["SparseBM25"]


class SparseBM25:
    """Okapi BM25 (k1=1.5, b=0.75, the Lucene IDF) precomputed into a sparse chunk × term matrix, stored by term
    (compressed sparse columns: `indptr`, `indices` = chunk rows, `data` = weights, in numpy — scipy's import alone
    took 0.15 s of `python app.py ask`).

    Scoring a query is a weighted sum of a few columns, so it stays in the low milliseconds at 100,000+ chunks.
    Memory: one float32 and one int32 per distinct (chunk, term) pair.
    """

    def __init__(self, corpus: list[list[str]], k1: float = 1.5, b: float = 0.75) -> None:
        self.vocab: dict[str, int] = {}
        lengths = np.fromiter((len(doc) for doc in corpus), dtype=np.int64, count=len(corpus))
        terms = np.fromiter(
            (self.vocab.setdefault(t, len(self.vocab)) for doc in corpus for t in doc),
            dtype=np.int64,
            count=int(lengths.sum()),
        )
        self.n = n = len(corpus)
        docs = np.repeat(np.arange(n, dtype=np.int64), lengths)
        # Each distinct (term, chunk) pair once with its count, by term then chunk: the columns, rows sorted.
        width = max(n, 1)
        pairs, tf = np.unique(terms * width + docs, return_counts=True)
        self.indices = (pairs % width).astype(np.int32)
        self.df = np.bincount(pairs // width, minlength=len(self.vocab)).astype(np.int64)
        self.indptr = np.concatenate(([0], np.cumsum(self.df))).astype(np.int64)
        avgdl = float(lengths.mean()) if n else 1.0
        norm = k1 * (1 - b + b * lengths / max(avgdl, 1e-9))
        idf = np.log(1.0 + (n - self.df + 0.5) / (self.df + 0.5)).astype(np.float32)
        tf = tf.astype(np.float32)
        weights = tf * (k1 + 1) / (tf + norm[self.indices]) * np.repeat(idf, self.df)
        self.data = weights.astype(np.float32)

    def doc_freq(self, token: str) -> int:
        i = self.vocab.get(token)
        return int(self.df[i]) if i is not None else 0

    def column(self, token: str) -> tuple[np.ndarray, np.ndarray]:
        """The rows (chunks) holding `token` and its BM25 weight in each."""
        i = self.vocab.get(token)
        if i is None:
            return np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.float32)
        a, b = self.indptr[i], self.indptr[i + 1]
        return self.indices[a:b], self.data[a:b]

    def scores(self, weights: dict[str, float]) -> np.ndarray:
        out = np.zeros(self.n, dtype=np.float32)
        for t, w in weights.items():
            if t in self.vocab and w > 0:
                rows, values = self.column(t)
                out[rows] += values * np.float32(w)  # (a column holds each row once)
        return out

    def rows_with(self, tokens: Iterable[str]) -> set[int]:
        """The rows (chunks) that hold every one of `tokens`."""
        rows: set[int] | None = None
        for t in tokens:
            found = set(self.column(t)[0].tolist())
            rows = found if rows is None else rows & found
            if not rows:
                break
        return rows or set()
