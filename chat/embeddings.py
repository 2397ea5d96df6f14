"""The one embedding cache of the answering core: text → unit vector, shared by the extractive answerer and
citation verification, which embed the same retrieved sentences (a first-time question embeds each once).

    embed = EmbeddingCache(embedder, stored=StoredSentences(store.live("sentences"), scored_texts, "1"))
    embed.prefetch(passages)                  # the vectors ingest stored for these passages' sentences
    vectors = embed(["sentence one", "sentence two"])   # np.ndarray (2, dim): stored, cached or embedded now

With the vectors ingest stored beside each passage (ingest.records.SentenceVectors), answering a question embeds
only the question: the sentences, FAQ questions and headings of its passages are read, not computed.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from langchain_core.documents import Document

from ingest.records import SentenceVectors, texts_key, unpack_vectors

if TYPE_CHECKING:
    from langchain_core.embeddings import Embeddings

log = logging.getLogger(__name__)


class StoredSentences:
    """The sentence vectors ingest stored for passages (`<index>__sentences`), for the texts `texts_of` finds in
    them now: a passage whose stored texts differ (its rules changed since it was ingested) gets none."""

    def __init__(self, collection: Any, texts_of: Callable[[str, Mapping[str, Any]], list[str]], version: str) -> None:
        self.collection = collection
        self.texts_of = texts_of
        self.version = version

    def vectors(self, passages: Sequence[Document]) -> dict[str, np.ndarray]:
        ids = [d.metadata["chunk_id"] for d in passages]
        got = self.collection.get(ids=ids, include=["metadatas"])
        records: dict[str, SentenceVectors] = dict(zip(got["ids"], got["metadatas"]))
        out: dict[str, np.ndarray] = {}
        for doc, cid in zip(passages, ids):
            record = records.get(cid)
            if not record or not record.get("count"):
                continue
            texts = self.texts_of(doc.page_content, doc.metadata)
            if record["key"] != texts_key(texts, self.version) or record["count"] != len(texts):
                log.debug("stored sentence vectors of %s are for other texts; they will be embedded", cid)
                continue
            out.update(zip(texts, unpack_vectors(record["vectors"], record["count"])))
        return out


class EmbeddingCache:
    """Text → vector for the last `size` texts, thread-safe (requests are served from a thread pool)."""

    def __init__(self, embeddings: Embeddings, size: int = 8192, stored: StoredSentences | None = None) -> None:
        self.embeddings = embeddings
        self.size = size
        self.stored = stored
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self._fetched: OrderedDict[str, None] = OrderedDict()  # passages whose stored vectors are in the cache
        self._lock = threading.Lock()
        self.embedded = 0  # texts this cache had the model embed (benchmarks read it)

    def prefetch(self, passages: Sequence[Document]) -> None:
        """Put the stored vectors of these passages' sentences into the cache (one read of the index)."""
        if self.stored is None:
            return
        with self._lock:
            wanted = [d for d in passages if d.metadata.get("chunk_id") not in self._fetched]
        if not wanted:
            return
        found = self.stored.vectors(wanted)
        with self._lock:
            self._vectors.update(found)
            for d in wanted:
                self._fetched[d.metadata["chunk_id"]] = None
            self._trim()

    def _trim(self) -> None:
        while len(self._vectors) > self.size:
            self._vectors.popitem(last=False)
        while len(self._fetched) > self.size // 16:  # (~10 texts a passage: their vectors stay cached too)
            self._fetched.popitem(last=False)

    def __call__(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        with self._lock:
            known = {t: self._vectors[t] for t in texts if t in self._vectors}
            for t in known:
                self._vectors.move_to_end(t)
        missing = [t for t in dict.fromkeys(texts) if t not in known]
        if missing:
            fresh = dict(zip(missing, np.asarray(self.embeddings.embed_documents(missing), dtype=np.float32)))
            known.update(fresh)
            with self._lock:
                self._vectors.update(fresh)
                self.embedded += len(missing)
                self._trim()
        return np.stack([known[t] for t in texts])

    def clear(self) -> None:
        with self._lock:
            self._vectors.clear()
            self._fetched.clear()
