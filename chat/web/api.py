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
import queue
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Literal

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from chat.assistant import Assistant, QuestionError
from chat.schema import Answer
from chat.web.limits import MAX_HISTORY_TURNS, UI_BODY_FACTOR, ApiError, RateLimiter, WebGuard

log = logging.getLogger(__name__)
STATIC = Path(__file__).with_name("static")
MODEL_ID = "research-chatbot"


class Turn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    role: Literal["user", "assistant"]
    content: str


class AskRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    question: str = Field(..., description="The question.")
    history: list[Turn] = Field(default_factory=list, max_length=MAX_HISTORY_TURNS,
                                description=f"Earlier turns, oldest first (at most {MAX_HISTORY_TURNS}).")


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


UNAVAILABLE = "the article index is unavailable; try again shortly"


def create_api(assistant: Assistant, *, health: Callable[[], dict[str, Any]], allowed_origins: list[str],
               limiter: RateLimiter, max_body_bytes: int, title: str = "Research chatbot",
               unavailable: tuple[type[BaseException], ...] = (),
               admin: AdminIngest | None = None) -> FastAPI:
    """`unavailable`: the exceptions that mean the article index cannot be reached now (503 with Retry-After);
    `admin`: runs an ingest in this process for `POST /admin/ingest` (token-protected), or None for no route."""
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
        if unavailable and isinstance(exc, unavailable):
            return JSONResponse({"error": UNAVAILABLE}, status_code=503, headers={"Retry-After": "5"})
        log.exception("unhandled error on %s", request.url.path)
        return JSONResponse({"error": "internal error; the server log has details"}, status_code=500)

    app.add_middleware(WebGuard, limit=max_body_bytes, ui_limit=max_body_bytes * UI_BODY_FACTOR)

    def client_key(request: Request) -> str:
        return request.client.host if request.client else "unknown"

    def answer_or_400(question: str, history: list[dict[str, str]]) -> Answer:
        try:
            return assistant.ask(question, history)
        except QuestionError as e:
            raise ApiError(400, str(e)) from e

    # --- the chatbot's own API ------------------------------------------------------------------------

    @app.get("/healthz")
    def healthz() -> Any:
        try:
            return {"status": "ok", "mode": assistant.mode, **health()}
        except unavailable:
            return JSONResponse({"status": "unavailable", "mode": assistant.mode, "index": "unavailable"},
                                status_code=503, headers={"Retry-After": "5"})

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
            first = next(stream)  # a bad question fails here, before any bytes: a proper 400 (or 503)
        except QuestionError as e:
            raise ApiError(400, str(e)) from e
        except unavailable:
            raise ApiError(503, UNAVAILABLE, {"Retry-After": "5"}) from None

        def events() -> Iterator[str]:
            try:
                for item in _chain(first, stream):
                    if isinstance(item, Answer):
                        yield sse("answer", item.to_dict())
                    else:
                        yield sse("token", {"text": item, "draft": assistant.mode != "extractive"})
            except Exception as e:  # noqa: BLE001 - the stream has started; report in-band
                if unavailable and isinstance(e, unavailable):
                    yield sse("error", {"error": UNAVAILABLE})
                else:
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
        stream = completion_options(payload)
        limiter.check(client_key(request))
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

    # --- admin: ingest in this process -----------------------------------------------------------------

    if admin is not None:
        @app.post("/admin/ingest")
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
            if (corpus is not None and not isinstance(corpus, str) or not isinstance(rebuild, bool)
                    or not isinstance(allow_empty, bool)):
                raise ApiError(400, "'corpus' must be a string path, 'rebuild' and 'allow_empty' booleans")
            return StreamingResponse(admin.run(corpus, rebuild, allow_empty), media_type="application/x-ndjson",
                                     headers={"Cache-Control": "no-cache"})

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
    def widget_page(request: Request) -> Response:
        if len(request.url.query) > 1024:
            raise ApiError(400, "widget parameters too long (title: 60 characters, greeting: 240)")
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


class AdminIngest:
    """`POST /admin/ingest`: runs `ingest(corpus, rebuild, allow_empty, on_progress)` in this process (the one that owns an
    embedded index) and streams NDJSON lines: {"event": "progress", "done", "total"} while embedding, then
    {"event": "report", "report": {...}} or {"event": "error", "error": "..."}. One run at a time (409 while one
    runs); only with `Authorization: Bearer <token>`."""

    def __init__(self, token: str,
                 ingest: Callable[[str | None, bool, bool, Callable[[int, int], None]], dict[str, Any]]) -> None:
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
                report = self.ingest(corpus, rebuild, allow_empty,
                                     lambda done, total: events.put({"event": "progress", "done": done, "total": total}))
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
    """OpenAI `messages` → (last user question, earlier user/assistant turns); 400 on anything malformed.

    System and developer messages are accepted and not used (the assistant's rules are its own); tool and
    function messages are refused (no tools here). Content is a string or a list of text parts."""
    if not isinstance(payload, dict):
        raise ApiError(400, "request body must be a JSON object")
    messages = payload.get("messages")
    if not isinstance(messages, list) or not messages:
        raise ApiError(400, "'messages' must be a non-empty list")
    turns: list[dict[str, str]] = []
    for i, m in enumerate(messages):
        if not isinstance(m, dict) or m.get("role") not in ("system", "user", "assistant", "developer"):
            raise ApiError(400, f"messages[{i}] must be an object with a role of system, developer, user or assistant")
        content = m.get("content")
        if isinstance(content, list):  # content parts: text ones only
            texts = []
            for j, part in enumerate(content):
                if not isinstance(part, dict) or part.get("type") != "text" or not isinstance(part.get("text"), str):
                    raise ApiError(400, f"messages[{i}].content[{j}] must be {{\"type\": \"text\", \"text\": <string>}}")
                texts.append(part["text"])
            content = " ".join(texts)
        if not isinstance(content, str):
            raise ApiError(400, f"messages[{i}].content must be a string or a list of text parts")
        if m["role"] in ("user", "assistant"):
            turns.append({"role": m["role"], "content": content})
    if not turns or turns[-1]["role"] != "user":
        raise ApiError(400, "the last message must come from the user")
    if len(turns) - 1 > MAX_HISTORY_TURNS:
        raise ApiError(400, f"too many earlier turns ({len(turns) - 1}; the limit is {MAX_HISTORY_TURNS})")
    return turns[-1]["content"], turns[:-1]


def completion_options(payload: dict[str, Any]) -> bool:
    """Check the OpenAI request fields this server reads or accepts (400 on a wrong type or value, as OpenAI
    does); returns whether to stream."""
    def number(name: str, low: float, high: float, integer: bool = False) -> None:
        value = payload.get(name)
        if value is None:
            return
        kind = int if integer else (int, float)
        if isinstance(value, bool) or not isinstance(value, kind) or not low <= value <= high:
            what = "an integer" if integer else "a number"
            raise ApiError(400, f"'{name}' must be {what} from {low:g} to {high:g}")

    stream = payload.get("stream", False)
    if stream is not None and not isinstance(stream, bool):
        raise ApiError(400, "'stream' must be true or false")
    number("n", 1, 1, integer=True)  # one answer per question: it is deterministic
    number("max_tokens", 1, 1_000_000, integer=True)
    number("max_completion_tokens", 1, 1_000_000, integer=True)
    number("temperature", 0, 2)
    number("top_p", 0, 1)
    model = payload.get("model")
    if model is not None and not isinstance(model, str):
        raise ApiError(400, "'model' must be a string")
    return bool(stream)
