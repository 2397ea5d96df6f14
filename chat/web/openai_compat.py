"""The OpenAI-compatible routes: `GET /v1/models` and `POST /v1/chat/completions` (plain or streamed), the answer's
citations as an extra field and as a plain-text source list for clients that ignore extra fields.

    python -c "from openai import OpenAI; print(OpenAI(base_url='http://localhost:7860/v1', api_key='x')
        .chat.completions.create(model='research-chatbot', messages=[{'role': 'user', 'content': 'Why small caps?'}]))"
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Iterator
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from openai.types import CompletionUsage, Model
from openai.types.chat import ChatCompletion, ChatCompletionChunk, ChatCompletionMessage
from openai.types.chat.chat_completion import Choice
from openai.types.chat.chat_completion_chunk import Choice as ChunkChoice, ChoiceDelta
from pydantic import BaseModel

from chat.schema import Answer
from chat.web.context import WebContext, client_key, context
from chat.web.limits import MAX_HISTORY_TURNS, ApiError

MODEL_ID = "research-chatbot"
router = APIRouter()
Context = Annotated[WebContext, Depends(context)]


class ModelList(BaseModel):
    """`GET /v1/models`: the one model this server is."""

    object: Literal["list"] = "list"
    data: list[Model]


@router.get("/v1/models", response_model=ModelList)
def models() -> ModelList:
    return ModelList(data=[Model(id=MODEL_ID, object="model", created=0, owned_by="local")])


@router.post(
    "/v1/chat/completions",
    response_model=None,
    responses={
        200: {
            "model": ChatCompletion,
            "content": {"text/event-stream": {}},
            "description": "A `chat.completion` (or, with `stream: true`, `chat.completion.chunk` events), with two "
            "extra fields: `citations` (the answer's `Citation`s) and `refused`.",
        }
    },
)
async def chat_completions(request: Request, web: Context) -> Response:
    """OpenAI's chat completions: the last user message is the question, earlier user/assistant turns its history.
    The reply's content is the answer with its `[n]` markers and a plain-text source list."""
    try:
        payload = json.loads(await request.body() or b"null")
    except ValueError:
        raise ApiError(400, "request body is not valid JSON") from None
    question, history = parse_messages(payload)
    stream = completion_options(payload)
    web.limiter.check(client_key(request))
    answer = await web.answer(question, history)
    completion_id = f"chatcmpl-{uuid.uuid4().hex[:24]}"
    created = int(time.time())
    content = answer.text + sources_text(answer)
    # Not OpenAI fields: clients that read them get the sources as data (the openai package keeps extra fields).
    extra = {"citations": [c.model_dump() for c in answer.citations], "refused": answer.refused}
    if not stream:
        completion = ChatCompletion(
            id=completion_id,
            object="chat.completion",
            created=created,
            model=MODEL_ID,
            choices=[
                Choice(index=0, message=ChatCompletionMessage(role="assistant", content=content), finish_reason="stop")
            ],
            usage=CompletionUsage(prompt_tokens=0, completion_tokens=0, total_tokens=0),
            **extra,
        )
        return JSONResponse(completion.model_dump(mode="json", exclude_unset=True))

    def chunk(delta: ChoiceDelta, finish: Literal["stop"] | None = None, **more: Any) -> str:
        event = ChatCompletionChunk(
            id=completion_id,
            object="chat.completion.chunk",
            created=created,
            model=MODEL_ID,
            choices=[ChunkChoice(index=0, delta=delta, finish_reason=finish)],
            **more,
        )
        return f"data: {json.dumps(event.model_dump(mode='json', exclude_unset=True), ensure_ascii=False)}\n\n"

    def chunks() -> Iterator[str]:
        yield chunk(ChoiceDelta(role="assistant", content=""))
        for piece in split_for_streaming(content):
            yield chunk(ChoiceDelta(content=piece))
        yield chunk(ChoiceDelta(), "stop", **extra)
        yield "data: [DONE]\n\n"

    return StreamingResponse(chunks(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"})


def sources_text(answer: Answer) -> str:
    """Plain-text source list appended to OpenAI-compatible replies, for clients that ignore extra fields."""
    if not answer.citations:
        return ""
    lines = [f"[{c.n}] {c.title} — {c.publisher}, {c.published} ({c.source})" for c in answer.citations]
    return "\n\nSources:\n" + "\n".join(lines)


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
                    raise ApiError(400, f'messages[{i}].content[{j}] must be {{"type": "text", "text": <string>}}')
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
