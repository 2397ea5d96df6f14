"""What every route of the web app reads: the assistant, the limits and the site's settings, kept on `app.state`
by chat.web.api.create_api and handed to a route by the `context` dependency (a router can be mounted on a test
app with any WebContext)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import anyio
import anyio.to_thread
from fastapi import Request

from chat.assistant import Assistant, QuestionError
from chat.schema import Answer
from chat.web.limits import ApiError, RateLimiter

T = TypeVar("T")

UNAVAILABLE = "the article index is unavailable; try again shortly"


@dataclass
class WebContext:
    assistant: Assistant
    health: Callable[[], dict[str, Any]]
    allowed_origins: list[str]
    limiter: RateLimiter
    unavailable: tuple[type[BaseException], ...] = ()  # the article index cannot be reached now: 503
    # Set once the model is loaded and the lexical index built (chat.web.api's warm-up); /healthz says "starting"
    # until then. A context built without a warm-up is ready at once.
    ready: threading.Event = field(default_factory=threading.Event)
    library_admin: bool = False  # the library page offers upload and remove (the server has an ADMIN_TOKEN)
    max_upload_mb: float = 0.0
    examples: list[str] = field(default_factory=list)  # questions offered on an empty chat (the widget's chips)
    # Whether an Authorization header holds the admin token: `app.py ask` on the machine of a server that owns the
    # index asks through it with that token, and is not held to an anonymous client's per-minute budget.
    admin_authorized: Callable[[str], bool] = lambda authorization: False
    # How many answers are worked on at once (ANSWER_WORKERS); the rest wait, first come first served. None = the
    # default thread pool's 40. Extractive answers are CPU work: with 20 at once on two cores each one took 20
    # times its own time and the slowest questions set the p95; one per core, each waits its turn and then runs.
    answer_slots: anyio.CapacityLimiter | None = None

    def check_budget(self, request: Request) -> None:
        """The per-client question budget (chat.web.limits), waived for the admin token."""
        if not self.admin_authorized(request.headers.get("authorization", "")):
            self.limiter.check(client_key(request))

    def answer_or_400(self, question: str, history: list[dict[str, str]]) -> Answer:
        try:
            return self.assistant.ask(question, history)
        except QuestionError as e:
            raise ApiError(400, str(e)) from e

    async def answer(self, question: str, history: list[dict[str, str]]) -> Answer:
        """`answer_or_400` in a worker thread, in one of the `answer_slots`."""
        return await self.in_slot(lambda: self.answer_or_400(question, history))

    async def in_slot(self, work: Callable[[], T]) -> T:
        """Any answering work (e.g. a stream's first step) in a worker thread, in one of the `answer_slots`."""
        return await anyio.to_thread.run_sync(work, limiter=self.answer_slots)


def context(request: Request) -> WebContext:
    return request.app.state.web


def client_key(request: Request) -> str:
    return request.client.host if request.client else "unknown"
