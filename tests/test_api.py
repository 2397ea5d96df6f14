"""The HTTP API of a real running server (`python app.py serve`): httpx, the official openai client, gradio_client.

Fixtures (tests/conftest.py): `chatbot_server` over corpus/ with a generous rate limit, `limited_server` with
RATE_LIMIT_PER_MINUTE=3 and MAX_BODY_KB=2.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest

from chat.schema import Citation, Retrieved, SentenceInfo

ROOT = Path(__file__).resolve().parents[1]
AINVEST = "ainvest-small-cap-resurgence-2026-01-12.txt"
FAQ_QUESTION = "How does the maturity wall affect small caps differently than large caps?"
OFF_TOPIC = "What is the best recipe for a chocolate layer cake?"
TIMEOUT = httpx.Timeout(120.0, connect=10.0)

# fmt: off
ANSWER_KEYS = {"question", "answer", "refused", "refusal_reason", "question_type", "relevance", "relevance_label",
               "citations", "retrieved", "latency_ms", "mode", "standalone_question", "sentences", "dropped",
               "suggestions", "notes", "lead", "blocks"}
# fmt: on
CITATION_KEYS = set(Citation.model_fields) | set(Citation.model_computed_fields)  # with article_link
RETRIEVED_KEYS = set(Retrieved.model_fields)
SENTENCE_KEYS = set(SentenceInfo.model_fields)


@pytest.fixture(scope="module")
def base(chatbot_server) -> str:
    return chatbot_server.base


@pytest.fixture(scope="module")
def http(base) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base, timeout=TIMEOUT) as client:
        yield client


@pytest.fixture(scope="module")
def oai(base) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{base}/v1", api_key="anything", max_retries=0, timeout=120)


def assert_clean_error(response: httpx.Response, status: int | tuple[int, ...]) -> str:
    """A 4xx JSON `{"error": reason}` without any stack trace; returns the reason."""
    statuses = status if isinstance(status, tuple) else (status,)
    assert response.status_code in statuses, (response.status_code, response.text)
    assert response.headers["content-type"].startswith("application/json"), response.headers
    body = response.json()
    assert isinstance(body, dict) and isinstance(body.get("error"), str) and body["error"].strip(), body
    for leak in ("Traceback", 'File "', "site-packages", str(ROOT)):
        assert leak not in response.text, response.text
    return body["error"]


def without_latency(answer: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in answer.items() if k != "latency_ms"}


def parse_sse(lines: Iterator[str]) -> list[tuple[str, Any]]:
    """`event:`/`data:` blocks → [(event, parsed data)], in order."""
    events, event, data = [], "message", []
    for line in lines:
        if line == "":
            if data:
                events.append((event, json.loads("\n".join(data))))
            event, data = "message", []
        elif line.startswith("event:"):
            event = line[6:].strip()
        elif line.startswith("data:"):
            data.append(line[5:].lstrip())
    if data:
        events.append((event, json.loads("\n".join(data))))
    return events


# --- health and /api/ask ---------------------------------------------------------------------------------------------


def test_healthz_reports_an_ingested_index_in_extractive_mode(http):
    r = http.get("/healthz")
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "ok"
    assert body["mode"] == "extractive"
    assert body["chunks"] > 0


def test_ask_faq_question_has_the_cli_json_shape_and_cites_ainvest(http, chatbot_server):
    r = http.post("/api/ask", json={"question": FAQ_QUESTION})
    assert r.status_code == 200, r.text
    answer = r.json()
    assert set(answer) == ANSWER_KEYS
    assert answer["question"] == FAQ_QUESTION and answer["mode"] == "extractive"
    assert answer["refused"] is False and answer["suggestions"] == []
    assert answer["citations"] and answer["retrieved"] and answer["sentences"]
    for c in answer["citations"]:
        assert set(c) == CITATION_KEYS
        assert f"[{c['n']}]" in answer["answer"]
    for item in answer["retrieved"]:
        assert set(item) == RETRIEVED_KEYS
    for s in answer["sentences"]:
        assert set(s) == SENTENCE_KEYS
    cited = [c for c in answer["citations"] if c["source"] == AINVEST]
    assert cited and cited[0]["publisher"] == "AInvest"
    assert "maturit" in answer["answer"].lower()

    # The very same shape (and, the answerer being deterministic, the same answer) as `python app.py ask --json`
    # against the server's own index.
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")},
        **{k: chatbot_server.env[k] for k in ("CHROMA_PATH", "EMBEDDING_MODEL", "CORPUS_DIR")},
        "LOG_LEVEL": "WARNING",
    }
    cli = subprocess.run(
        [sys.executable, "app.py", "ask", "--json", FAQ_QUESTION],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert cli.returncode == 0, cli.stderr[-3000:]
    expected = json.loads(cli.stdout)
    assert set(expected) == set(answer)
    assert {k for c in expected["citations"] for k in c} == CITATION_KEYS
    assert {k for r_ in expected["retrieved"] for k in r_} == RETRIEVED_KEYS
    assert without_latency(expected) == without_latency(answer)


def test_ask_off_topic_is_refused_with_suggestions(http):
    r = http.post("/api/ask", json={"question": OFF_TOPIC})
    assert r.status_code == 200, r.text
    answer = r.json()
    assert set(answer) == ANSWER_KEYS
    assert answer["refused"] is True
    assert answer["citations"] == []
    assert answer["suggestions"] and all(isinstance(s, str) and s for s in answer["suggestions"])
    assert "[1]" not in answer["answer"]


def test_ask_with_history_resolves_a_follow_up(http):
    history = [
        {"role": "user", "content": "Why are small caps outperforming large caps in 2026?"},
        {"role": "assistant", "content": "Lower rates and cheaper valuations helped small caps. [1]"},
    ]
    r = http.post("/api/ask", json={"question": "and what about the dollar?", "history": history})
    assert r.status_code == 200, r.text
    answer = r.json()
    assert answer["refused"] is False
    assert any("dollar" in c["quote"].lower() for c in answer["citations"]), answer["citations"]


def test_a_short_self_contained_question_is_not_mixed_with_the_previous_topic(http):
    history = [
        {"role": "user", "content": "What is the maturity wall?"},
        {"role": "assistant", "content": "A period where a large volume of debt must be refinanced. [1]"},
    ]
    question = "How cheap are small caps compared with the S&P 500?"
    answer = http.post("/api/ask", json={"question": question, "history": history}).json()
    alone = http.post("/api/ask", json={"question": question}).json()
    assert answer["refused"] is False
    # the history changes nothing: the same passages and the same answer as the question asked on its own
    assert answer["answer"] == alone["answer"]
    assert [r["chunk_id"] for r in answer["retrieved"]] == [r["chunk_id"] for r in alone["retrieved"]]
    assert "31%" in answer["answer"]


# --- bad requests: always a 4xx JSON reason, never a traceback ---------------------------------------------------


# fmt: off
BAD_ASK_REQUESTS = {
    "empty question": (dict(json={"question": ""}), 400),
    "whitespace question": (dict(json={"question": " \n\t  "}), 400),
    "too long question": (dict(json={"question": "small caps " * 120}), 400),
    "missing question": (dict(json={"history": []}), 422),
    "question is a number": (dict(json={"question": 42}), 422),
    "question is a list": (dict(json={"question": ["What is the maturity wall?"]}), 422),
    "history is a string": (dict(json={"question": "What is the maturity wall?", "history": "none"}), 422),
    "history turn without content": (dict(json={"question": "Why small caps?", "history": [{"role": "user"}]}), 422),
    "invalid JSON": (dict(content=b'{"question": "What is', headers={"content-type": "application/json"}),
                     (400, 422)),
    "JSON list body": (dict(json=["What is the maturity wall?"]), (400, 422)),
    "JSON string body": (dict(json="What is the maturity wall?"), (400, 422)),
    "JSON null body": (dict(content=b"null", headers={"content-type": "application/json"}), (400, 422)),
    "form-encoded body": (dict(data={"question": "What is the maturity wall?"}), (400, 415, 422)),
}
# fmt: on


@pytest.mark.parametrize("path", ["/api/ask", "/api/ask/stream"])
@pytest.mark.parametrize("case", list(BAD_ASK_REQUESTS), ids=lambda c: c.replace(" ", "-"))
def test_bad_ask_requests_are_clean_4xx_json(http, path, case):
    kwargs, status = BAD_ASK_REQUESTS[case]
    reason = assert_clean_error(http.post(path, **kwargs), status)
    if case == "too long question":
        assert "too long" in reason and "1000" in reason
    if case in ("empty question", "whitespace question"):
        assert "empty" in reason


# fmt: off
BAD_COMPLETIONS = {
    "invalid JSON": dict(content=b"{not json", headers={"content-type": "application/json"}),
    "JSON list body": dict(json=[{"role": "user", "content": "hi"}]),
    "no messages": dict(json={"model": "research-chatbot"}),
    "empty messages": dict(json={"model": "research-chatbot", "messages": []}),
    "unknown role": dict(json={"messages": [{"role": "wizard", "content": "hi"}]}),
    "content is a number": dict(json={"messages": [{"role": "user", "content": 7}]}),
    "empty user question": dict(json={"messages": [{"role": "user", "content": "   "}]}),
    "last message from the assistant": dict(json={"messages": [{"role": "user", "content": "Why small caps?"},
                                                               {"role": "assistant", "content": "Because."}]}),
}
# fmt: on


@pytest.mark.parametrize("case", list(BAD_COMPLETIONS), ids=lambda c: c.replace(" ", "-"))
def test_bad_chat_completion_requests_are_clean_400_json(http, case):
    assert_clean_error(http.post("/v1/chat/completions", **BAD_COMPLETIONS[case]), 400)


@pytest.mark.parametrize("path", ["/nope", "/api/nope", "/v1/nope"])
def test_unknown_route_is_a_404_json_without_traceback(http, path):
    r = http.get(path)
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("application/json")
    r.json()
    assert "Traceback" not in r.text and 'File "' not in r.text


def test_unknown_api_route_uses_the_error_shape(http):
    assert_clean_error(http.get("/api/nope"), 404)


# --- body size and rate limits (the second server: 3 questions per minute, 2 KiB bodies) ------------------------


def _big_question_body(size: int) -> bytes:
    return json.dumps({"question": "What is the maturity wall? " + "x" * size}).encode()


@pytest.mark.parametrize("path", ["/api/ask", "/api/ask/stream", "/v1/chat/completions"])
def test_body_over_the_limit_with_content_length_is_413(limited_server, path):
    body = _big_question_body(3000)
    assert len(body) > 2 * 1024
    r = httpx.post(
        limited_server.base + path, content=body, headers={"content-type": "application/json"}, timeout=TIMEOUT
    )
    assert "limit" in assert_clean_error(r, 413)


@pytest.mark.parametrize("path", ["/api/ask", "/v1/chat/completions"])
def test_body_over_the_limit_chunked_is_413(limited_server, path):
    body = _big_question_body(3000)

    def chunks() -> Iterator[bytes]:
        for i in range(0, len(body), 512):
            yield body[i : i + 512]

    r = httpx.post(
        limited_server.base + path, content=chunks(), headers={"content-type": "application/json"}, timeout=TIMEOUT
    )
    assert r.request.headers.get("transfer-encoding") == "chunked"
    assert "content-length" not in r.request.headers
    assert "limit" in assert_clean_error(r, 413)


def test_fourth_question_within_a_minute_is_429_with_retry_after(limited_server):
    with httpx.Client(base_url=limited_server.base, timeout=TIMEOUT) as client:
        for question in ("What is the maturity wall?", "Why are small caps cheap?", "What about the dollar?"):
            r = client.post("/api/ask", json={"question": question})
            assert r.status_code == 200, r.text
        r = client.post("/api/ask", json={"question": "How long did the Russell 2000 outperform?"})
        reason = assert_clean_error(r, 429)
        assert "too many" in reason and "3 per minute" in reason
        retry = int(r.headers["retry-after"])
        assert 1 <= retry <= 60
        # The budget is per client across the API: the stream and the OpenAI route are limited too.
        r = client.post("/api/ask/stream", json={"question": "What is the maturity wall?"})
        assert_clean_error(r, 429)
        r = client.post("/v1/chat/completions", json={"messages": [{"role": "user", "content": "Why small caps?"}]})
        assert_clean_error(r, 429)
        assert r.headers.get("retry-after")


# --- /api/ask/stream (SSE) ---------------------------------------------------------------------------------------


def test_stream_sends_tokens_then_the_same_answer_as_ask(http):
    question = "How does a strong US dollar affect small caps versus large caps?"
    with http.stream("POST", "/api/ask/stream", json={"question": question}) as r:
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/event-stream")
        events = parse_sse(r.iter_lines())
    names = [e for e, _ in events]
    assert names.count("answer") == 1 and names[-1] == "done", names
    assert "error" not in names
    answer_at = names.index("answer")
    assert answer_at >= 1 and set(names[:answer_at]) == {"token"}, names
    tokens = [data for e, data in events if e == "token"]
    assert all(set(t) == {"text", "draft"} and isinstance(t["text"], str) for t in tokens)
    assert all(t["draft"] is False for t in tokens)  # extractive: what streams is already verified
    streamed = events[answer_at][1]
    assert "".join(t["text"] for t in tokens).strip() == streamed["answer"]

    plain = http.post("/api/ask", json={"question": question}).json()
    assert set(streamed) == ANSWER_KEYS
    assert without_latency(streamed) == without_latency(plain)
    assert streamed["citations"] and "dollar" in streamed["answer"].lower()


def test_stream_with_a_bad_question_is_a_400_json_before_any_stream(http):
    with http.stream("POST", "/api/ask/stream", json={"question": "   "}) as r:
        r.read()
    assert not r.headers["content-type"].startswith("text/event-stream")
    assert "empty" in assert_clean_error(r, 400)


# --- OpenAI-compatible API with the official client ----------------------------------------------------------------


def test_openai_models_list(oai):
    assert "research-chatbot" in [m.id for m in oai.models.list()]


def test_openai_chat_completion_has_markers_sources_and_citations(oai):
    response = oai.chat.completions.create(
        model="research-chatbot",
        messages=[
            {"role": "system", "content": "Be concise."},
            {"role": "user", "content": "What is the maturity wall?"},
        ],
    )
    content = response.choices[0].message.content
    assert response.choices[0].finish_reason == "stop"
    assert "[1]" in content
    assert "\n\nSources:\n[1] " in content and AINVEST in content and "AInvest" in content
    extra = response.model_extra
    assert extra["refused"] is False
    assert extra["citations"] and set(extra["citations"][0]) == CITATION_KEYS
    assert extra["citations"][0]["source"] == AINVEST
    assert all(f"[{c['n']}]" in content for c in extra["citations"])


def test_openai_refusal_has_no_sources(oai):
    response = oai.chat.completions.create(model="research-chatbot", messages=[{"role": "user", "content": OFF_TOPIC}])
    assert response.model_extra["refused"] is True and response.model_extra["citations"] == []
    assert "Sources:" not in response.choices[0].message.content


def _stream_content(oai: openai.OpenAI, messages: list[dict]) -> tuple[str, Any]:
    parts, last = [], None
    for chunk in oai.chat.completions.create(model="research-chatbot", messages=messages, stream=True):
        last = chunk
        if chunk.choices and chunk.choices[0].delta.content:
            parts.append(chunk.choices[0].delta.content)
    return "".join(parts), last


def test_openai_streaming_delivers_the_answer_and_citations(oai):
    messages = [{"role": "user", "content": "How does a strong US dollar affect small caps versus large caps?"}]
    plain = oai.chat.completions.create(model="research-chatbot", messages=messages)
    streamed, last = _stream_content(oai, messages)
    assert streamed.rstrip() == plain.choices[0].message.content.rstrip()
    assert last.choices[0].finish_reason == "stop"
    assert last.model_extra["citations"] == plain.model_extra["citations"]
    assert last.model_extra["refused"] is False


def test_openai_streaming_deltas_equal_the_non_streaming_content(oai):
    messages = [{"role": "user", "content": "What is the maturity wall?"}]
    plain = oai.chat.completions.create(model="research-chatbot", messages=messages)
    streamed, _ = _stream_content(oai, messages)
    assert streamed == plain.choices[0].message.content


def test_openai_follow_up_uses_the_history(oai):
    response = oai.chat.completions.create(
        model="research-chatbot",
        messages=[
            {"role": "user", "content": "Why are small caps outperforming large caps in 2026?"},
            {"role": "assistant", "content": "Lower rates and cheaper valuations helped small caps. [1]"},
            {"role": "user", "content": "and what about the dollar?"},
        ],
    )
    citations = response.model_extra["citations"]
    assert response.model_extra["refused"] is False and citations
    dollar = [c for c in citations if "dollar" in c["quote"].lower()]
    assert dollar and dollar[0]["source"] == AINVEST, citations
    assert "dollar" in response.choices[0].message.content.lower()


def test_openai_messages_must_end_with_a_user_message(oai):
    with pytest.raises(openai.BadRequestError) as err:
        oai.chat.completions.create(
            model="research-chatbot",
            messages=[{"role": "user", "content": "Why small caps?"}, {"role": "assistant", "content": "Because."}],
        )
    assert err.value.status_code == 400
    assert "last message" in str(err.value.body)
    with pytest.raises(openai.BadRequestError):
        oai.chat.completions.create(model="research-chatbot", messages=[{"role": "system", "content": "Be brief."}])


# --- the Gradio app through gradio_client --------------------------------------------------------------------------


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(p.get("text", "") for p in content if isinstance(p, dict))
    return str(content)


def test_gradio_client_chat_endpoint(base):
    from gradio_client import Client

    client = Client(base, verbose=False, analytics_enabled=False, download_files=False)
    try:
        api = client.view_api(print_info=False, return_format="dict")
        result = client.predict("What is the maturity wall?", api_name="/chat")
    finally:
        client.close()  # else its heartbeat connection holds up the server's graceful shutdown
    assert "/chat" in api["named_endpoints"]
    params = [p["parameter_name"] for p in api["named_endpoints"]["/chat"]["parameters"]]
    assert params == ["message"]  # the conversation is kept by the server per session, never sent by a client

    chatbot, sources = result[0], result[1]
    assert [m["role"] for m in chatbot] == ["user", "assistant"]
    reply = _text(chatbot[-1]["content"])
    assert "class='cite cite-1'" in reply or 'class="cite cite-1"' in reply, reply
    assert "AInvest" in sources and "class='src'" in sources
    assert result[2] == ""  # the textbox is cleared
    last, conversation = result[3], result[4]  # the Markdown for copy and export, with the answer itself
    assert (
        "[1]" in last
        and "\nSources:\n1. " in last
        and "# " in conversation
        and "What is the maturity wall?" in conversation
    )


# --- the widget endpoints ------------------------------------------------------------------------------------------


def test_widget_loader_contains_the_allowlist(http, third_party_sites):
    r = http.get("/widget.js")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/javascript")
    assert f'var ALLOWED = ["{third_party_sites.allowed.origin}"];' in r.text
    assert "__ALLOWED_ORIGINS__" not in r.text
    assert third_party_sites.disallowed.origin not in r.text


def test_widget_page_has_frame_ancestors_csp_and_no_secrets(http, chatbot_server, third_party_sites):
    r = http.get("/widget")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    csp = [d.strip() for d in r.headers["content-security-policy"].split(";")]
    assert f"frame-ancestors 'self' {third_party_sites.allowed.origin}" in csp
    assert "script-src 'self'" in csp
    assert r.headers["x-content-type-options"] == "nosniff"
    sources = [r.text] + [http.get(p).text for p in ("/widget/app.js", "/widget/app.css", "/widget.js")]
    secrets = [v for k, v in os.environ.items() if ("KEY" in k or "TOKEN" in k or "SECRET" in k) and len(v) >= 6]
    for text in sources:
        assert "sk-" not in text
        for value in secrets:
            assert value not in text
        for path in (str(ROOT), str(chatbot_server.workdir), "/tmp/", "/home/", "/root", "site-packages", ".venv"):
            assert path not in text
