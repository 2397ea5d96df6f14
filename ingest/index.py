"""Chunks → Chroma, idempotently and incrementally; safe to kill at any point and run again.

    python app.py ingest [--corpus DIR] [--rebuild]

How a run converges (see README "How ingestion stays consistent"):
1. Every file gets a key: hash of its bytes, its sidecar metadata and the pipeline signature (model, chunk
   sizes, cleaner version). A file whose key matches a `done` manifest record is unchanged: not even parsed.
2. Changed and new files are marked `pending` in the manifest *before* their chunks are written, so a crash
   leaves a marker that makes the next run redo them.
3. Chunks are upserted by stable id. Embeddings are reused by text hash from anything already stored (a
   renamed file, an identical copy, the untouched paragraphs of an edited file, a run killed half-way), so
   only new text is ever embedded.
4. Stale chunks of a changed file are deleted, then its record is marked `done`.
5. Files gone from disk lose their chunks, then their record. A `generation` stamp changes whenever the
   index changed, which is how the lexical (BM25) side knows to refresh.
6. A rebuild writes a new index version and switches readers to it when it is complete (ingest.store).
Concurrent runs are refused with a clear message by an exclusive file lock.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import fcntl
import hashlib
import json
import logging
import os
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from ingest.embed import Embedder
from ingest.load import LOADER_VERSION, Document, LoadError, discover, parse_document, read_sidecar, sidecar_entry
from ingest.records import ChunkMetadata, SentenceVectors, chunk_metadata, pack_vectors, texts_key
from ingest.split import Chunk, Splitter
from ingest.store import META_ID, Store, index_model, reaching_index

log = logging.getLogger(__name__)

SentenceTexts = Callable[[str, ChunkMetadata], list[str]]

UNIT_VECTOR = [1.0]  # manifest records are looked up by id/metadata only
INTERRUPTED = (
    "the article index stopped answering during the ingest; run it again once the index is back: "
    "what was written is kept and not embedded again"
)


class IngestLocked(RuntimeError):
    """Another ingest holds the lock on this index."""


@dataclass
class IngestReport:
    added: int = 0
    unchanged: int = 0
    updated: int = 0
    deleted: int = 0
    skipped: int = 0
    failed: int = 0
    renamed: int = 0
    chunks_total: int = 0
    chunks_embedded: int = 0
    chunks_reused: int = 0
    sentences_embedded: int = 0  # texts the answerer scores, embedded for the passages written (SentenceVectors)
    seconds: float = 0.0
    rebuilt: str = ""  # why every chunk was embedded again into a new index version ("" = not rebuilt)
    problems: list[dict[str, str]] = field(default_factory=list)  # {"source", "status", "reason"}
    renames: list[tuple[str, str]] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {k: getattr(self, k) for k in ("added", "unchanged", "updated", "deleted", "skipped", "failed")}

    def as_dict(self) -> dict[str, Any]:
        return {
            **self.counts(),
            "renamed": self.renamed,
            "chunks_total": self.chunks_total,
            "chunks_embedded": self.chunks_embedded,
            "chunks_reused": self.chunks_reused,
            "sentences_embedded": self.sentences_embedded,
            "seconds": round(self.seconds, 3),
            "rebuilt": self.rebuilt,
            "problems": self.problems,
            "renames": [list(pair) for pair in self.renames],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> IngestReport:
        counts = {f.name for f in dataclasses.fields(cls)} - {"problems", "renames"}
        known = {k: data[k] for k in counts if k in data}
        return cls(
            **known,
            problems=list(data.get("problems", [])),
            renames=[(str(a), str(b)) for a, b in data.get("renames", [])],
        )

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.deleted or self.renamed)


@dataclass
class _Pending:
    source: str
    path: Path
    key: str
    file_hash: str
    existed: bool  # a manifest record existed (done or pending): stale chunks may need removing
    new: bool  # no finished version of the file was ever indexed: reported as added, not updated
    doc: Document | None = None
    chunks: list[Chunk] = field(default_factory=list)


def _never_finished(record: dict[str, Any]) -> bool:
    """A manifest record a stopped run left `pending` for a file that no run has finished indexing (it was new)."""
    return record.get("state") == "pending" and bool(record.get("new"))


def _batches(items: list[Any], size: int) -> Iterator[list[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


class Indexer:
    def __init__(
        self,
        store: Store,
        splitter: Splitter,
        *,
        lock_path: Path,
        max_file_bytes: int,
        batch_size: int = 256,
        chunk_tokens: int = 0,
        overlap_tokens: int = 0,
        sentence_texts: SentenceTexts | None = None,
        sentence_version: str = "",
    ) -> None:
        """`sentence_texts(text, metadata)`: the texts the answerer will score in a passage; their vectors are
        stored beside it (`<index>__sentences`), so that answering embeds only the question. `sentence_version`
        names that function's rules: part of the pipeline signature, so a change re-derives them all."""
        self.store = store
        self.sentence_texts = sentence_texts
        self.sentence_version = sentence_version
        self.embedder: Embedder = store.embedder
        self.splitter = splitter
        self.lock_path = lock_path
        self.max_file_bytes = max_file_bytes
        self.batch_size = batch_size
        self.signature = f"{self.embedder.name}|{chunk_tokens}|{overlap_tokens}|load-{LOADER_VERSION}"
        self.signature += f"|sentences-{sentence_version}" if sentence_texts is not None else "|sentences-off"
        self._on_progress: Callable[[int, int], None] | None = None

    # --- locking -----------------------------------------------------------------------------------

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        self.lock_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.lock_path, "a+") as fh:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                fh.seek(0)
                holder = fh.read().strip() or "unknown"
                raise IngestLocked(
                    f"another ingest is already running on this index (pid {holder}, lock {self.lock_path}); "
                    "wait for it to finish"
                ) from None
            fh.seek(0)
            fh.truncate()
            fh.write(str(os.getpid()))
            fh.flush()
            try:
                yield
            finally:
                fh.seek(0)
                fh.truncate()
                fcntl.flock(fh, fcntl.LOCK_UN)

    # --- helpers -------------------------------------------------------------------------------------

    def _text_hash(self, embed_text: str) -> str:
        return hashlib.sha256(f"{self.embedder.name}\x00{embed_text}".encode()).hexdigest()[:32]

    def _manifest_records(self) -> dict[str, dict[str, Any]]:
        got = self.store.manifest.get(where={"kind": "file"}, include=["metadatas"])
        return {m["source"]: m for m in got["metadatas"]}

    def _model_changed(self) -> str:
        """Why the index must be embedded again ("" when it need not): it was built by another model or backend
        (the embedder's `name` carries both), whose vectors must never be mixed with this one's."""
        built_with = index_model(self.store)
        if built_with is not None and built_with != self.embedder.name:
            reason = f"embedding model changed: {built_with} -> {self.embedder.name}"
            log.warning("index was built with embedding model %s; rebuilding it for %s", built_with, self.embedder.name)
            return reason
        return ""

    def _problem(self, report: IngestReport, source: str, status: str, reason: str) -> None:
        setattr(report, status, getattr(report, status) + 1)
        report.problems.append({"source": source, "status": status, "reason": reason})
        log.warning("%s %s: %s", status, source, reason)

    def _known_embeddings(self, hashes: list[str]) -> dict[str, Any]:
        """Embeddings already stored for these text hashes (any source): reuse instead of re-embedding."""
        found: dict[str, Any] = {}
        for part in _batches(sorted(set(hashes)), 500):
            got = self.store.chunks.get(where={"text_hash": {"$in": part}}, include=["metadatas", "embeddings"])
            for meta, emb in zip(got["metadatas"], got["embeddings"]):
                found[meta["text_hash"]] = emb
        return found

    # --- the run -------------------------------------------------------------------------------------

    def run(
        self,
        corpus: Path,
        *,
        rebuild: bool = False,
        progress: bool = True,
        on_locked: Callable[[], None] | None = None,
        on_progress: Callable[[int, int], None] | None = None,
        allow_empty: bool = False,
    ) -> IngestReport:
        """Bring the index in line with `corpus`. `on_locked` runs once the ingest lock is held (it may raise to
        give the run up: the CLI hands the run to a server that took over the index meanwhile).

        A rebuild (asked for, or because the embedding model changed) fills a new index version while readers
        keep using the current one, then switches them over in one write and drops the old version.

        A corpus with no articles at all would delete every indexed one: refused (LoadError) unless
        `allow_empty` (a mistyped --corpus, an unmounted volume).

        A Chroma server that stops answering (or a collection that vanishes) mid-run raises `IndexUnavailable`
        saying so; what was written is kept, and the next run finishes without embedding it again."""
        with reaching_index(INTERRUPTED, store_only=True), self._locked():
            if on_locked is not None:
                on_locked()
            self._on_progress = on_progress
            started = time.perf_counter()
            report = IngestReport()
            base = self.store
            current = base.version(refresh=True)
            for leftover in base.versions():
                if leftover != current:  # a rebuild killed before it switched: nobody reads it
                    log.info("dropping index version %r left by an interrupted rebuild", leftover)
                    base.drop_version(leftover)
            report.rebuilt = "asked for (--rebuild)" if rebuild else self._model_changed()
            rebuild = bool(report.rebuilt)
            version = base.new_version() if rebuild else current
            if rebuild:
                log.info(
                    "rebuilding into index version %s; readers keep version %r until it is complete", version, current
                )
                self.store = base.for_version(version)
            try:
                self._run(corpus, rebuild, progress, report, allow_empty)
            finally:
                self.store = base
            if rebuild:
                base.switch(version)
                base.drop_version(current)
                log.info("switched readers to index version %s", version)
            report.seconds = time.perf_counter() - started
            report.chunks_total = self.store.count()
            log.info("ingest finished: %s", json.dumps(report.counts()))
            return report

    def _run(self, corpus: Path, rebuild: bool, progress: bool, report: IngestReport, allow_empty: bool) -> None:
        found = discover(corpus)
        if not found.files and not allow_empty and not found.unreadable:
            indexed = (
                len(self._manifest_records())
                if not rebuild
                else len(
                    self.store.for_version(self.store.version(refresh=True)).manifest.get(
                        where={"kind": "file"}, include=[]
                    )["ids"]
                )
            )
            if indexed:
                raise LoadError(
                    f"the corpus folder {corpus} holds no articles; refusing to remove the {indexed} "
                    "indexed ones (pass --allow-empty to empty the index)"
                )
        for source, reason in found.skipped:
            self._problem(report, source, "skipped", reason)
        for source, reason in found.failed:
            self._problem(report, source, "failed", reason)
        try:
            sidecar = read_sidecar(corpus)
        except LoadError as e:
            self._problem(report, "metadata.json", "failed", f"{e}; using metadata found in the files")
            sidecar = {}

        records = self._manifest_records()

        present: set[str] = set()  # sources whose current chunks must be kept
        todo: list[_Pending] = []
        for source, path in found.files:
            try:
                size = path.stat().st_size
                if size == 0:
                    self._problem(report, source, "skipped", "empty file")
                    continue
                if size > self.max_file_bytes:
                    self._problem(
                        report,
                        source,
                        "skipped",
                        f"file too large ({size / 1e6:.1f} MB > MAX_FILE_MB={self.max_file_bytes / 1e6:g})",
                    )
                    continue
                present.add(source)
                data = path.read_bytes()
            except OSError as e:
                present.add(source)  # a passing read error must not delete what is indexed
                self._problem(report, source, "failed", f"cannot read: {e.strerror or e}")
                continue
            extra = sidecar_entry(sidecar, source)
            file_hash = hashlib.sha256(data).hexdigest()
            key = hashlib.sha256(
                f"{self.signature}\x00{json.dumps(extra, sort_keys=True)}\x00{file_hash}".encode()
            ).hexdigest()
            record = records.get(source)
            if record and record.get("key") == key and record.get("state") == "done":
                report.unchanged += 1
                continue
            # A file a stopped run left `pending` keeps what it was to that run (its marker says whether it was new).
            new = record is None or _never_finished(record)
            item = _Pending(source, path, key, file_hash, existed=record is not None, new=new)
            try:
                item.doc = parse_document(source, path, data, extra)
                item.chunks = self.splitter.split(source, item.doc.text)
            except LoadError as e:
                self._problem(report, source, "failed", str(e))
                continue
            except Exception as e:  # noqa: BLE001 - one odd file must never stop the rest
                log.exception("unexpected error reading %s", source)
                self._problem(report, source, "failed", f"unexpected error: {type(e).__name__}: {e}")
                continue
            todo.append(item)

        # Articles in a folder that could not be listed keep their chunks (as an unreadable file does).
        gone = [
            s
            for s in records
            if s not in present and not any(d == "" or s.startswith(d + "/") for d in found.unreadable)
        ]
        self._write(todo, progress, report)
        self._delete(gone, todo, records, report)
        if report.changed or rebuild or not self.store.manifest.get(ids=[META_ID])["ids"]:
            self.store.manifest.upsert(
                ids=[META_ID],
                embeddings=[UNIT_VECTOR],
                metadatas=[
                    {
                        "kind": "meta",
                        "model": self.embedder.name,
                        "signature": self.signature,
                        "generation": uuid.uuid4().hex,
                        "updated": time.time(),
                    }
                ],
            )

    def _write(self, todo: list[_Pending], progress: bool, report: IngestReport) -> None:
        if not todo:
            return
        manifest = self.store.manifest
        for part in _batches(todo, 500):  # the marker that makes a killed run redo these files
            manifest.upsert(
                ids=[f"file:{p.source}" for p in part],
                embeddings=[UNIT_VECTOR] * len(part),
                metadatas=[
                    {
                        "kind": "file",
                        "source": p.source,
                        "key": p.key,
                        "file_hash": p.file_hash,
                        "state": "pending",
                        "new": p.new,
                    }
                    for p in part
                ],
            )
        # In document order: a file's neighbouring chunks share the sentences of their overlap (and a heading), so
        # the part that holds both, or the next part (`previous`), embeds those texts once (a quarter of
        # the sentence texts on the benchmark corpus). The encoder orders each part's texts longest first and
        # packs them into small passes (EMBED_BATCH_TOKENS), so the padding stays low without sorting the whole
        # run by length.
        rows = [(p, c) for p in todo for c in p.chunks]
        hashes = [self._text_hash(c.embed_text) for _, c in rows]
        known = self._known_embeddings(hashes)
        report_progress = self._on_progress or (lambda done, total: None)
        report_progress(0, len(rows))
        ingested = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        if progress and not getattr(self.embedder, "loaded", True) and any(h not in known for h in hashes):
            # Loading the model takes seconds: its own step, not an embedding bar sitting at 0 %.
            with tqdm(total=1, desc="loading the embedding model", bar_format="{desc}…", leave=False):
                _ = self.embedder.model
        done = 0
        previous: dict[str, np.ndarray] = {}  # the sentence vectors of the part last written
        with tqdm(total=len(rows), desc="embedding", unit="chunk", disable=not progress, leave=False) as bar:
            for part in _batches(list(zip(rows, hashes)), self.batch_size):
                fresh = {}
                for (_, c), h in part:
                    if h not in known:
                        fresh.setdefault(h, c.embed_text)
                if fresh:
                    vectors = self.embedder.encode(list(fresh.values()))
                    known.update(zip(fresh.keys(), vectors))
                report.chunks_embedded += len(fresh)
                report.chunks_reused += len(part) - len(fresh)
                records = [self._chunk_metadata(p, c, h, ingested) for (p, c), h in part]
                # The sentence vectors first: a passage is never in the index without them (a run killed between
                # the two writes leaves vectors that the next run finds by id and reuses).
                embedded, previous = self._write_sentences(
                    [(c.text, m) for ((_, c), _), m in zip(part, records)], previous
                )
                report.sentences_embedded += embedded
                self.store.chunks.upsert(
                    ids=[c.chunk_id for (_, c), _ in part],
                    embeddings=[known[h] for _, h in part],
                    documents=[c.text for (_, c), _ in part],
                    metadatas=records,
                )
                bar.update(len(part))
                done += len(part)
                report_progress(done, len(rows))

        # The chunks an earlier version of a file left behind, found a few hundred files per read (one filtered
        # read per file took minutes when a resumed run re-wrote ~15,000 files of a 129k-chunk index).
        existed = [p for p in todo if p.existed]
        for part in _batches(existed, 200):
            kept = {c.chunk_id for p in part for c in p.chunks}
            old = self.store.chunks.get(where={"source": {"$in": [p.source for p in part]}}, include=[])["ids"]
            stale = [i for i in old if i not in kept]
            for ids in _batches(stale, 5000):  # within Chroma's largest batch (5,461 here)
                self.store.chunks.delete(ids=ids)
                self.store.sentences.delete(ids=ids)
        for part in _batches(todo, 500):
            manifest.upsert(
                ids=[f"file:{p.source}" for p in part],
                embeddings=[UNIT_VECTOR] * len(part),
                metadatas=[
                    {
                        "kind": "file",
                        "source": p.source,
                        "key": p.key,
                        "file_hash": p.file_hash,
                        "state": "done",
                        "chunks": len(p.chunks),
                    }
                    for p in part
                ],
            )
        for p in todo:
            if p.new:
                report.added += 1
            else:
                report.updated += 1

    def _delete(
        self, gone: list[str], todo: list[_Pending], records: dict[str, dict[str, Any]], report: IngestReport
    ) -> None:
        new_by_hash = {p.file_hash: p for p in todo if p.new}
        for part in _batches(gone, 200):  # a few hundred files per delete, as `_write` reads re-written files
            self.store.chunks.delete(where={"source": {"$in": part}})
            self.store.sentences.delete(where={"source": {"$in": part}})
            self.store.manifest.delete(ids=[f"file:{source}" for source in part])
        for source in gone:
            if _never_finished(records[source]):
                continue  # a stopped run's new file, gone before any run finished it: never reported as added
            twin = new_by_hash.pop(records[source].get("file_hash", ""), None)
            if twin is not None:  # same bytes under a new name: report a rename, not add + delete
                report.added -= 1
                report.renamed += 1
                report.renames.append((source, twin.source))
                log.info("renamed %s -> %s", source, twin.source)
            else:
                report.deleted += 1

    def _write_sentences(
        self, passages: list[tuple[str, ChunkMetadata]], previous: dict[str, np.ndarray]
    ) -> tuple[int, dict[str, np.ndarray]]:
        """Store the vectors of the texts the answerer scores in these passages; returns how many texts were
        embedded, and this part's vectors by text (to pass on as `previous`: a chunk overlaps its neighbour, which
        may start the next part). A text in `previous` is not embedded again. A passage whose vectors are stored
        (under its id, or under another passage with the same text: a renamed file, an identical copy) keeps them."""
        if self.sentence_texts is None or not passages:
            return 0, previous
        texts = [self.sentence_texts(text, meta) for text, meta in passages]
        keys = [texts_key(t, self.sentence_version) for t in texts]
        ids = [meta["chunk_id"] for _, meta in passages]
        stored: dict[str, dict[str, Any]] = {}
        got = self.store.sentences.get(ids=ids, include=["metadatas"])
        stored.update({m["key"]: m for m in got["metadatas"] if m})
        hashes = sorted({meta["text_hash"] for _, meta in passages})
        got = self.store.sentences.get(where={"text_hash": {"$in": hashes}}, include=["metadatas"])
        stored.update({m["key"]: m for m in got["metadatas"] if m})
        wanted = list(dict.fromkeys(t for ts, key in zip(texts, keys) if key not in stored for t in ts))
        fresh = [t for t in wanted if t not in previous]
        vectors = dict(zip(fresh, self.embedder.encode(fresh))) if fresh else {}
        vectors.update((t, previous[t]) for t in wanted if t not in vectors)
        records = []
        for (_, meta), ts, key in zip(passages, texts, keys):
            old = stored.get(key)
            packed = old["vectors"] if old else pack_vectors(np.stack([vectors[t] for t in ts])) if ts else ""
            records.append(
                SentenceVectors(
                    source=meta["source"],
                    chunk_id=meta["chunk_id"],
                    text_hash=meta["text_hash"],
                    key=key,
                    count=len(ts),
                    vectors=packed,
                )
            )
        self.store.sentences.upsert(ids=ids, embeddings=[UNIT_VECTOR] * len(ids), metadatas=records)
        return len(fresh), vectors

    @staticmethod
    def _chunk_metadata(p: _Pending, c: Chunk, text_hash: str, ingested: str) -> ChunkMetadata:
        assert p.doc is not None
        return chunk_metadata(
            p.doc.metadata,
            index=c.index,
            chunk_id=c.chunk_id,
            chunks=len(p.chunks),
            start=c.start,
            end=c.end,
            section=c.section,
            text_hash=text_hash,
            ingested=ingested,
        )
