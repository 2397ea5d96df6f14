"""Chroma access: an embedded store in a folder, or a Chroma server (`chroma run --path DIR --port N`).

An index is a *version*: two collections, `<name>` (the chunks; cosine space, our own embedding function) and
`<name>__files` (the ingest manifest, one record per source file, so incremental ingestion works the same in
embedded and server mode). A rebuild writes a new version beside the current one (`<name>-v<id>` and
`<name>-v<id>__files`) and then switches the pointer record in `<name>__current` in one write, so readers see
the old index whole until the new one is whole (never a missing or half-filled collection). Readers resolve the
pointer at most every `pointer_seconds`; a reader that meets a collection deleted under it resolves again.

Every call to a Chroma server is bounded by `timeout` seconds (the client library's default is to wait
forever); a server that is down or hung raises `IndexUnavailable`.
"""

from __future__ import annotations

import contextlib
import logging
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import chromadb
from chromadb.config import Settings as ChromaSettings

from ingest.embed import ChromaEmbeddingFunction, Embedder

log = logging.getLogger(__name__)

MANIFEST_SUFFIX = "__files"
SENTENCES_SUFFIX = "__sentences"  # the vectors of the texts the answerer scores in each passage (ingest.records)
POINTER_SUFFIX = "__current"
POINTER_ID = "current"
META_ID = "meta:index"  # the manifest record of the whole index: model, pipeline signature, generation stamp


class IndexUnavailable(RuntimeError):
    """The Chroma server is down, hung, or the index vanished; the message is safe to show a user, `detail` (the
    store's own error) is for logs and operators."""

    DEFAULT = "the article index is unavailable; try again shortly"

    def __init__(self, detail: str = "", message: str | None = None) -> None:
        super().__init__(message or self.DEFAULT)
        self.detail = detail


# What a Chroma server says when a collection or its records were deleted while a call was reading them.
_CHANGED_UNDER = re.compile(r"missing (?:metadata |vector |record )?segment|error finding id", re.I)


def _unavailable(exc: BaseException) -> bool:
    """Whether `exc` means the store cannot be reached now (as opposed to a bug in the call)."""
    import httpx

    if isinstance(exc, (httpx.TransportError, ConnectionError, TimeoutError)):
        return True
    name = type(exc).__name__
    return name in ("NotFoundError",) or "does not exist" in str(exc) or "Could not connect" in str(exc)


@dataclass
class Store:
    """The open Chroma client, the current index version's collections, and how to switch versions."""

    client: Any
    name: str
    embedder: Embedder
    location: str  # human-readable: a folder or http://host:port
    pointer_seconds: float = 1.0
    _open: dict[str, Any] = field(default_factory=dict, repr=False)
    _version: str | None = field(default=None, repr=False)
    _checked: float = field(default=0.0, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    pinned: str | None = None  # a writer's view of one version (a rebuild fills a version nobody reads yet)

    # --- versions ----------------------------------------------------------------------------------

    @staticmethod
    def _names(name: str, version: str) -> tuple[str, str, str]:
        base = f"{name}-v{version}" if version else name
        return base, base + MANIFEST_SUFFIX, base + SENTENCES_SUFFIX

    def _pointer(self) -> Any:
        return self._collection(self.name + POINTER_SUFFIX)

    def version(self, refresh: bool = False) -> str:
        """The version readers use now ("" for an index that was never rebuilt)."""
        if self.pinned is not None:
            return self.pinned
        now = time.monotonic()
        with self._lock:
            if refresh or self._version is None or now - self._checked >= self.pointer_seconds:
                got = self._pointer().get(ids=[POINTER_ID], include=["metadatas"])
                self._version = str(got["metadatas"][0].get("version", "")) if got["ids"] else ""
                self._checked = now
            return self._version

    def for_version(self, version: str) -> Store:
        """A view of this store pinned to one version (what a rebuild writes into)."""
        return Store(
            client=self.client,
            name=self.name,
            embedder=self.embedder,
            location=self.location,
            pinned=version,
            _open=self._open,
        )

    def new_version(self) -> str:
        return uuid.uuid4().hex[:8]

    def switch(self, version: str) -> str:
        """Point readers at `version` (one write); returns the version they used before."""
        previous = self.version(refresh=True)
        self._pointer().upsert(
            ids=[POINTER_ID], embeddings=[[1.0]], metadatas=[{"version": version, "switched": time.time()}]
        )
        with self._lock:
            self._version, self._checked = version, time.monotonic()
        return previous

    def versions(self) -> list[str]:
        """Every version whose collections exist (the current one, and any a crashed rebuild left behind)."""
        found = set()
        for col in self.client.list_collections():
            cname = col if isinstance(col, str) else col.name
            if cname in self._names(self.name, ""):
                found.add("")
            elif cname.startswith(f"{self.name}-v"):
                found.add(cname[len(self.name) + 2 :].removesuffix(MANIFEST_SUFFIX).removesuffix(SENTENCES_SUFFIX))
        return sorted(found)

    def drop_version(self, version: str) -> None:
        for cname in self._names(self.name, version):
            self._open.pop(cname, None)
            try:
                self.client.delete_collection(cname)
            except Exception:  # noqa: BLE001 - chroma raises different types for "not found" across versions
                log.debug("collection %s did not exist", cname)

    # --- collections ---------------------------------------------------------------------------------

    def _collection(self, name: str) -> Any:
        # Cached: in server mode every get_or_create is a round trip.
        col = self._open.get(name)
        if col is None:
            col = self._open[name] = self.client.get_or_create_collection(
                name,
                embedding_function=ChromaEmbeddingFunction(self.embedder),
                configuration={"hnsw": {"space": "cosine"}},
            )
        return col

    @property
    def chunks(self) -> Any:
        return self._collection(self._names(self.name, self.version())[0])

    @property
    def manifest(self) -> Any:
        # Records carry a constant one-dimensional vector: the manifest is only read by id or metadata.
        return self._collection(self._names(self.name, self.version())[1])

    @property
    def sentences(self) -> Any:
        # One record per passage (its chunk_id), read by id: a constant one-dimensional vector, like the manifest.
        return self._collection(self._names(self.name, self.version())[2])

    def forget(self) -> None:
        """Drop cached collection handles and the cached pointer (after a collection vanished under a reader)."""
        self._open.clear()
        with self._lock:
            self._version = None

    def count(self) -> int:
        return int(self.chunks.count())

    def live(self, part: str = "chunks") -> LiveCollection:
        """The chunk collection (or the `sentences` one) as readers should hold it: always the current version."""
        return LiveCollection(self, part)


class LiveCollection:
    """Stands for the current version's chunk (or sentence-vector) collection: each call goes to whichever version is
    current, and a call that meets a collection deleted by a rebuild is retried once on the new one. Store errors
    that mean "cannot reach the index" become `IndexUnavailable`."""

    def __init__(self, store: Store, part: str = "chunks") -> None:
        self.store = store
        self.part = part

    def _call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        for attempt in (1, 2):
            try:
                return getattr(getattr(self.store, self.part), method)(*args, **kwargs)
            except Exception as e:  # noqa: BLE001 - classified below
                if attempt == 1 and (type(e).__name__ == "NotFoundError" or _CHANGED_UNDER.search(str(e))):
                    # A rebuild switched versions and dropped the old collection mid-call (a Chroma server says
                    # "Missing metadata segment" or "Error finding id" as often as NotFoundError): resolve the
                    # pointer again and retry once.
                    log.info("the index changed under a read (%s: %s); reading again", type(e).__name__, e)
                    self.store.forget()
                    time.sleep(0.05)
                    continue
                if _unavailable(e):
                    log.warning("article index unavailable: %s: %s", type(e).__name__, e)
                with reaching_index():  # classified as every store call is
                    raise
        raise AssertionError("unreachable")

    def get(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return self._call("get", *args, **kwargs)
        except Exception as e:  # noqa: BLE001 - one case is handled, the rest re-raised
            ids = kwargs.get("ids")
            if not ids or args or "error finding id" not in str(e).lower():
                raise
            # A Chroma server can fail a get by ids with "Error finding id" while an ingest deletes some of them
            # (seen in the live-index test: a question asked during an edit). The embedded client returns the
            # others. Asking by metadata instead returns the chunks that exist.
            log.info("reading chunks by id failed during a change (%s); reading them by metadata", e)
            rest = {k: v for k, v in kwargs.items() if k != "ids"}
            return self._call("get", where={"chunk_id": {"$in": list(ids)}}, **rest)

    def query(self, *args: Any, **kwargs: Any) -> Any:
        return self._call("query", *args, **kwargs)

    def count(self) -> int:
        return int(self._call("count"))


@contextlib.contextmanager
def reaching_index(message: str | None = None, *, store_only: bool = False) -> Iterator[None]:
    """Store errors that mean "cannot reach the index" (a server down or hung, a collection gone) raised inside
    become `IndexUnavailable`, with `message` instead of the default one when given; anything else goes through.
    `store_only`: only errors raised by chromadb or its HTTP client count (around more than store calls: an ingest
    run, where a broken pipe to a closed `| head` is a ConnectionError too)."""
    try:
        yield
    except IndexUnavailable as e:
        if message is None:
            raise
        raise IndexUnavailable(e.detail, message) from e
    except Exception as e:  # noqa: BLE001 - classified
        if not _unavailable(e) or (store_only and not type(e).__module__.startswith(("chromadb", "httpx"))):
            raise
        raise IndexUnavailable(f"{type(e).__name__}: {e}", message) from e


def guarded(call: Callable[[], Any]) -> Any:
    """Run one store call, turning "cannot reach the index" into `IndexUnavailable`."""
    with reaching_index():
        return call()


def open_store(
    *,
    embedder: Embedder,
    collection: str,
    path: Path | None = None,
    host: str | None = None,
    port: int = 8000,
    timeout: float | None = None,
) -> Store:
    """Open an embedded store at `path`, or a server at `host:port` when `host` is given (every request bounded
    by `timeout` seconds when given)."""
    settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    if host:
        import httpx

        location = f"http://{host}:{port}"
        # Building chromadb's client already asks the server who we are, with no time limit (a hung server hangs
        # it for good): ask a bounded heartbeat first. Both failures say which server, not a traceback.
        from chromadb.api.fastapi import FastAPI

        wait = timeout or 30.0
        unreachable = f"the Chroma server at {location} cannot be reached (CHROMA_HOST, CHROMA_PORT)"
        # (the URL as chromadb makes it: CHROMA_HOST may be a whole https://… address; any answer, even an HTTP
        # error, shows the server is alive, and chromadb's client then says what it thinks of it)
        api = FastAPI.resolve_url(chroma_server_host=host, chroma_server_http_port=port, default_api_path="/api/v2")
        hung = f"the Chroma server at {location} did not answer within {wait:g} s (CHROMA_TIMEOUT)"
        try:
            httpx.get(f"{api}/heartbeat", timeout=wait)
        except httpx.TimeoutException as e:
            raise IndexUnavailable(f"{type(e).__name__}: {e}", hung) from e
        except httpx.HTTPError as e:
            raise IndexUnavailable(f"{type(e).__name__}: {e}", unreachable) from e
        # A server that hangs right after its heartbeat would still hang chromadb's setup: it is waited for
        # `wait` seconds in a thread of its own (left behind, blocked, if the server never answers).
        built: dict[str, Any] = {}

        def connect() -> None:
            try:
                built["client"] = chromadb.HttpClient(host=host, port=port, settings=settings)
            except Exception as e:  # noqa: BLE001 - handed to the caller's thread
                built["error"] = e

        setup = threading.Thread(target=connect, name="chroma-connect", daemon=True)
        setup.start()
        setup.join(wait)
        if setup.is_alive():
            raise IndexUnavailable("chromadb's client setup did not return", hung)
        if "error" in built:
            with reaching_index(unreachable):
                raise built["error"]
        client = built["client"]
        if timeout:
            # chromadb's HTTP client is built with httpx's timeout=None (wait forever); bound every request.
            client._server._session.timeout = httpx.Timeout(timeout)
    else:
        if path is None:
            raise ValueError("an embedded store needs a path")
        path.mkdir(parents=True, exist_ok=True)
        client = chromadb.PersistentClient(path=str(path), settings=settings)
        location = str(path)
    return Store(client=client, name=collection, embedder=embedder, location=location)


def index_model(store: Store) -> str | None:
    """The embedder `name` (model and backend) the current index version was built with; None for an index no ingest
    has finished writing yet. A reader embedding its questions with another must not query it (ingest.index
    re-embeds the index when they differ)."""
    got = guarded(lambda: store.manifest.get(ids=[META_ID], include=["metadatas"]))
    return str(got["metadatas"][0].get("model")) if got["ids"] else None


def generation(store: Store) -> str:
    """Changes whenever an ingest changed the index (or a rebuild switched versions); readers (the BM25 side)
    refresh when it does."""

    def read() -> str:
        version = store.version()
        got = store.manifest.get(ids=[META_ID], include=["metadatas"])
        stamp = str(got["metadatas"][0].get("generation", "")) if got["ids"] else ""
        return f"{version}:{stamp}"

    try:
        return read()
    except Exception as e:  # noqa: BLE001 - classified
        if type(e).__name__ == "NotFoundError" or _CHANGED_UNDER.search(str(e)):
            # a manifest deleted under us by a rebuild (a Chroma server may say "Missing metadata segment" while
            # it drops the collection): resolve the current version again, once
            store.forget()
            return guarded(read)
        with reaching_index():  # classified as every store call is
            raise
