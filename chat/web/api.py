"""The web app over the same `Answer`: error handling, the request guard, and the routers of chat.web (ask and
streaming ask, OpenAI-compatible, widget, articles and library, admin ingest).

    curl -s localhost:7860/api/ask -H 'content-type: application/json' -d '{"question": "What is the maturity wall?"}'
    curl -sN localhost:7860/api/ask/stream -H 'content-type: application/json' -d '{"question": "..."}'

Every error is JSON `{"error": reason}` with a 4xx status (500 without details for the unexpected); request
bodies are size-limited; each client gets a per-minute question budget (chat.web.limits). `/widget.js` is the
one-line embed for other sites (chat.web.widget).
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import anyio
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from chat.assistant import Assistant
from chat.web import articles, ask, openai_compat, widget
from chat.web.admin import AdminIngest, admin_router
from chat.web.context import UNAVAILABLE, WebContext
from chat.web.limits import UI_BODY_FACTOR, ApiError, RateLimiter, WebGuard

log = logging.getLogger(__name__)
__all__ = ["AdminIngest", "create_api", "install_errors"]


def install_errors(app: FastAPI, unavailable: tuple[type[BaseException], ...] = ()) -> None:
    """Every error as JSON `{"error": reason}`: ApiError with its status, invalid bodies 422, unknown routes 404, the
    index unreachable 503, anything else 500 without details (the log has them)."""

    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse({"error": exc.message}, status_code=exc.status, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'] if p != 'body') or 'body'}: {e['msg']}" for e in exc.errors()
        )
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


def warm(web: WebContext, warm_up: Callable[[], None] | None) -> None:
    """Run the warm-up, then mark the server ready (also when the warm-up failed: questions then load what they
    need themselves, as before, and the log says why)."""
    started = time.perf_counter()
    try:
        if warm_up is not None:
            warm_up()
            log.info("ready: model loaded and lexical index built in %.1f s", time.perf_counter() - started)
    except Exception:  # noqa: BLE001 - a failed warm-up must not keep the server from answering
        log.exception("warming up failed; serving anyway (the first questions load what they need)")
    finally:
        web.ready.set()


def create_api(
    assistant: Assistant,
    *,
    health: Callable[[], dict[str, Any]],
    allowed_origins: list[str],
    limiter: RateLimiter,
    max_body_bytes: int,
    title: str = "Research chatbot",
    unavailable: tuple[type[BaseException], ...] = (),
    admin: AdminIngest | None = None,
    warm_up: Callable[[], None] | None = None,
    examples: list[str] | None = None,
    answer_workers: int = 0,
) -> FastAPI:
    """`unavailable`: the exceptions that mean the article index cannot be reached now (503 with Retry-After);
    `admin`: runs an ingest in this process for `POST /admin/ingest` (token-protected), or None for no route;
    `warm_up`: run once in a background thread as the server starts (loading the model, building the lexical
    index), /healthz answering "starting" until it is done, so the first question is as fast as the tenth;
    `answer_workers`: answers worked on at once (0 = as many as the default thread pool allows)."""
    web = WebContext(assistant, health, allowed_origins, limiter, unavailable, examples=list(examples or []))
    if answer_workers:
        web.answer_slots = anyio.CapacityLimiter(answer_workers)
    if admin is not None:
        web.admin_authorized = admin.authorized
    if admin is not None and admin.library is not None:
        web.library_admin, web.max_upload_mb = True, admin.max_upload_bytes / 1e6

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        threading.Thread(target=warm, args=(web, warm_up), name="warm-up", daemon=True).start()
        yield

    app = FastAPI(title=title, docs_url=None, redoc_url=None, openapi_url="/api/openapi.json", lifespan=lifespan)
    app.state.web = web

    install_errors(app, unavailable)
    upload_limit = admin.max_upload_bytes + 256_000 if admin is not None and admin.library is not None else None
    app.add_middleware(
        WebGuard,
        limit=max_body_bytes,
        ui_limit=max_body_bytes * UI_BODY_FACTOR,
        upload_limit=upload_limit,
        upload_authorized=admin.authorized if admin is not None and admin.library is not None else None,
    )

    app.include_router(ask.router)
    app.include_router(articles.router)
    app.include_router(openai_compat.router)
    if admin is not None:
        app.include_router(admin_router(admin))

    # Unknown API paths get a JSON 404 / 405 (registered after every API route; Gradio, mounted at "/", would
    # answer with its own non-JSON 404).
    @app.api_route(
        "/api/{rest:path}",
        methods=["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"],
        include_in_schema=False,
    )
    @app.api_route(
        "/v1/{rest:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"], include_in_schema=False
    )
    def unknown(request: Request, rest: str) -> None:
        known = {route.path: route.methods for route in app.routes if hasattr(route, "methods")}
        if request.url.path in known:
            raise ApiError(
                405,
                f"{request.method} is not allowed on {request.url.path}; use "
                f"{', '.join(sorted(known[request.url.path]))}",
            )
        raise ApiError(404, f"no such endpoint: {request.url.path}")

    app.include_router(widget.router)
    return app
