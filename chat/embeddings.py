"""The one embedding cache of the answering core: text → unit vector, shared by the extractive answerer and
citation verification, which embed the same retrieved sentences (a first-time question embeds each once).

    embed = EmbeddingCache(embedder)          # any LangChain `Embeddings` returning unit vectors
    vectors = embed(["sentence one", "sentence two"])   # np.ndarray (2, dim)
"""

from __future__ import annotations

import threading
from collections import OrderedDict

import numpy as np
from langchain_core.embeddings import Embeddings


class EmbeddingCache:
    """Text → vector for the last `size` texts, thread-safe (requests are served from a thread pool)."""

    def __init__(self, embeddings: Embeddings, size: int = 8192) -> None:
        self.embeddings = embeddings
        self.size = size
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

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
                while len(self._vectors) > self.size:
                    self._vectors.popitem(last=False)
        return np.stack([known[t] for t in texts])

    def clear(self) -> None:
        with self._lock:
            self._vectors.clear()
