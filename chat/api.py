"""HTTP API over the same `Answer`: ask, streaming ask (SSE), OpenAI-compatible chat completions, the widget.

    curl -s localhost:7860/api/ask -H 'content-type: application/json' -d '{"question": "What is the maturity wall?"}'
    curl -sN localhost:7860/api/ask/stream -H 'content-type: application/json' -d '{"question": "..."}'
    python -c "from openai import OpenAI; print(OpenAI(base_url='http://localhost:7860/v1', api_key='x')
        .chat.completions.create(model='research-chatbot', messages=[{'role': 'user', 'content': 'Why small caps?'}]))"

Every error is JSON `{"error": reason}` with a 4xx status (500 without details for the unexpected); request
bodies are size-limited; each client gets a per-minute question budget. `/widget.js` is the one-line embed for
other sites: it checks the page's origin against ALLOWED_EMBED_ORIGINS and opens `/widget` in an iframe, whose
CSP `frame-ancestors` enforces the same list in the browser.
"""

from __future__ import annotations

import json
import logging
import math
import re
import threading
import time
import uuid
from collections import deque
from pathlib import Path
from typing import Any, Callable, Iterator

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response, StreamingResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from chat.assistant import Assistant, QuestionError
from chat.schema import Answer

log = logging.getLogger(__name__)
STATIC = Path(__file__).with_name("static")
MODEL_ID = "research-chatbot"


class ApiError(Exception):
    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.headers = status, message, headers or {}


class Turn(BaseModel):
    role: str
    content: str


class AskRequest(BaseModel):
    question: str = Field(..., description="The question.")
    history: list[Turn] = Field(default_factory=list, description="Earlier turns, oldest first.")


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
                raise ApiError(429, f"too many questions: the limit is {self.per_minute} per minute; "
                                    f"try again in {wait} s", {"Retry-After": str(wait)})
            hits.append(now)
            if len(self._hits) > 10_000:  # forget idle clients so memory stays bounded
                for key in [k for k, v in self._hits.items() if not v or now - v[-1] >= 60]:
                    del self._hits[key]


class BodyLimit:
    """ASGI middleware: reject API request bodies over `limit` bytes with a 413, chunked uploads included."""

    def __init__(self, app: Any, limit: int) -> None:
        self.app, self.limit = app, limit

    async def _reject(self, send: Callable) -> None:
        body = json.dumps({"error": f"request body too large (limit {self.limit} bytes)"}).encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http" or scope["method"] not in ("POST", "PUT", "PATCH") or \
                not scope["path"].startswith(("/api/", "/v1/")):
            return await self.app(scope, receive, send)
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.limit):
            return await self._reject(send)
        body, more = b"", True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > self.limit:
                return await self._reject(send)
        replayed = False

        async def replay() -> dict:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


def sse(event: str, data: Any) -> str:
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


def sources_text(answer: Answer) -> str:
    """Plain-text source list appended to OpenAI-compatible replies, for clients that ignore extra fields."""
    if not answer.citations:
        return ""
    lines = [f"[{c.n}] {c.title} — {c.publisher}, {c.published} ({c.source})" for c in answer.citations]
    return "\n\nSources:\n" + "\n".join(lines)


def frame_ancestors(origins: list[str]) -> str:
    if "*" in origins:
        return "frame-ancestors *"
    return "frame-ancestors " + " ".join(["'self'", *origins])


def create_api(assistant: Assistant, *, health: Callable[[], dict[str, Any]], allowed_origins: list[str],
               limiter: "RateLimiter", max_body_bytes: int, title: str = "Research chatbot") -> FastAPI:
    app = FastAPI(title=title, docs_url=None, redoc_url=None, openapi_url="/api/openapi.json")

    # --- errors: always JSON with a reason, never a stack trace -------------------------------------

    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse({"error": exc.message}, status_code=exc.status, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'] if p != 'body') or 'body'}: {e['msg']}"
                             for e in exc.errors())
        return JSONResponse({"error": f"invalid request: {problems}"}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return JSONResponse({"error": str(exc.detail)}, status_code=exc.status_code)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s", request.url.path)
        return JSONResponse({"error": "internal error; the server log has details"}, status_code=500)

    app.add_middleware(BodyLimit, limit=max_body_bytes)

    def client_key(request: Request) -> str:
        return request.client.host if request.client else "unknown"

    def answer_or_400(question: str, history: list[dict[str, str]]) -> Answer:
        try:
            return assistant.ask(question, history)
        except QuestionError as e:
            raise ApiError(400, str(e)) from e

    # --- the chatbot's own API ------------------------------------------------------------------------

    @app.get("/healthz")
    def healthz() -> dict[str, Any]:
        return {"status": "ok", "mode": assistant.mode, **health()}

    @app.post("/api/ask")
    def ask(body: AskRequest, request: Request) -> dict[str, Any]:
        limiter.check(client_key(request))
        return answer_or_400(body.question, [t.model_dump() for t in body.history]).to_dict()

    @app.post("/api/ask/stream")
    def ask_stream(body: AskRequest, request: Request) -> StreamingResponse:
        limiter.check(client_key(request))
        history = [t.model_dump() for t in body.history]
        stream = assistant.stream(body.question, history)
        try:
            first = next(stream)  # a bad question fails here, before any bytes: a proper 400
        except QuestionError as e:
            raise ApiError(400, str(e)) from e

        def events() -> Iterator[str]:
            try:
                for item in _chain(first, stream):
                    if isinstance(item, Answer):
                        yield sse("answer", item.to_dict())
                    else:
                        yield sse("token", {"text": item, "draft": assistant.mode != "extractive"})
            except Exception:  # noqa: BLE001 - the stream has started; report in-band
                log.exception("streaming answer failed")
                yield sse("error", {"error": "the answer could not be completed; please try again"})
            yield "event: done\ndata: {}\n\n"

        return StreamingResponse(events(), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})

    # --- OpenAI-compatible ----------------------------------------------------------------------------

    @app.get("/v1/models")
    def models() -> dict[str, Any]:
        return {"object": "list", "data": [{"id": MODEL_ID, "object": "model", "created": 0, "owned_by": "local"}]}

    @app.post("/v1/chat/completions")
    async def chat_completions(request: Request) -> Response:
        try:
            payload = json.loads(await request.body() or b"null")
        except ValueError:
            raise ApiError(400, "request body is not valid JSON") from None
        question, history = parse_messages(payload)
        limiter.check(client_key(request))
        stream = bool(payload.get("stream"))
        from starlette.concurrency import run_in_threadpool

        answer = await run_in_threadpool(answer_or_400, question, history)
        completion_id = f"chatcmpl-{uuid.uuid4().hex[:24]}"
        created = int(time.time())
        content = answer.text + sources_text(answer)
        extra = {"citations": [c.__dict__ for c in answer.citations], "refused": answer.refused}
        if not stream:
            return JSONResponse({
                "id": completion_id, "object": "chat.completion", "created": created, "model": MODEL_ID,
                "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}, **extra})

        def chunks() -> Iterator[str]:
            base = {"id": completion_id, "object": "chat.completion.chunk", "created": created, "model": MODEL_ID}
            yield "data: " + json.dumps({**base, "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""},
                                                             "finish_reason": None}]}) + "\n\n"
            for piece in split_for_streaming(content):
                yield "data: " + json.dumps({**base, "choices": [{"index": 0, "delta": {"content": piece},
                                                                 "finish_reason": None}]}, ensure_ascii=False) + "\n\n"
            yield "data: " + json.dumps({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
                                         **extra}, ensure_ascii=False) + "\n\n"
            yield "data: [DONE]\n\n"

        return StreamingResponse(chunks(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"})

    # --- the widget ------------------------------------------------------------------------------------

    @app.api_route("/api/{rest:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"])
    @app.api_route("/v1/{rest:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"])
    def unknown(request: Request, rest: str) -> None:
        # Without these, Gradio (mounted at "/") would answer with its own non-JSON 404.
        known = {route.path: route.methods for route in app.routes if hasattr(route, "methods")}
        if request.url.path in known:
            raise ApiError(405, f"{request.method} is not allowed on {request.url.path}; use "
                                f"{', '.join(sorted(known[request.url.path]))}")
        raise ApiError(404, f"no such endpoint: {request.url.path}")

    widget_js = (STATIC / "widget.js").read_text(encoding="utf-8")
    widget_html = (STATIC / "widget.html").read_text(encoding="utf-8")
    widget_app = (STATIC / "widget-app.js").read_text(encoding="utf-8")
    widget_css = (STATIC / "widget.css").read_text(encoding="utf-8")

    @app.get("/widget.js")
    def widget_loader() -> Response:
        body = widget_js.replace("__ALLOWED_ORIGINS__", json.dumps(allowed_origins))
        return Response(body, media_type="application/javascript",
                        headers={"Cache-Control": "no-cache", "Access-Control-Allow-Origin": "*"})

    @app.get("/widget")
    def widget_page() -> Response:
        csp = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
               f"connect-src 'self'; base-uri 'none'; form-action 'none'; {frame_ancestors(allowed_origins)}")
        return Response(widget_html, media_type="text/html",
                        headers={"Content-Security-Policy": csp, "X-Content-Type-Options": "nosniff",
                                 "Referrer-Policy": "no-referrer"})

    @app.get("/widget/app.js")
    def widget_script() -> Response:
        return Response(widget_app, media_type="application/javascript", headers={"X-Content-Type-Options": "nosniff"})

    @app.get("/widget/app.css")
    def widget_style() -> Response:
        return Response(widget_css, media_type="text/css", headers={"X-Content-Type-Options": "nosniff"})

    return app


def _chain(first: Any, rest: Iterator[Any]) -> Iterator[Any]:
    yield first
    yield from rest


def split_for_streaming(text: str, size: int = 24) -> list[str]:
    """Pieces of roughly `size` characters, cut after whitespace, that join back to exactly `text`."""
    pieces, current = [], ""
    for match in re.finditer(r"\S+\s*|\s+", text):
        current += match.group(0)
        if len(current) >= size:
            pieces.append(current)
            current = ""
    if current:
        pieces.append(current)
    return pieces


def parse_messages(payload: Any) -> tuple[str, list[dict[str, str]]]:
    """OpenAI `messages` → (last user question, earlier user/assistant turns); 400 on anything malformed."""
    if not isinstance(payload, dict):
        raise ApiError(400, "request body must be a JSON object")
    messages = payload.get("messages")
    if not isinstance(messages, list) or not messages:
        raise ApiError(400, "'messages' must be a non-empty list")
    turns: list[dict[str, str]] = []
    for i, m in enumerate(messages):
        if not isinstance(m, dict) or m.get("role") not in ("system", "user", "assistant", "developer", "tool"):
            raise ApiError(400, f"messages[{i}] must be an object with a role of system, user or assistant")
        content = m.get("content")
        if isinstance(content, list):  # content parts: keep the text ones
            content = " ".join(p.get("text", "") for p in content if isinstance(p, dict) and p.get("type") == "text")
        if not isinstance(content, str):
            raise ApiError(400, f"messages[{i}].content must be a string or a list of text parts")
        if m["role"] in ("user", "assistant"):
            turns.append({"role": m["role"], "content": content})
    if not turns or turns[-1]["role"] != "user":
        raise ApiError(400, "the last message must come from the user")
    return turns[-1]["content"], turns[:-1]
