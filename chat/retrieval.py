"""Hybrid retrieval: dense (Chroma + MiniLM) and lexical (BM25 from chat.lexicon), fused by a convex score
combination, then MMR.

    from chat.retrieval import HybridRetriever
    retriever = HybridRetriever(collection=store.live(), embeddings=embedder, lexicon=lexicon)
    docs = retriever.search("Why are small caps cheap?")   # LangChain Documents with scores in metadata
    docs = retriever.search("valuation", sources={"coinmela-….txt"})   # only from some articles
    chain = retriever.as_langchain() | ...                  # a LangChain `BaseRetriever`: drops into any chain

The question is searched as the lexicon normalised it: misspellings fixed, shorthand expanded (dense side),
expansions and synonyms weighted in (BM25).
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections import OrderedDict
from typing import TYPE_CHECKING, Any

import numpy as np
from langchain_core.documents import Document

from chat.lexicon import Lexicon, Snapshot
from chat.normalization import Normalized
from ingest.records import ChunkMetadata

if TYPE_CHECKING:
    from langchain_core.embeddings import Embeddings

    from chat.langchain_retriever import LangChainRetriever

log = logging.getLogger(__name__)


class PassageMetadata(ChunkMetadata):
    """A retrieved passage's metadata: its record in the index (ingest.records) and how it was found."""

    rank: int  # 1 = best
    score: float  # fused dense + BM25 score
    dense_score: float  # cosine similarity to the question
    bm25_score: float


def passage(
    cid: str, text: str, meta: ChunkMetadata, *, rank: int, score: float, dense: float, bm25: float
) -> Document:
    """A LangChain Document for one retrieved chunk (its metadata a `PassageMetadata`)."""
    record = PassageMetadata(
        **{**meta, "chunk_id": cid},  # type: ignore[typeddict-item]
        rank=rank,
        score=round(score, 6),
        dense_score=round(dense, 4),
        bm25_score=round(bm25, 4),
    )
    return Document(id=cid, page_content=text, metadata=dict(record))


@dataclasses.dataclass(eq=False)
class HybridRetriever:
    """Dense + BM25 over one Chroma collection, fused by scaled scores (see `_fuse`), then MMR for diversity.

    A plain class: `as_langchain()` gives the LangChain `BaseRetriever` view, whose import (LangChain's tracing
    stack and langsmith, ~0.5 s) answering a question never needs — `python app.py ask` starts that much sooner."""

    collection: Any
    embeddings: Embeddings
    lexicon: Lexicon
    k: int = 5
    fetch_k: int = 24
    dense_weight: float = 0.5  # equal say for meaning and words (chosen on the distractor benchmark, see README)
    mmr_lambda: float = 0.75
    same_source_penalty: float = 0.08
    cache_size: int = 512
    exact_rows: int = 50_000  # up to this many chunks a whole-index dense search scans the mirror (see `_dense`)

    _cache_lock: threading.Lock = dataclasses.field(default_factory=threading.Lock, init=False, repr=False)
    _qcache: OrderedDict = dataclasses.field(default_factory=OrderedDict, init=False, repr=False)

    @property
    def size(self) -> int:
        return self.lexicon.size

    def embed_query(self, query: str) -> np.ndarray:
        """The query's vector, cached: one ask embeds its question once, whoever needs it."""
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

    def clear_cache(self) -> None:
        with self._cache_lock:
            self._qcache.clear()

    # --- retrieval ----------------------------------------------------------------------------------

    def as_langchain(self) -> LangChainRetriever:
        """This retriever as a LangChain `BaseRetriever` (`invoke`, `batch`, `|` into a chain): `search(query)`."""
        from chat.langchain_retriever import LangChainRetriever

        return LangChainRetriever(hybrid=self)

    def search(
        self,
        query: str,
        k: int | None = None,
        *,
        sources: set[str] | None = None,
        normalized: Normalized | None = None,
        diversify: bool = True,
    ) -> list[Document]:
        """The `k` best passages for `query` (only from `sources` when given), best first."""
        k = k or self.k
        norm = normalized or self.lexicon.normalize(query)
        scores, snap = self.lexicon.bm25(norm.bm25_weights(), sources)
        if not snap.ids:
            return []
        if sources is not None and not sources:
            return []
        qvec = self.embed_query(norm.text)
        n = min(self.fetch_k, len(snap.ids))
        dense_ids, dense_sim = self._dense(snap, qvec, n, sources)

        lexical_ids: list[str] = []
        bm25: dict[str, float] = {}
        if len(scores):
            top = np.argpartition(-scores, n - 1)[:n] if n < len(scores) else np.arange(len(scores))
            top = top[np.argsort(-scores[top])]
            for i in top:
                if scores[i] > 0:
                    lexical_ids.append(snap.ids[i])
                    bm25[snap.ids[i]] = float(scores[i])

        candidates = list(dict.fromkeys(dense_ids + lexical_ids))
        if not candidates:
            return []
        by_id = self._read(snap, candidates)
        candidates = [c for c in candidates if c in by_id]
        if not candidates:  # every hit was deleted between the query and the read (an ingest running meanwhile)
            return []
        for cid in candidates:  # lexical-only hits still get a true dense similarity
            if cid not in dense_sim:
                dense_sim[cid] = float(by_id[cid][2] @ qvec)
        if len(scores):
            for cid in candidates:  # ...and dense-only hits their true BM25 score
                if cid not in bm25 and cid in snap.row:
                    bm25[cid] = float(scores[snap.row[cid]])
        fused = self._fuse(candidates, dense_sim, bm25)
        candidates.sort(key=fused.get, reverse=True)

        while True:
            chosen = self._mmr(candidates, fused, by_id, k) if diversify else candidates[:k]
            gone = self._gone(snap, chosen)
            if not gone:
                break
            candidates = [c for c in candidates if c not in gone]  # (rare: an ingest removed them meanwhile)
        docs = []
        for rank, cid in enumerate(chosen, 1):
            text, meta, _ = by_id[cid]
            docs.append(
                passage(cid, text, meta, rank=rank, score=fused[cid], dense=dense_sim[cid], bm25=bm25.get(cid, 0.0))
            )
        return docs

    def article(self, source: str, query: str | None = None) -> list[Document]:
        """Every chunk of one article in reading order (scored against `query` when given)."""
        snap = self.lexicon.refresh()
        art = snap.articles.get(source)
        if art is None:
            return []
        by_id = self._read(snap, list(art.chunk_ids), checked=True)
        qvec = self.embed_query(query) if query else None
        docs = []
        for rank, cid in enumerate((c for c in art.chunk_ids if c in by_id), 1):
            text, meta, vec = by_id[cid]
            dense = float(vec @ qvec) if qvec is not None else 0.0
            docs.append(passage(cid, text, meta, rank=rank, score=0.0, dense=dense, bm25=0.0))
        return docs

    # --- the dense side and the passages' records ------------------------------------------------------

    @staticmethod
    def _mirrored(snap: Snapshot) -> bool:
        return len(snap.ids) > 0 and snap.vectors.shape[0] == len(snap.ids)

    def _dense(
        self, snap: Snapshot, qvec: np.ndarray, n: int, sources: set[str] | None
    ) -> tuple[list[str], dict[str, float]]:
        """The `n` chunks nearest the question (of `sources` only, when given) and their cosine similarities.

        Scored exactly from the snapshot's mirror (numpy's product releases the GIL; Chroma's embedded calls hold
        it for much of their time) when the search is within some articles — Chroma's filtered query reads the
        filter's rows from SQLite first: ~30 ms for a question naming 150 articles, against ~0.1 ms here — or the
        index has at most `exact_rows` chunks (a scan of 6,500 vectors takes ~1 ms, a Chroma query ~3 ms). A
        whole-index search of a bigger index is Chroma's: its HNSW graph keeps it sublinear as the corpus grows, and
        so is every search while the snapshot is behind the index (a rebuild after an ingest still running in the
        background): Chroma already holds the new and changed articles' chunks."""
        exact = sources is not None or len(snap.ids) <= self.exact_rows
        if exact and self._mirrored(snap) and self.lexicon.is_current(snap):
            if sources is None:
                rows, sims = None, snap.vectors @ qvec
            else:
                rows = np.asarray(snap.rows_of(sorted(sources)), dtype=np.int64)
                if not len(rows):
                    return [], {}
                sims = snap.vectors[rows] @ qvec
            top = np.argpartition(-sims, n - 1)[:n] if n < len(sims) else np.arange(len(sims))
            top = top[np.argsort(-sims[top], kind="stable")]
            ids = [snap.ids[i] for i in top] if rows is None else [snap.ids[rows[i]] for i in top]
            return ids, {cid: float(sims[i]) for cid, i in zip(ids, top)}
        where = {"source": {"$in": sorted(sources)}} if sources is not None else None
        got = self.collection.query(query_embeddings=[qvec.tolist()], n_results=n, where=where, include=["distances"])
        ids = got["ids"][0]
        return ids, {i: 1.0 - float(d) for i, d in zip(ids, got["distances"][0])}

    def _read(
        self, snap: Snapshot, ids: list[str], *, checked: bool = False
    ) -> dict[str, tuple[str, dict, np.ndarray]]:
        """Text, metadata and vector of each of `ids`: from the snapshot's mirror for the chunks it holds, from
        Chroma for newer ones (those it no longer has left out). The mirror's records are the index's own (a
        chunk's id is a hash of its text), but the index may have dropped some since the snapshot was taken (an
        ingest running): `checked` leaves those out too (else the caller checks what it keeps, see `_gone`)."""
        mirrored = self._mirrored(snap)
        known = [c for c in ids if c in snap.row] if mirrored else []
        rest = [c for c in ids if c not in snap.row] if mirrored else ids
        gone = self._gone(snap, known) if checked else set()
        out: dict[str, tuple[str, dict, np.ndarray]] = {}
        for cid in known:
            if cid not in gone:
                r = snap.row[cid]
                out[cid] = (snap.texts[r], snap.metadata(r), snap.vectors[r])
        if rest:
            got = self.collection.get(ids=rest, include=["documents", "metadatas", "embeddings"])
            for i, d, m, e in zip(got["ids"], got["documents"], got["metadatas"], got["embeddings"]):
                out[i] = (d, m, np.asarray(e, dtype=np.float32))
        return out

    def _gone(self, snap: Snapshot, ids: list[str]) -> set[str]:
        """Those of `ids` read from the snapshot's mirror that the index no longer holds (one id-only read), so
        that a passage an ingest removed after the snapshot was taken is never cited."""
        known = [c for c in ids if c in snap.row] if self._mirrored(snap) else []
        if not known:
            return set()
        return set(known) - set(self.collection.get(ids=known, include=[])["ids"])

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
                redundancy = max(
                    float(vec @ by_id[s][2]) + (self.same_source_penalty if by_id[s][1].get("source") == src else 0.0)
                    for s in chosen
                )
                return self.mmr_lambda * relevance[c] - (1 - self.mmr_lambda) * redundancy

            best = max(pool, key=value)
            chosen.append(best)
            pool.remove(best)
        return chosen
