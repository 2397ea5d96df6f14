"""Chroma access: an embedded store in a folder, or a Chroma server (`chroma run --path DIR --port N`).

Two collections per index: `<name>` holds the chunks (cosine space, our own embedding function) and
`<name>__files` is the ingest manifest, one record per source file, so that incremental ingestion works the
same way in embedded and in server mode.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import chromadb
from chromadb.config import Settings as ChromaSettings

from ingest.embed import ChromaEmbeddingFunction, Embedder

log = logging.getLogger(__name__)

MANIFEST_SUFFIX = "__files"


@dataclass
class Store:
    """The open Chroma client with the chunk collection and its manifest."""

    client: Any
    name: str
    embedder: Embedder
    location: str  # human-readable: a folder or http://host:port
    _open: dict[str, Any] = field(default_factory=dict, repr=False)

    def _collection(self, name: str) -> Any:
        # Cached: in server mode every get_or_create is a round trip.
        if name not in self._open:
            self._open[name] = self.client.get_or_create_collection(
                name,
                embedding_function=ChromaEmbeddingFunction(self.embedder),
                configuration={"hnsw": {"space": "cosine"}},
            )
        return self._open[name]

    @property
    def chunks(self) -> Any:
        return self._collection(self.name)

    @property
    def manifest(self) -> Any:
        # Records carry a constant one-dimensional vector: the manifest is only read by id or metadata.
        return self._collection(self.name + MANIFEST_SUFFIX)

    def drop(self) -> None:
        self._open.clear()
        for name in (self.name, self.name + MANIFEST_SUFFIX):
            try:
                self.client.delete_collection(name)
            except Exception:  # noqa: BLE001 - chroma raises different types for "not found" across versions
                log.debug("collection %s did not exist", name)

    def count(self) -> int:
        return int(self.chunks.count())


def open_store(
    *,
    embedder: Embedder,
    collection: str,
    path: Path | None = None,
    host: str | None = None,
    port: int = 8000,
) -> Store:
    """Open an embedded store at `path`, or a server at `host:port` when `host` is given."""
    settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    if host:
        client = chromadb.HttpClient(host=host, port=port, settings=settings)
        location = f"http://{host}:{port}"
    else:
        if path is None:
            raise ValueError("an embedded store needs a path")
        path.mkdir(parents=True, exist_ok=True)
        client = chromadb.PersistentClient(path=str(path), settings=settings)
        location = str(path)
    return Store(client=client, name=collection, embedder=embedder, location=location)


def generation(store: Store) -> str:
    """Changes whenever an ingest changed the index; readers (the BM25 side) refresh when it does."""
    got = store.manifest.get(ids=["meta:index"], include=["metadatas"])
    return str(got["metadatas"][0].get("generation", "")) if got["ids"] else ""
