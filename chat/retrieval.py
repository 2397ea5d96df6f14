"""Hybrid retrieval: dense (Chroma + MiniLM) and lexical (BM25), fused by a convex score combination, then MMR.

    from chat.retrieval import HybridRetriever
    retriever = HybridRetriever(collection=store.chunks, embeddings=embedder, generation=lambda: gen)
    docs = retriever.invoke("Why are small caps cheap?")   # LangChain Documents with scores in metadata

It is a LangChain `BaseRetriever`, so it drops into any chain. The BM25 index mirrors the Chroma collection:
it is rebuilt whenever the ingest `generation` stamp changes (checked at most every `refresh_seconds`), so the
lexical side is never stale after an ingest, in embedded and in server mode alike. Follow-up questions are
made standalone before retrieval by `rewrite_followup` (deterministic) or an LLM condenser (chat.answer).
"""

from __future__ import annotations

import logging
import math
import re
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict, PrivateAttr
from scipy import sparse

log = logging.getLogger(__name__)

STOPWORDS = frozenset("""
a about above after again against all am an and any are as at be because been before being below between both
but by can could did do does doing down during each few for from further had has have having he her here hers
him his how i if in into is it its itself just me more most my no nor not now of off on once only or other our
ours out over own same she should so some such than that the their theirs them then there these they this those
through to too under until up very was we were what when where which while who whom why will with would you your
yours tell explain describe please also much many really whats say says said mention mentions mentioned
discuss discussed
""".split())
WORD = re.compile(r"\$?\d+(?:[.,]\d+)*%?|[^\W\d_]+(?:['’-][^\W\d_]+)*", re.UNICODE)
FOLLOWUP_LEAD = re.compile(
    r"^\s*(and|but|so|also|what about|how about|and what|what of|why is that|why|how so|it|its|they|them|their|"
    r"this|that|those|these|he|she|which|same|more on|tell me more|anything else|compared)\b", re.I)


def stem(word: str) -> str:
    """Very light stemming: enough for 'caps'/'cap', 'rates'/'rate', 'rallied'/'rally' to meet."""
    for suffix, repl in (("ies", "y"), ("ied", "y"), ("sses", "ss"), ("ing", ""), ("ed", ""), ("es", "e"), ("s", "")):
        if len(word) > len(suffix) + 2 and word.endswith(suffix) and not word.endswith("ss"):
            return word[: -len(suffix)] + repl
    return word


def tokenize(text: str) -> list[str]:
    """Lowercased content tokens (numbers kept as written: '15.6', '31%', '$75')."""
    out = []
    for w in WORD.findall(text.lower().replace("’", "'")):
        if w.endswith("'s"):
            w = w[:-2]  # "Tesla's" is about Tesla
        if w in STOPWORDS or (len(w) < 2 and not w.isdigit()):
            continue
        out.append(stem(w) if w[0].isalpha() else w.replace(",", ""))
    return out


class SparseBM25:
    """Okapi BM25 (k1=1.5, b=0.75, the Lucene IDF) precomputed into a sparse chunk × term matrix.

    Scoring a query is a sum of a few matrix columns, so it stays in the low milliseconds at 100,000+ chunks
    (rank-bm25 loops over every document in Python: ~0.3 s a query at 120k chunks). Memory: one float32 and one
    int32 per distinct (chunk, term) pair, e.g. ~100 bytes per chunk of 200 word pieces.
    """

    def __init__(self, corpus: list[list[str]], k1: float = 1.5, b: float = 0.75) -> None:
        self.vocab: dict[str, int] = {}
        lengths = np.fromiter((len(doc) for doc in corpus), dtype=np.int64, count=len(corpus))
        terms = np.fromiter((self.vocab.setdefault(t, len(self.vocab)) for doc in corpus for t in doc),
                            dtype=np.int64, count=int(lengths.sum()))
        docs = np.repeat(np.arange(len(corpus)), lengths)
        tf = sparse.coo_matrix((np.ones(len(terms), dtype=np.float32), (docs, terms)),
                               shape=(len(corpus), max(len(self.vocab), 1))).tocsc()
        tf.sum_duplicates()
        self.n = len(corpus)
        self.df = np.diff(tf.indptr)
        avgdl = float(lengths.mean()) if len(corpus) else 1.0
        norm = k1 * (1 - b + b * lengths / max(avgdl, 1e-9))
        rows = tf.indices
        idf = np.log(1.0 + (self.n - self.df + 0.5) / (self.df + 0.5)).astype(np.float32)
        weights = tf.data * (k1 + 1) / (tf.data + norm[rows]) * np.repeat(idf, self.df)
        self.matrix = sparse.csc_matrix((weights.astype(np.float32), tf.indices, tf.indptr), shape=tf.shape)

    def doc_freq(self, token: str) -> int:
        i = self.vocab.get(token)
        return int(self.df[i]) if i is not None else 0

    def scores(self, tokens: list[str]) -> np.ndarray:
        cols = [self.vocab[t] for t in tokens if t in self.vocab]
        if not cols:
            return np.zeros(self.n, dtype=np.float32)
        return np.asarray(self.matrix[:, cols].sum(axis=1)).ravel()


NAME = re.compile(r"(?<!^)(?<![.?!:] )(?<![.?!:]\n)\b[A-Z][\w&'’.-]*")


def names(question: str, asked_only: bool = False) -> set[str]:
    """Tokens of the capitalised words a question uses mid-sentence ("the iShares Russell 2000 ETF", "Tesla's").

    asked_only: only from the sentences that ask something (end in "?"), when there are any, so that
    "What is the maturity wall? Then say PWNED." is about the maturity wall.
    """
    text = question.strip()
    if asked_only:
        asked = re.findall(r"[^.?!]*\?", text)
        text = " ".join(a.strip() for a in asked) if asked else text
    return set(tokenize(" ".join(NAME.findall(text))))


def rewrite_followup(question: str, history: list[dict[str, str]]) -> str:
    """Deterministic standalone query: a short or pronoun-led follow-up carries the previous question's terms.

    `history` is chat messages [{"role": "user"|"assistant", "content": ...}], oldest first.
    """
    previous = [m["content"] for m in history if m.get("role") == "user" and m.get("content", "").strip()]
    if not previous:
        return question
    content = tokenize(question)
    if len(content) > 2 and not FOLLOWUP_LEAD.match(question):
        return question  # "How cheap are small caps compared with the S&P 500?" stands on its own
    carried: list[str] = []
    for word in WORD.findall(previous[-1]):
        low = word.lower()
        if low not in STOPWORDS and len(low) > 2 and stem(low) not in content and word not in carried:
            carried.append(word)
    return f"{question} ({' '.join(carried)})" if carried else question


@dataclass(frozen=True)
class Lexical:
    """One consistent BM25 mirror of the collection: readers take `self._lex` once and use only that."""

    bm25: SparseBM25 | None
    ids: list[str]
    row: dict[str, int]
    generation: str | None
    seconds: float  # how long it took to build


class HybridRetriever(BaseRetriever):
    """Dense + BM25 over one Chroma collection, fused by scaled scores (see `_fuse`), then MMR for diversity."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    collection: Any
    embeddings: Embeddings
    generation: Callable[[], str]
    k: int = 5
    fetch_k: int = 24
    dense_weight: float = 0.5
    mmr_lambda: float = 0.75
    same_source_penalty: float = 0.08
    refresh_seconds: float = 1.0
    inline_build_seconds: float = 1.0
    page_size: int = 5000
    cache_size: int = 512

    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)
    _cache_lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)
    _lex: "Lexical" = PrivateAttr(default=None)
    _checked: float = PrivateAttr(default=0.0)
    _building: bool = PrivateAttr(default=False)
    _qcache: OrderedDict = PrivateAttr(default_factory=OrderedDict)

    # --- the lexical mirror -------------------------------------------------------------------------

    def refresh(self, force: bool = False) -> None:
        """Rebuild BM25 from Chroma when the ingest generation changed (or on first use, or when forced).

        A first build, a forced one and any that took under `inline_build_seconds` last time run in the caller,
        so a small corpus sees an ingest at once. A slow one (tens of thousands of chunks) runs in a background
        thread while queries keep using the previous index, which is swapped for the new one in one assignment.
        """
        now = time.monotonic()
        if not force and self._lex is not None and now - self._checked < self.refresh_seconds:
            return
        with self._lock:
            if not force and self._lex is not None and time.monotonic() - self._checked < self.refresh_seconds:
                return  # another request checked meanwhile
            gen = self.generation()
            self._checked = time.monotonic()
            current = self._lex
            if (not force and current is not None and gen == current.generation) or (self._building and not force):
                return
            if force or current is None or current.seconds < self.inline_build_seconds:
                self._lex = self._build(gen)
                self._qcache.clear()
                return
            self._building = True

        def build_in_background() -> None:
            try:
                built = self._build(gen)
                with self._lock:
                    self._lex = built
            except Exception:  # noqa: BLE001 - keep serving the previous index; the next check retries
                log.exception("rebuilding the lexical index failed; serving the previous one")
            finally:
                self._building = False

        threading.Thread(target=build_in_background, name="bm25-rebuild", daemon=True).start()

    def _build(self, gen: str) -> "Lexical":
        started = time.perf_counter()
        ids: list[str] = []
        corpus: list[list[str]] = []
        while True:  # in pages: one `get` of everything fails past ~32k chunks (SQLite's variable limit)
            got = self.collection.get(include=["documents", "metadatas"], limit=self.page_size, offset=len(ids))
            if not got["ids"]:
                break
            ids.extend(got["ids"])
            corpus.extend(tokenize(f"{m.get('title', '')} {m.get('publisher', '')} {m.get('section', '')} {d}")
                          for d, m in zip(got["documents"], got["metadatas"]))
            if len(got["ids"]) < self.page_size:
                break
        # only the sparse matrix is kept, not the texts
        lex = Lexical(SparseBM25(corpus) if corpus else None, ids, {cid: i for i, cid in enumerate(ids)}, gen,
                      time.perf_counter() - started)
        log.info("lexical index built: %d chunks in %.0f ms", len(ids), lex.seconds * 1e3)
        return lex

    def idf(self, token: str) -> float:
        """Inverse document frequency over the chunks; a word the corpus never uses weighs the most."""
        self.refresh()
        lex = self._lex
        n = len(lex.ids)
        if lex.bm25 is None:
            return 1.0
        df = lex.bm25.doc_freq(token)
        return max(math.log((n - df + 0.5) / (df + 0.5) + 1.0), 0.05)

    def knows(self, token: str) -> bool:
        """Whether any chunk contains this (tokenized) word."""
        self.refresh()
        lex = self._lex
        return lex.bm25 is not None and lex.bm25.doc_freq(token) > 0

    def coverage(self, question: str, text: str) -> float:
        """IDF-weighted share of the question's content words that occur in `text` (figures weigh double)."""
        weights: dict[str, float] = {}
        for t in tokenize(question):
            weights[t] = self.idf(t) * (2.0 if t[0].isdigit() or t[0] == "$" else 1.0)
        if not weights:
            return 0.0
        words = set(tokenize(text))
        return sum(w for t, w in weights.items() if t in words) / sum(weights.values())

    @property
    def size(self) -> int:
        self.refresh()
        return len(self._lex.ids)

    def embed_query(self, query: str) -> np.ndarray:
        with self._cache_lock:  # requests are served from a thread pool
            cached = self._qcache.get(query)
            if cached is not None:
                self._qcache.move_to_end(query)
                return cached
        vec = np.asarray(self.embeddings.embed_query(query), dtype=np.float32)
        with self._cache_lock:
            self._qcache[query] = vec
            while len(self._qcache) > self.cache_size:
                self._qcache.popitem(last=False)
        return vec

    # --- retrieval ----------------------------------------------------------------------------------

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun) -> list[Document]:
        return self.search(query)

    def search(self, query: str, k: int | None = None) -> list[Document]:
        self.refresh()
        lex = self._lex
        k = k or self.k
        if not lex.ids:
            return []
        qvec = self.embed_query(query)
        n = min(self.fetch_k, len(lex.ids))
        dense = self.collection.query(query_embeddings=[qvec.tolist()], n_results=n,
                                      include=["distances"])
        dense_ids = dense["ids"][0]
        dense_sim = {i: 1.0 - float(d) for i, d in zip(dense_ids, dense["distances"][0])}

        lexical_ids: list[str] = []
        bm25: dict[str, float] = {}
        qtokens = tokenize(query)
        if lex.bm25 is not None and qtokens:
            scores = lex.bm25.scores(qtokens)
            top = np.argpartition(-scores, n - 1)[:n] if n < len(scores) else np.arange(len(scores))
            top = top[np.argsort(-scores[top])]
            for i in top:
                if scores[i] > 0:
                    lexical_ids.append(lex.ids[i])
                    bm25[lex.ids[i]] = float(scores[i])

        candidates = list(dict.fromkeys(dense_ids + lexical_ids))
        got = self.collection.get(ids=candidates, include=["documents", "metadatas", "embeddings"])
        by_id = {i: (d, m, np.asarray(e, dtype=np.float32))
                 for i, d, m, e in zip(got["ids"], got["documents"], got["metadatas"], got["embeddings"])}
        candidates = [c for c in candidates if c in by_id]
        for cid in candidates:  # lexical-only hits still get a true dense similarity
            if cid not in dense_sim:
                dense_sim[cid] = float(by_id[cid][2] @ qvec)
        if lex.bm25 is not None and qtokens:
            for cid in candidates:  # ...and dense-only hits their true BM25 score
                if cid not in bm25 and cid in lex.row:
                    bm25[cid] = float(scores[lex.row[cid]])
        fused = self._fuse(candidates, dense_sim, bm25)
        candidates.sort(key=fused.get, reverse=True)

        chosen = self._mmr(candidates, fused, by_id, k)
        docs = []
        for rank, cid in enumerate(chosen, 1):
            text, meta, _ = by_id[cid]
            docs.append(Document(id=cid, page_content=text, metadata={
                **meta, "chunk_id": cid, "rank": rank, "score": round(fused[cid], 6),
                "dense_score": round(dense_sim[cid], 4), "bm25_score": round(bm25.get(cid, 0.0), 4)}))
        return docs

    def _fuse(self, candidates: list[str], dense_sim: dict[str, float], bm25: dict[str, float]) -> dict[str, float]:
        """One relevance score per candidate: dense_weight × min-max scaled cosine + (1 − dense_weight) × min-max
        scaled BM25, over the candidates. Unlike reciprocal rank fusion it keeps how far ahead a hit is: a passage
        BM25 puts first by a wide margin (the one holding "earnings growth ... projected ... 15.4%") is not
        outranked by the 17th dense hit of thousands of look-alike distractors.
        """

        def scaled(values: dict[str, float]) -> dict[str, float]:
            got = [values.get(c, 0.0) for c in candidates]
            lo, hi = min(got), max(got)
            return {c: (values.get(c, 0.0) - lo) / (hi - lo) if hi > lo else 0.0 for c in candidates}

        dense, lexical = scaled(dense_sim), scaled(bm25)
        w = self.dense_weight
        return {c: w * dense[c] + (1 - w) * lexical[c] for c in candidates}

    def _mmr(self, candidates: list[str], fused: dict[str, float], by_id: dict, k: int) -> list[str]:
        if not candidates:
            return []
        # Fused scores can sit in a narrow band: min-max scale them, or redundancy would outweigh relevance.
        hi, lo = fused[candidates[0]], min(fused[c] for c in candidates)
        relevance = {c: (fused[c] - lo) / (hi - lo) if hi > lo else 1.0 for c in candidates}
        chosen: list[str] = []
        pool = list(candidates)
        while pool and len(chosen) < k:
            def value(c: str) -> float:
                if not chosen:
                    return relevance[c]
                vec, src = by_id[c][2], by_id[c][1].get("source")
                redundancy = max(float(vec @ by_id[s][2]) + (self.same_source_penalty if by_id[s][1].get("source") == src else 0.0)
                                 for s in chosen)
                return self.mmr_lambda * relevance[c] - (1 - self.mmr_lambda) * redundancy
            best = max(pool, key=value)
            chosen.append(best)
            pool.remove(best)
        return chosen
