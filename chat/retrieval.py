"""Hybrid retrieval: dense (Chroma + MiniLM) and lexical (BM25 from chat.lexicon), fused by a convex score
combination, then MMR.

    from chat.retrieval import HybridRetriever
    retriever = HybridRetriever(collection=store.live(), embeddings=embedder, lexicon=lexicon)
    docs = retriever.invoke("Why are small caps cheap?")   # LangChain Documents with scores in metadata
    docs = retriever.search("valuation", sources={"coinmela-….txt"})   # only from some articles

It is a LangChain `BaseRetriever`, so it drops into any chain. The question is searched as the lexicon
normalised it: misspellings fixed, shorthand expanded (dense side), expansions and synonyms weighted in (BM25).
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from typing import Any

import numpy as np
from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict, PrivateAttr

from chat.lexicon import Lexicon
from chat.normalization import Normalized
from ingest.records import ChunkMetadata

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


class HybridRetriever(BaseRetriever):
    """Dense + BM25 over one Chroma collection, fused by scaled scores (see `_fuse`), then MMR for diversity."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    collection: Any
    embeddings: Embeddings
    lexicon: Lexicon
    k: int = 5
    fetch_k: int = 24
    dense_weight: float = 0.5  # equal say for meaning and words (chosen on the distractor benchmark, see README)
    mmr_lambda: float = 0.75
    same_source_penalty: float = 0.08
    cache_size: int = 512

    _cache_lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)
    _qcache: OrderedDict = PrivateAttr(default_factory=OrderedDict)

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

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun) -> list[Document]:
        return self.search(query)

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
        qvec = self.embed_query(norm.text)
        n = min(self.fetch_k, len(snap.ids))
        where = None
        if sources is not None:
            if not sources:
                return []
            where = {"source": {"$in": sorted(sources)}}
        dense = self.collection.query(query_embeddings=[qvec.tolist()], n_results=n, where=where, include=["distances"])
        dense_ids = dense["ids"][0]
        dense_sim = {i: 1.0 - float(d) for i, d in zip(dense_ids, dense["distances"][0])}

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
        got = self.collection.get(ids=candidates, include=["documents", "metadatas", "embeddings"])
        by_id = {
            i: (d, m, np.asarray(e, dtype=np.float32))
            for i, d, m, e in zip(got["ids"], got["documents"], got["metadatas"], got["embeddings"])
        }
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

        chosen = self._mmr(candidates, fused, by_id, k) if diversify else candidates[:k]
        docs = []
        for rank, cid in enumerate(chosen, 1):
            text, meta, _ = by_id[cid]
            docs.append(
                passage(cid, text, meta, rank=rank, score=fused[cid], dense=dense_sim[cid], bm25=bm25.get(cid, 0.0))
            )
        return docs

    def article(self, source: str, query: str | None = None) -> list[Document]:
        """Every chunk of one article in reading order (scored against `query` when given)."""
        art = self.lexicon.refresh().articles.get(source)
        if art is None:
            return []
        got = self.collection.get(ids=list(art.chunk_ids), include=["documents", "metadatas", "embeddings"])
        by_id = {i: (d, m, e) for i, d, m, e in zip(got["ids"], got["documents"], got["metadatas"], got["embeddings"])}
        qvec = self.embed_query(query) if query else None
        docs = []
        for rank, cid in enumerate((c for c in art.chunk_ids if c in by_id), 1):
            text, meta, vec = by_id[cid]
            dense = float(np.asarray(vec, dtype=np.float32) @ qvec) if qvec is not None else 0.0
            docs.append(passage(cid, text, meta, rank=rank, score=0.0, dense=dense, bm25=0.0))
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
                redundancy = max(
                    float(vec @ by_id[s][2]) + (self.same_source_penalty if by_id[s][1].get("source") == src else 0.0)
                    for s in chosen
                )
                return self.mmr_lambda * relevance[c] - (1 - self.mmr_lambda) * redundancy

            best = max(pool, key=value)
            chosen.append(best)
            pool.remove(best)
        return chosen
