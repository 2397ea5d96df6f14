"""The chatbot's own API: `/healthz`, `POST /api/ask` (an `Answer` as JSON) and `POST /api/ask/stream` (SSE: token
events, then the answer)."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from chat.assistant import QuestionError
from chat.schema import Answer
from chat.web.context import UNAVAILABLE, WebContext, context
from chat.web.limits import MAX_HISTORY_TURNS, ApiError

log = logging.getLogger(__name__)
router = APIRouter()
Context = Annotated[WebContext, Depends(context)]


class Turn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    role: Literal["user", "assistant"]
    content: str


class Health(BaseModel):
    """Whether the server can answer, and over how much."""

    status: Literal["ok", "starting", "unavailable"] = Field(
        description="ok: questions are answered at full speed; starting: the model and the lexical index are still "
        "loading (a question waits for them); unavailable: the index cannot be reached."
    )
    mode: str = Field(description="extractive | generative.")
    index: str = Field(description="embedded | chroma-server | unavailable.")
    chunks: int | None = Field(None, description="Passages in the index.")


class AskRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    question: str = Field(..., description="The question.")
    history: list[Turn] = Field(
        default_factory=list,
        max_length=MAX_HISTORY_TURNS,
        description=f"Earlier turns, oldest first (at most {MAX_HISTORY_TURNS}).",
    )


def sse(event: str, data: Any) -> str:
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


def _chain(first: Any, rest: Iterator[Any]) -> Iterator[Any]:
    yield first
    yield from rest


@router.get("/healthz", response_model=Health, responses={503: {"model": Health}})
def healthz(web: Context) -> Any:
    if not web.ready.is_set():
        starting = Health(status="starting", mode=web.assistant.mode, index="starting")
        return JSONResponse(starting.model_dump(), status_code=503, headers={"Retry-After": "2"})
    try:
        return Health(status="ok", mode=web.assistant.mode, **web.health())
    except web.unavailable:
        return JSONResponse(
            {"status": "unavailable", "mode": web.assistant.mode, "index": "unavailable"},
            status_code=503,
            headers={"Retry-After": "5"},
        )


@router.post("/api/ask", response_model=Answer)
async def ask(body: AskRequest, request: Request, web: Context) -> Answer:
    """Answer a question from the indexed articles: the text, its cited sentences and sources, and how it was
    answered (or why it was refused)."""
    web.check_budget(request)
    return await web.answer(body.question, [t.model_dump() for t in body.history])


@router.post(
    "/api/ask/stream",
    response_class=StreamingResponse,
    responses={
        200: {
            "content": {"text/event-stream": {}},
            "description": "Server-sent events: `token` ({text, draft}) pieces of the answer as it is written, then "
            "`answer` (an `Answer`), or `error` ({error}); `done` last.",
        }
    },
)
async def ask_stream(body: AskRequest, request: Request, web: Context) -> StreamingResponse:
    web.check_budget(request)
    history = [t.model_dump() for t in body.history]
    stream = web.assistant.stream(body.question, history)
    unavailable = web.unavailable
    try:
        # a bad question fails here, before any bytes: a proper 400 (or 503); the answer's work is done here too
        # (the extractive answerer's all of it), in one of the answer slots
        first = await web.in_slot(lambda: next(stream))
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
                    yield sse("token", {"text": item, "draft": web.assistant.mode != "extractive"})
        except Exception as e:  # noqa: BLE001 - the stream has started; report in-band
            if unavailable and isinstance(e, unavailable):
                yield sse("error", {"error": UNAVAILABLE})
            else:
                log.exception("streaming answer failed")
                yield sse("error", {"error": "the answer could not be completed; please try again"})
        yield "event: done\ndata: {}\n\n"

    return StreamingResponse(
        events(), media_type="text/event-stream", headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    )
