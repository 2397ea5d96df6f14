"""Admin routes: an ingest run in the server process (the one that owns an embedded index), streamed as NDJSON;
token-protected, one run at a time.

    POST   /admin/ingest               {"corpus": …, "rebuild": false}: ingest a folder (app.py ingest hands its runs here)
    POST   /admin/articles             multipart `files`: save them under CORPUS_DIR/uploads/ and ingest (library page)
    DELETE /admin/articles/<source>    delete the file from CORPUS_DIR and ingest (its passages leave the index)

The library routes exist only when the server was given an ADMIN_TOKEN (never with the random per-start token that
`app.py ingest` uses on the same machine): uploads and removals are for a person who holds the token, never for an
anonymous visitor, and never from the widget. Every upload is checked whole (names, types, sizes, count) before
anything is written; a file is written next to its final name and renamed into place."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import queue
import re
import threading
import unicodedata
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response, StreamingResponse

from chat.web.context import WebContext, context
from chat.web.limits import ApiError

log = logging.getLogger(__name__)
Context = Annotated[WebContext, Depends(context)]


class AdminIngest:
    """Runs `ingest(corpus, rebuild, allow_empty, on_progress)` in this process (the one that owns an embedded
    index) and streams NDJSON lines: {"event": "progress", "done", "total"} while embedding, then
    {"event": "report", "report": {...}} (with "files": per uploaded or removed file, its outcome) or
    {"event": "error", "error": "..."}. One run at a time (409 while one runs); only with
    `Authorization: Bearer <token>`. `library` = (corpus folder, file suffixes the loader reads) enables uploads
    and removals there."""

    MAX_FILES = 20  # per upload

    def __init__(
        self,
        token: str,
        ingest: Callable[[str | None, bool, bool, Callable[[int, int], None]], dict[str, Any]],
        *,
        library: tuple[Path, frozenset[str]] | None = None,
        max_upload_bytes: int = 10_000_000,
    ) -> None:
        if not token:
            raise ValueError("an admin route needs a token")
        self.token = token
        self.ingest = ingest
        self.library = library
        self.max_upload_bytes = max_upload_bytes
        self._running = threading.Lock()

    def authorized(self, authorization: str) -> bool:
        import hmac

        scheme, _, given = authorization.partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), self.token.encode())

    def check(self, authorization: str) -> None:
        if not self.authorized(authorization):
            raise ApiError(401, "admin routes need 'Authorization: Bearer <token>'", {"WWW-Authenticate": "Bearer"})

    def run(self, corpus: str | None, rebuild: bool, allow_empty: bool = False) -> Iterator[str]:
        return self._stream(lambda progress: self.ingest(corpus, rebuild, allow_empty, progress))

    def _stream(self, job: Callable[[Callable[[int, int], None]], dict[str, Any]]) -> Iterator[str]:
        if not self._running.acquire(blocking=False):
            raise ApiError(409, "an ingest is already running in the server; wait for it to finish")
        events: queue.Queue[dict[str, Any] | None] = queue.Queue()

        def work() -> None:
            try:
                report = job(lambda done, total: events.put({"event": "progress", "done": done, "total": total}))
                events.put({"event": "report", "report": report})
            except Exception as e:  # noqa: BLE001 - reported to the caller, whole
                log.exception("ingest requested through an admin route failed")
                events.put({"event": "error", "error": f"{type(e).__name__}: {e}"})
            finally:
                events.put(None)
                self._running.release()

        threading.Thread(target=work, name="admin-ingest", daemon=True).start()

        def lines() -> Iterator[str]:
            while True:
                item = events.get()
                if item is None:
                    return
                yield json.dumps(item) + "\n"

        return lines()

    # --- the library: upload and remove ------------------------------------------------------------------

    def _folder(self) -> tuple[Path, frozenset[str]]:
        if self.library is None:
            raise ApiError(404, "this server does not manage its library (no corpus folder)")
        return self.library

    def upload_name(self, filename: str) -> str:
        """The name an uploaded file is saved under: its own base name with anything but letters, digits, '.', '-'
        and '_' made '-', or a 400 saying why it cannot be taken."""
        _, suffixes = self._folder()
        base = re.split(r"[\\/]", filename or "")[-1].strip()
        stem, suffix = os.path.splitext(base)
        suffix = suffix.lower()
        if suffix not in suffixes or not stem.strip(" ."):
            raise ApiError(400, f"'{base[:80]}': only {', '.join(sorted(suffixes))} files can be ingested")
        # Letters made plain ("Über" -> "Uber"), anything else made "-", the stem cut (never the suffix); a stem
        # with nothing left ("日本.md") is named after its bytes' name.
        plain = unicodedata.normalize("NFKD", stem).encode("ascii", "ignore").decode("ascii")
        safe = re.sub(r"[^A-Za-z0-9._-]+", "-", plain).strip(".-")[:100].rstrip(".-")
        if not safe:
            safe = "upload-" + hashlib.sha256(stem.encode("utf-8")).hexdigest()[:10]
        return safe + suffix

    def upload(self, files: list[tuple[str, bytes]]) -> Iterator[str]:
        """Check every file, then (in the run) write them under uploads/ and ingest the corpus."""
        corpus, _ = self._folder()
        if not files:
            raise ApiError(400, "no files: send them as multipart field 'files'")
        if len(files) > self.MAX_FILES:
            raise ApiError(413, f"at most {self.MAX_FILES} files per upload")
        named: dict[str, bytes] = {}
        for filename, data in files:
            name = self.upload_name(filename)
            if len(data) > self.max_upload_bytes:
                raise ApiError(
                    413, f"'{name}' is {len(data) / 1e6:.1f} MB; the limit is {self.max_upload_bytes / 1e6:.1f} MB"
                )
            if not data.strip():
                raise ApiError(400, f"'{name}' is empty")
            if name in named:
                raise ApiError(400, f"'{name}' is sent twice")
            named[name] = data

        def job(progress: Callable[[int, int], None]) -> dict[str, Any]:
            folder = corpus / "uploads"
            folder.mkdir(parents=True, exist_ok=True)
            outcome: dict[str, str] = {}
            for name, data in named.items():
                path = folder / name
                old = path.read_bytes() if path.is_file() else None
                outcome[f"uploads/{name}"] = "unchanged" if old == data else "updated" if old is not None else "added"
                if old != data:
                    part = path.with_name(f".{name}.part")
                    part.write_bytes(data)
                    part.replace(path)
            report = self.ingest(None, False, False, progress)
            return {**report, "files": file_outcomes(report, outcome)}

        return self._stream(job)

    def remove(self, source: str, indexed: set[str]) -> Iterator[str]:
        """Delete the file of the indexed article `source` from the corpus folder and ingest (its passages leave
        the index). Only an indexed article's own file: never the metadata sidecar, the evaluation set, a hidden
        file or what a link points at."""
        corpus, suffixes = self._folder()
        root = corpus.resolve()
        path = corpus / source
        if (
            source not in indexed
            or os.path.splitext(source)[1].lower() not in suffixes
            or any(part.startswith(".") for part in Path(source).parts)
            or not path.parent.resolve().is_relative_to(root)
            or path.is_symlink()
            or not path.is_file()
        ):
            raise ApiError(404, f"no indexed article file '{source[:200]}' in the corpus folder")

        def job(progress: Callable[[int, int], None]) -> dict[str, Any]:
            path.unlink()
            report = self.ingest(None, False, True, progress)
            return {**report, "files": file_outcomes(report, {source: "removed"})}

        return self._stream(job)


def file_outcomes(report: dict[str, Any], expected: dict[str, str]) -> list[dict[str, str]]:
    """Per file asked about: its outcome ("added", "updated", "unchanged", "removed"), or the status and reason the
    ingest report gives it (failed, skipped)."""
    problems = {p["source"]: p for p in report.get("problems", [])}
    out = []
    for source, status in expected.items():
        problem = problems.get(source)
        if problem:
            out.append({"source": source, "status": problem["status"], "reason": problem["reason"]})
        else:
            out.append({"source": source, "status": status, "reason": ""})
    return out


def admin_router(admin: AdminIngest) -> APIRouter:
    router = APIRouter()

    @router.post("/admin/ingest")
    async def admin_ingest(request: Request) -> Response:
        admin.check(request.headers.get("authorization", ""))
        try:
            payload = json.loads(await request.body() or b"{}")
        except ValueError:
            raise ApiError(400, "request body is not valid JSON") from None
        if not isinstance(payload, dict):
            raise ApiError(400, "request body must be a JSON object")
        corpus, rebuild = payload.get("corpus"), payload.get("rebuild", False)
        allow_empty = payload.get("allow_empty", False)
        if (
            corpus is not None
            and not isinstance(corpus, str)
            or not isinstance(rebuild, bool)
            or not isinstance(allow_empty, bool)
        ):
            raise ApiError(400, "'corpus' must be a string path, 'rebuild' and 'allow_empty' booleans")
        return ndjson(admin.run(corpus, rebuild, allow_empty))

    if admin.library is not None:

        @router.post("/admin/articles")
        async def upload_articles(request: Request) -> Response:
            admin.check(request.headers.get("authorization", ""))
            if not request.headers.get("content-type", "").startswith("multipart/form-data"):
                raise ApiError(400, "send the files as multipart/form-data, field 'files'")
            try:
                form = await request.form(max_files=admin.MAX_FILES + 1, max_fields=10)
            except Exception as e:  # noqa: BLE001 - starlette says what was wrong with the form
                raise ApiError(400, f"could not read the upload: {e}") from None
            files = []
            for item in form.getlist("files"):
                if isinstance(item, str):
                    raise ApiError(400, "'files' must be file parts")
                files.append((item.filename or "", await item.read(admin.max_upload_bytes + 1)))
            return ndjson(admin.upload(files))

        @router.delete("/admin/articles/{source:path}")
        def remove_article(source: str, request: Request, web: Context) -> Response:
            admin.check(request.headers.get("authorization", ""))
            return ndjson(admin.remove(source, {a.source for a in web.assistant.library()}))

    return router


def ndjson(lines: Iterator[str]) -> StreamingResponse:
    return StreamingResponse(lines, media_type="application/x-ndjson", headers={"Cache-Control": "no-cache"})
