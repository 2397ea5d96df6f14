"""Tests for the scripted OpenAI-compatible stub server (tests/openai_stub.py)."""

from __future__ import annotations

import socket
import threading
import time

import openai
import pytest
from langchain_openai import ChatOpenAI

try:
    from tests.openai_stub import OpenAIStub
except ImportError:  # run with tests/ itself on sys.path
    from openai_stub import OpenAIStub

MSGS = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hello there"}]


@pytest.fixture
def stub():
    with OpenAIStub(models=["stub", "stub-large"]) as s:
        yield s


@pytest.fixture
def client(stub):
    return openai.OpenAI(base_url=stub.base_url, api_key="sk-test", max_retries=0, timeout=10)


def test_non_streaming_reply_and_recording(stub, client):
    stub.reply("Paris is the capital.")
    r = client.chat.completions.create(model="stub", messages=MSGS, temperature=0.2)
    assert r.choices[0].message.content == "Paris is the capital."
    assert r.choices[0].message.role == "assistant"
    assert r.choices[0].finish_reason == "stop"
    assert r.object == "chat.completion" and r.id.startswith("chatcmpl-") and r.model == "stub"
    assert r.usage.completion_tokens == 4 and r.usage.prompt_tokens == 4
    rec = stub.last
    assert rec.method == "POST" and rec.path == "/v1/chat/completions"
    assert rec.headers["authorization"] == "Bearer sk-test"
    assert rec.json["messages"] == MSGS and rec.json["temperature"] == 0.2


def test_queue_order_callable_and_default(stub, client):
    stub.reply("first", lambda req: f"{len(req['messages'])} messages")
    stub.default = lambda req: "default:" + req["messages"][-1]["content"]
    got = [client.chat.completions.create(model="stub", messages=MSGS).choices[0].message.content for _ in range(3)]
    assert got == ["first", "2 messages", "default:Hello there"]
    assert stub.pending == 0 and len(stub.chat_requests) == 3


def test_default_echoes_last_user_message(stub, client):
    r = client.chat.completions.create(model="stub", messages=MSGS)
    assert r.choices[0].message.content == "Echo: Hello there"


def test_streaming_chunks_and_usage(stub, client):
    stub.reply("one two three four")
    chunks = list(
        client.chat.completions.create(model="stub", messages=MSGS, stream=True, stream_options={"include_usage": True})
    )
    assert chunks[0].choices[0].delta.role == "assistant"
    deltas = [c.choices[0].delta.content for c in chunks if c.choices and c.choices[0].delta.content]
    assert deltas == ["one ", "two ", "three ", "four"]
    finals = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
    assert finals == ["stop"]
    assert chunks[-1].choices == [] and chunks[-1].usage.completion_tokens == 4
    assert all(c.object == "chat.completion.chunk" for c in chunks)


def test_streaming_delay_is_incremental(stub, client):
    stub.delay = 0.05
    stub.reply("a b c d e f")
    start, times = time.monotonic(), []
    for c in client.chat.completions.create(model="stub", messages=MSGS, stream=True):
        if c.choices and c.choices[0].delta.content:
            times.append(time.monotonic() - start)
    assert len(times) == 6 and times[0] < times[-1] - 0.15


def test_concurrent_requests(stub):
    stub.delay = 0.1
    stub.default = lambda req: "w1 w2 w3"
    c = openai.OpenAI(base_url=stub.base_url, api_key="x", max_retries=0)
    out: list[str] = []
    threads = [
        threading.Thread(
            target=lambda: out.append(c.chat.completions.create(model="stub", messages=MSGS).choices[0].message.content)
        )
        for _ in range(5)
    ]
    start = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert out == ["w1 w2 w3"] * 5 and time.monotonic() - start < 1.2  # serial would be 1.5 s


def test_models_list(stub, client):
    assert [m.id for m in client.models.list()] == ["stub", "stub-large"]


def test_queued_failure_raises_api_status_error(stub, client):
    stub.fail(status=503, body={"error": {"message": "overloaded", "type": "server_error", "code": None}})
    with pytest.raises(openai.APIStatusError) as exc:
        client.chat.completions.create(model="stub", messages=MSGS)
    assert exc.value.status_code == 503 and "overloaded" in str(exc.value)
    # the failure was consumed: the next call succeeds
    assert client.chat.completions.create(model="stub", messages=MSGS).choices[0].message.content


def test_failure_then_retry_succeeds(stub):
    stub.fail(500, times=2, headers={"retry-after-ms": "10"}).reply("recovered")
    c = openai.OpenAI(base_url=stub.base_url, api_key="sk-test", max_retries=2)
    assert c.chat.completions.create(model="stub", messages=MSGS).choices[0].message.content == "recovered"
    assert len(stub.requests) == 3


def test_validation_errors(stub, client):
    with pytest.raises(openai.BadRequestError) as exc:
        client.chat.completions.create(model="stub", messages=[])
    assert exc.value.status_code == 400
    assert exc.value.body["code"] == "missing_required_parameter"
    with pytest.raises(openai.BadRequestError):
        client.post("/chat/completions", body={"messages": MSGS}, cast_to=object)


def test_auth(stub):
    stub.require_key = "sk-test"
    bad = openai.OpenAI(base_url=stub.base_url, api_key="sk-wrong", max_retries=0)
    with pytest.raises(openai.AuthenticationError) as exc:
        bad.chat.completions.create(model="stub", messages=MSGS)
    assert exc.value.status_code == 401 and exc.value.body["code"] == "invalid_api_key"
    good = openai.OpenAI(base_url=stub.base_url, api_key="sk-test", max_retries=0)
    assert good.chat.completions.create(model="stub", messages=MSGS).choices[0].message.content


def test_langchain_invoke_and_stream(stub):
    llm = ChatOpenAI(base_url=stub.base_url, api_key="sk-test", model="stub", max_retries=0)
    stub.reply("The answer is [1].", "streamed reply in pieces")
    msg = llm.invoke("What is it?")
    assert msg.content == "The answer is [1]."
    assert msg.response_metadata["finish_reason"] == "stop"
    parts = [c.content for c in llm.stream("Again?") if c.content]
    assert len(parts) == 4 and "".join(parts) == "streamed reply in pieces"
    assert stub.chat_requests[-1]["stream"] is True
    assert stub.requests[-1].headers["authorization"] == "Bearer sk-test"


# -- token caps ---------------------------------------------------------------


def test_max_tokens_truncates_with_length(stub, client):
    stub.reply("one two three four five six")
    r = client.chat.completions.create(model="stub", messages=MSGS, max_tokens=3)
    assert r.choices[0].message.content == "one two three"
    assert r.choices[0].finish_reason == "length"
    assert stub.last.json["max_tokens"] == 3 and "max_completion_tokens" not in stub.last.json


def test_runaway_only_capped_by_honoured_field(stub, client):
    stub.honour = {"max_tokens"}  # llama.cpp/Ollama-style: ignores max_completion_tokens
    stub.runaway_words = 50
    r = client.chat.completions.create(model="stub", messages=MSGS, max_completion_tokens=5)
    assert len(r.choices[0].message.content.split()) == 3 + 50  # "Echo: Hello there" + filler
    assert r.choices[0].finish_reason == "length"
    r = client.chat.completions.create(model="stub", messages=MSGS, extra_body={"max_tokens": 5})
    assert r.choices[0].message.content == "Echo: Hello there lorem lorem"
    stub.honour = {"max_tokens", "max_completion_tokens"}
    r = client.chat.completions.create(model="stub", messages=MSGS, max_completion_tokens=5)
    assert len(r.choices[0].message.content.split()) == 5


def test_streaming_respects_cap(stub, client):
    stub.runaway_words = 20
    chunks = list(client.chat.completions.create(model="stub", messages=MSGS, stream=True, max_tokens=4))
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text.split() == ["Echo:", "Hello", "there", "lorem"]
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "length"


def test_chatopenai_max_tokens_sends_max_completion_tokens(stub):
    """Finding: ChatOpenAI(max_tokens=N) sends only `max_completion_tokens`."""
    stub.honour = {"max_tokens"}
    stub.runaway_words = 30
    llm = ChatOpenAI(base_url=stub.base_url, api_key="sk-test", model="stub", max_tokens=5, max_retries=0)
    msg = llm.invoke("hi")
    sent = stub.last.json
    assert sent["max_completion_tokens"] == 5 and "max_tokens" not in sent
    assert len(msg.content.split()) > 5  # a max_tokens-only server ignores the cap
    llm.bind(max_tokens=5).invoke("hi")
    assert "max_tokens" not in stub.last.json and stub.last.json["max_completion_tokens"] == 5


def test_chatopenai_extra_body_sends_plain_max_tokens(stub):
    stub.honour = {"max_tokens"}
    stub.runaway_words = 30
    llm = ChatOpenAI(
        base_url=stub.base_url,
        api_key="sk-test",
        model="stub",
        max_retries=0,
        max_tokens=5,
        extra_body={"max_tokens": 5},
    )
    msg = llm.invoke("hi")
    assert stub.last.json["max_tokens"] == 5 and stub.last.json["max_completion_tokens"] == 5
    assert msg.content == "Echo: hi lorem lorem lorem"
    assert msg.response_metadata["finish_reason"] == "length"
    parts = [c.content for c in llm.stream("hi") if c.content]
    assert "".join(parts).split() == ["Echo:", "hi", "lorem", "lorem", "lorem"]


# -- lifecycle ----------------------------------------------------------------


def test_shutdown_is_fast_and_releases_port():
    stub = OpenAIStub().start()
    port = stub.port
    c = openai.OpenAI(base_url=stub.base_url, api_key="x", max_retries=0)
    c.chat.completions.create(model="stub", messages=MSGS)  # leaves a keep-alive connection
    start = time.monotonic()
    stub.stop()
    stub.stop()  # idempotent
    assert time.monotonic() - start < 2
    with socket.socket() as s:  # nothing listens any more...
        assert s.connect_ex(("127.0.0.1", port)) != 0
    with socket.socket() as s:  # ...and a new server (SO_REUSEADDR, as all servers set) can bind
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", port))
        s.listen()


def test_shutdown_during_stream():
    stub = OpenAIStub().start()
    stub.delay = 0.2
    stub.reply(" ".join(["w"] * 50))
    c = openai.OpenAI(base_url=stub.base_url, api_key="x", max_retries=0)
    stream = c.chat.completions.create(model="stub", messages=MSGS, stream=True)
    next(iter(stream))
    start = time.monotonic()
    stub.stop()
    assert time.monotonic() - start < 2
    with pytest.raises(Exception):  # noqa: B017 - the transport error the client raises depends on where the cut lands
        list(stream)
