"""What anonymous clients may send: the question budget per client, request-body limits, the Gradio routes the
window uses, and who may frame the pages. Each limit raises `ApiError` (or answers 413/404 itself, for the ASGI
guard), which the routes of chat.web.api turn into JSON errors and the chat window into a message.
"""

from __future__ import annotations

import json
import math
import re
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

MAX_HISTORY_TURNS = 40  # earlier turns a question may carry (API, OpenAI route and chat window alike)
UI_BODY_FACTOR = 4  # the chat window's events may be this many times MAX_BODY_KB (see WebGuard)


class ApiError(Exception):
    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.headers = status, message, headers or {}


class RateLimiter:
    """Sliding one-minute window per client; thread-safe (sync routes run in a thread pool)."""

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def check(self, client: str) -> None:
        if self.per_minute <= 0:
            return
        now = time.monotonic()
        with self._lock:
            hits = self._hits.setdefault(client, deque())
            while hits and now - hits[0] >= 60:
                hits.popleft()
            if len(hits) >= self.per_minute:
                wait = max(1, math.ceil(60 - (now - hits[0])))
                raise ApiError(
                    429,
                    f"too many questions: the limit is {self.per_minute} per minute; try again in {wait} s",
                    {"Retry-After": str(wait)},
                )
            hits.append(now)
            if len(self._hits) > 10_000:  # forget idle clients so memory stays bounded
                for key in [k for k, v in self._hits.items() if not v or now - v[-1] >= 60]:
                    del self._hits[key]


# Gradio's own POST routes that the chat window uses; every other one (file upload, audio recording, run history,
# "vibe" editing …) is refused: the app has no such feature, so anonymous clients must not reach them.
GRADIO_POSTS = re.compile(r"^/gradio_api/(?:queue/join|run/|call/|api/|reset|cancel|heartbeat)")


class WebGuard:
    """ASGI middleware in front of every route (API, widget and the Gradio window):

    - request bodies over the limit get a 413 (declared or streamed): `limit` bytes for the API and admin routes,
      `ui_limit` for Gradio's events (the window sends the whole conversation, with its markup, each turn),
      `upload_limit` for the library's uploads (POST /admin/articles, token-protected; nothing is written before
      the token is checked);
    - POSTs to Gradio routes the window does not use get a 404 (no uploads: nothing anonymous is stored);
    - every page but the widget says it may only be framed by this site (CSP frame-ancestors and
      X-Frame-Options); the widget sets its own frame-ancestors from ALLOWED_EMBED_ORIGINS.
    """

    UPLOADS = "/admin/articles"

    def __init__(
        self,
        app: Any,
        limit: int,
        ui_limit: int,
        upload_limit: int | None = None,
        upload_authorized: Callable[[str], bool] | None = None,
    ) -> None:
        self.app, self.limit, self.ui_limit = app, limit, ui_limit
        self.upload_limit = upload_limit if upload_limit is not None else limit
        self.upload_authorized = upload_authorized  # None: no uploads (the route does not exist)

    @staticmethod
    async def _json(send: Callable, status: int, message: str) -> None:
        body = json.dumps({"error": message}).encode()
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
            }
        )
        await send({"type": "http.response.body", "body": body})

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        path = scope["path"]
        framed_ok = path == "/widget" or path.startswith("/widget/") or path == "/widget.js"

        async def send_with_headers(message: dict) -> None:
            if message["type"] == "http.response.start" and not framed_ok:
                headers = list(message.get("headers", []))
                names = {k.lower() for k, _ in headers}
                if b"content-security-policy" not in names:
                    headers.append((b"content-security-policy", b"frame-ancestors 'self'"))
                if b"x-frame-options" not in names:
                    headers.append((b"x-frame-options", b"SAMEORIGIN"))
                message = {**message, "headers": headers}
            await send(message)

        if scope["method"] not in ("POST", "PUT", "PATCH"):
            return await self.app(scope, receive, send_with_headers)
        gradio = path.startswith("/gradio_api/")
        if gradio and not GRADIO_POSTS.match(path):
            return await self._json(send, 404, f"no such endpoint: {path}")
        limit = self.ui_limit if not path.startswith(("/api/", "/v1/", "/admin/")) else self.limit
        if path == self.UPLOADS and self.upload_authorized is not None:
            # The upload limit is large: only a caller holding the admin token may send that much (checked before
            # a byte of the body is read).
            authorization = dict(scope["headers"]).get(b"authorization", b"").decode("latin-1")
            if not self.upload_authorized(authorization):
                return await self._json(send, 401, "admin routes need 'Authorization: Bearer <token>'")
            limit = self.upload_limit
        too_large = f"request body too large (limit {limit} bytes)"
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            return await self._json(send, 413, too_large)
        parts: list[bytes] = []
        size, more = 0, True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            parts.append(message.get("body", b""))
            size += len(parts[-1])
            more = message.get("more_body", False)
            if size > limit:
                return await self._json(send, 413, too_large)
        body = b"".join(parts)
        replayed = False

        async def replay() -> dict:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send_with_headers)
