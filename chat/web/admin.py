"""`POST /admin/ingest`: an ingest run in the server process (the one that owns an embedded index), streamed as
NDJSON; token-protected, one run at a time."""

from __future__ import annotations

import json
import logging
import queue
import threading
from collections.abc import Callable, Iterator
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response, StreamingResponse

from chat.web.limits import ApiError

log = logging.getLogger(__name__)


class AdminIngest:
    """`POST /admin/ingest`: runs `ingest(corpus, rebuild, allow_empty, on_progress)` in this process (the one that owns an
    embedded index) and streams NDJSON lines: {"event": "progress", "done", "total"} while embedding, then
    {"event": "report", "report": {...}} or {"event": "error", "error": "..."}. One run at a time (409 while one
    runs); only with `Authorization: Bearer <token>`."""

    def __init__(
        self, token: str, ingest: Callable[[str | None, bool, bool, Callable[[int, int], None]], dict[str, Any]]
    ) -> None:
        if not token:
            raise ValueError("an admin route needs a token")
        self.token = token
        self.ingest = ingest
        self._running = threading.Lock()

    def check(self, authorization: str) -> None:
        import hmac

        scheme, _, given = authorization.partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), self.token.encode()):
            raise ApiError(401, "admin routes need 'Authorization: Bearer <token>'", {"WWW-Authenticate": "Bearer"})

    def run(self, corpus: str | None, rebuild: bool, allow_empty: bool = False) -> Iterator[str]:
        if not self._running.acquire(blocking=False):
            raise ApiError(409, "an ingest is already running in the server; wait for it to finish")
        events: queue.Queue[dict[str, Any] | None] = queue.Queue()

        def work() -> None:
            try:
                report = self.ingest(
                    corpus,
                    rebuild,
                    allow_empty,
                    lambda done, total: events.put({"event": "progress", "done": done, "total": total}),
                )
                events.put({"event": "report", "report": report})
            except Exception as e:  # noqa: BLE001 - reported to the caller, whole
                log.exception("ingest requested through /admin/ingest failed")
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
        return StreamingResponse(
            admin.run(corpus, rebuild, allow_empty),
            media_type="application/x-ndjson",
            headers={"Cache-Control": "no-cache"},
        )

    return router
