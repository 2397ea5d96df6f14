"""A scripted, local OpenAI-compatible Chat Completions server for tests.

No LLM is available in tests, so we fake one at the HTTP boundary: a real
``ThreadingHTTPServer`` on ``127.0.0.1`` (free port, background thread) that
speaks the OpenAI wire format, so the real ``openai`` client and
``langchain_openai.ChatOpenAI`` can be pointed at it unchanged::

    with OpenAIStub() as stub:
        stub.reply("Paris is the capital of France.")        # queued, FIFO
        stub.reply(lambda req: f"{len(req['messages'])} messages")
        stub.fail(status=500, times=2)                       # queued HTTP errors
        stub.default = lambda req: "fallback"                # when queue empty
        client = openai.OpenAI(base_url=stub.base_url, api_key="sk-test")
        ...
        stub.requests[-1].json["max_tokens"]                 # what was sent

Endpoints: ``GET /v1/models``; ``POST /v1/chat/completions`` plain and with
``"stream": true`` (SSE: a role chunk, one content chunk per word, a chunk
with ``finish_reason``, a usage chunk if ``stream_options.include_usage``,
then ``data: [DONE]``). Order per chat request: record -> auth
(``require_key``) -> validation (400 if ``model``/``messages`` missing) ->
pop the queue (reply or failure) or call ``default``.

Token caps, modelled on real local servers ("tokens" = whitespace words):
``honour`` is the set of limit fields the server obeys (default both
``max_tokens`` and ``max_completion_tokens``; set ``{"max_tokens"}`` to
imitate llama.cpp/Ollama builds that ignore ``max_completion_tokens``).
``runaway_words = N`` appends N filler words (a model that rambles until its
context is full, ``finish_reason="length"``); an honoured limit then truncates
the text to that many words with ``finish_reason="length"``.

Finding (langchain-openai 1.7.3, openai 3.52): ``ChatOpenAI(max_tokens=N)``
(and ``.bind(max_tokens=N)`` / ``model_kwargs={"max_tokens": N}``) sends
**only** ``max_completion_tokens`` -- ``ChatOpenAI._default_params`` and
``_get_request_payload`` rename it. A server that honours only ``max_tokens``
therefore runs away. To send plain ``max_tokens`` use
``ChatOpenAI(..., extra_body={"max_tokens": N})`` (merged into the JSON body
by the openai client); combine with ``max_tokens=N`` to send both fields.
The raw ``openai`` client sends whichever field you pass.

``delay`` (seconds) sleeps before every streamed word (and per word, in one
go, for non-streamed replies -- handy for timeout tests).
"""

from __future__ import annotations

import json
import re
import socket
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

FILLER = "lorem"


@dataclass
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]  # lower-cased names
    json: Any  # parsed body, or None (no body / invalid JSON)


@dataclass
class _Failure:
    status: int
    body: Any
    headers: dict[str, str]


def _error(
    message: str, type_: str = "invalid_request_error", code: str | None = None, param: str | None = None
) -> dict:
    return {"error": {"message": message, "type": type_, "param": param, "code": code}}


def _text_of(content: Any) -> str:
    if isinstance(content, list):  # multi-part content
        return " ".join(p.get("text", "") for p in content if isinstance(p, dict))
    return content if isinstance(content, str) else ""


def echo_last_user(req: dict) -> str:
    """Default reply: echo the last user message."""
    users = [m for m in req.get("messages", []) if m.get("role") == "user"]
    return "Echo: " + (_text_of(users[-1].get("content")) if users else "")


class OpenAIStub:
    """Scripted OpenAI-compatible server; see the module docstring."""

    def __init__(self, models: list[str] | None = None) -> None:
        self.models = list(models or ["stub"])
        self.default: Callable[[dict], str] = echo_last_user
        self.delay = 0.0
        self.honour: set[str] = {"max_tokens", "max_completion_tokens"}
        self.runaway_words = 0
        self.require_key: str | None = None
        self.requests: list[RecordedRequest] = []
        self._queue: deque = deque()
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._port = 0

    # -- scripting --------------------------------------------------------
    def reply(self, *replies: str | Callable[[dict], str]) -> OpenAIStub:
        """Queue replies (text or ``callable(request_json) -> str``), FIFO."""
        with self._lock:
            self._queue.extend(replies)
        return self

    def fail(
        self, status: int = 500, body: Any = None, times: int = 1, headers: dict[str, str] | None = None
    ) -> OpenAIStub:
        """Queue ``times`` HTTP errors; ``body`` is a dict/str (default: OpenAI error JSON)."""
        if body is None:
            kind = "server_error" if status >= 500 else "invalid_request_error"
            body = _error(f"Stub error {status}", kind)
        with self._lock:
            self._queue.extend(_Failure(status, body, dict(headers or {})) for _ in range(times))
        return self

    def reset(self) -> None:
        """Forget queued replies/failures and recorded requests."""
        with self._lock:
            self._queue.clear()
            self.requests.clear()

    @property
    def pending(self) -> int:
        return len(self._queue)

    @property
    def last(self) -> RecordedRequest:
        return self.requests[-1]

    @property
    def chat_requests(self) -> list[dict]:
        """JSON bodies of all chat completion requests, in order."""
        return [r.json for r in self.requests if r.path.endswith("/chat/completions")]

    # -- lifecycle --------------------------------------------------------
    @property
    def port(self) -> int:
        assert self._port, "stub not started"
        return self._port

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        return self.url + "/v1"

    def start(self) -> OpenAIStub:
        handler = type("Handler", (_Handler,), {"stub": self})
        self._server = _Server(("127.0.0.1", 0), handler)
        self._port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            daemon=True,
            name=f"openai-stub:{self.port}",
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, drop open connections, release the port (idempotent)."""
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.close_connections()
        server.server_close()
        assert self._thread is not None
        self._thread.join(timeout=2)

    def __enter__(self) -> OpenAIStub:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- reply generation (called from handler threads) --------------------
    def _next(self, req: dict) -> str | _Failure:
        with self._lock:
            item = self._queue.popleft() if self._queue else self.default
        if isinstance(item, _Failure):
            return item
        return item(req) if callable(item) else str(item)

    def _shape(self, text: str, req: dict) -> tuple[str, str]:
        """Apply runaway padding and honoured token caps -> (text, finish_reason)."""
        finish = "stop"
        limits = [req[k] for k in sorted(self.honour) if isinstance(req.get(k), int)]
        if self.runaway_words:
            text = (text + " " + " ".join([FILLER] * self.runaway_words)).strip()
            finish = "length"
        if limits:
            words = list(re.finditer(r"\S+", text))
            if len(words) > min(limits):
                text = text[: words[min(limits) - 1].end()] if min(limits) > 0 else ""
                finish = "length"
        return text, finish


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, *args: Any) -> None:
        self.connections: set = set()
        super().__init__(*args)

    def process_request(self, request, client_address):  # noqa: ANN001
        self.connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request):  # noqa: ANN001
        self.connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        for conn in list(self.connections):
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    stub: OpenAIStub

    def log_message(self, *args: Any) -> None:  # keep test output quiet
        pass

    def _send_json(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        data = (body if isinstance(body, str) else json.dumps(body)).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def _record(self) -> Any:
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        with self.stub._lock:
            self.stub.requests.append(
                RecordedRequest(self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body)
            )
        return body

    def _authorised(self) -> bool:
        key = self.stub.require_key
        if key is None or self.headers.get("Authorization") == f"Bearer {key}":
            return True
        self._send_json(401, _error("Incorrect API key provided.", code="invalid_api_key"))
        return False

    def do_GET(self) -> None:
        self._record()
        if not self._authorised():
            return
        if self.path.rstrip("/") != "/v1/models":
            return self._send_json(404, _error(f"Unknown path {self.path}", code="not_found"))
        now = int(time.time())
        self._send_json(
            200,
            {
                "object": "list",
                "data": [
                    {"id": m, "object": "model", "created": now, "owned_by": "openai-stub"} for m in self.stub.models
                ],
            },
        )

    def do_POST(self) -> None:
        req = self._record()
        if not self._authorised():
            return
        if self.path.rstrip("/") != "/v1/chat/completions":
            return self._send_json(404, _error(f"Unknown path {self.path}", code="not_found"))
        if not isinstance(req, dict):
            return self._send_json(400, _error("Request body must be a JSON object.", code="invalid_json"))
        for field in ("model", "messages"):
            if not req.get(field):
                return self._send_json(
                    400,
                    _error(f"Missing required parameter: '{field}'.", code="missing_required_parameter", param=field),
                )
        item = self.stub._next(req)
        if isinstance(item, _Failure):
            return self._send_json(item.status, item.body, item.headers)
        text, finish = self.stub._shape(item, req)
        pieces = re.findall(r"\S+\s*|\s+", text)
        prompt = sum(len(_text_of(m.get("content")).split()) for m in req["messages"])
        usage = {
            "prompt_tokens": prompt,
            "completion_tokens": len(text.split()),
            "total_tokens": prompt + len(text.split()),
        }
        base = {
            "id": f"chatcmpl-{uuid.uuid4().hex[:24]}",
            "created": int(time.time()),
            "model": req["model"],
            "system_fingerprint": "fp_stub",
        }
        if req.get("stream"):
            self._stream(base, pieces, finish, usage, req)
        else:
            time.sleep(self.stub.delay * len(pieces))
            self._send_json(
                200,
                {
                    **base,
                    "object": "chat.completion",
                    "usage": usage,
                    "choices": [
                        {
                            "index": 0,
                            "message": {"role": "assistant", "content": text, "refusal": None},
                            "logprobs": None,
                            "finish_reason": finish,
                        }
                    ],
                },
            )

    def _stream(self, base: dict, pieces: list[str], finish: str, usage: dict, req: dict) -> None:
        include_usage = bool((req.get("stream_options") or {}).get("include_usage"))
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()

        def send(payload: str) -> None:
            data = f"data: {payload}\n\n".encode()
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            self.wfile.flush()

        def chunk(delta: dict, finish_reason: str | None = None) -> None:
            c = {
                **base,
                "object": "chat.completion.chunk",
                "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}],
            }
            send(json.dumps({**c, "usage": None} if include_usage else c))

        try:
            chunk({"role": "assistant", "content": ""})
            for piece in pieces:
                time.sleep(self.stub.delay)
                chunk({"content": piece})
            chunk({}, finish)
            if include_usage:
                send(json.dumps({**base, "object": "chat.completion.chunk", "choices": [], "usage": usage}))
            send("[DONE]")
            self.wfile.write(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):  # client went away mid-stream
            self.close_connection = True


try:  # optional pytest fixture: `from tests.openai_stub import openai_stub`
    import pytest

    @pytest.fixture
    def openai_stub():
        with OpenAIStub() as stub:
            yield stub
except ImportError:  # pragma: no cover
    pass
