"""Each router of chat.web mounted alone on a bare FastAPI app, with an assistant that returns a fixed `Answer`:
the HTTP shape of a route without the model, the index or a server (the real ones: tests/test_api.py)."""

from __future__ import annotations

import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import anyio
from fastapi import FastAPI
from fastapi.testclient import TestClient

from chat.assistant import QuestionError
from chat.schema import Answer, Citation, SentenceInfo
from chat.web import ask, openai_compat, widget
from chat.web.api import install_errors
from chat.web.context import WebContext
from chat.web.limits import RateLimiter

# fmt: off
CITATION = Citation(n=1, source="a.txt", title="Small caps lead", publisher="AInvest", published="2026-01-12", url="",
                    section="", quote="The Russell 2000 rose 5%.", highlight="The Russell 2000 rose 5%.",
                    chunk_id="c1", start_char=0, end_char=25, support=1.0)
# fmt: on


class FixedAssistant:
    """Answers every question with the same cited sentence; refuses an empty one as the real one does."""

    mode = "extractive"

    def ask(self, question: str, history: list[dict[str, str]] | None = None) -> Answer:
        if not question.strip():
            raise QuestionError("the question is empty")
        return Answer(
            question=question,
            sentences=[SentenceInfo(text="The Russell 2000 rose 5%", citations=[1], support=1.0)],
            refused=False,
            citations=[CITATION],
            retrieved=[],
            latency_ms=1.0,
            mode="extractive",
            question_type="fact",
        )

    def stream(self, question: str, history: list[dict[str, str]] | None = None):
        answer = self.ask(question, history)
        yield "The Russell 2000 rose 5%. [1]"
        yield answer


def client(router, per_minute: int = 100) -> TestClient:
    app = FastAPI()
    app.state.web = WebContext(
        FixedAssistant(), lambda: {"index": "embedded", "chunks": 3}, ["https://example.com"], RateLimiter(per_minute)
    )
    app.state.web.ready.set()  # (what create_api's warm-up does once the model and the lexical index are loaded)
    install_errors(app)
    app.include_router(router)
    return TestClient(app)


def test_the_openai_router_alone_answers_with_the_citations_and_a_source_list():
    c = client(openai_compat.router)
    reply = c.post(
        "/v1/chat/completions",
        json={"model": "research-chatbot", "messages": [{"role": "user", "content": "How did small caps do?"}]},
    )
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert body["object"] == "chat.completion" and body["citations"][0]["publisher"] == "AInvest"
    assert body["choices"][0]["message"]["content"].startswith("The Russell 2000 rose 5%. [1]\n\nSources:\n[1] ")


def test_the_openai_router_alone_refuses_malformed_messages_as_json():
    c = client(openai_compat.router)
    reply = c.post("/v1/chat/completions", json={"messages": [{"role": "tool", "content": "x"}]})
    assert reply.status_code == 400 and "role" in reply.json()["error"]
    reply = c.post("/v1/chat/completions", json={"messages": [{"role": "user", "content": "  "}]})
    assert reply.status_code == 400 and reply.json() == {"error": "the question is empty"}


def test_the_ask_router_alone_answers_streams_and_limits():
    c = client(ask.router, per_minute=2)
    assert c.get("/healthz").json() == {"status": "ok", "mode": "extractive", "index": "embedded", "chunks": 3}
    assert c.post("/api/ask", json={"question": "How did small caps do?"}).json()["citations"][0]["n"] == 1
    events = c.post("/api/ask/stream", json={"question": "And mid caps?"}).text
    assert "event: token" in events and "event: answer" in events and events.rstrip().endswith("data: {}")
    limited = c.post("/api/ask", json={"question": "A third one?"})
    assert limited.status_code == 429 and "Retry-After" in limited.headers
    assert c.post("/api/ask", json={"question": 3}).status_code == 422


def test_the_widget_router_alone_frames_only_for_the_allowed_origins():
    c = client(widget.router)
    page = c.get("/widget")
    assert page.status_code == 200
    assert "frame-ancestors 'self' https://example.com" in page.headers["content-security-policy"]
    assert '["https://example.com"]' in c.get("/widget.js").text


def test_healthz_says_starting_until_the_warm_up_is_done():
    c = client(ask.router)
    c.app.state.web.ready.clear()
    starting = c.get("/healthz")
    assert starting.status_code == 503 and starting.json()["status"] == "starting"
    assert starting.headers["Retry-After"] == "2"
    c.app.state.web.ready.set()
    assert c.get("/healthz").json()["status"] == "ok"


def test_answers_are_worked_on_in_at_most_answer_workers_slots_and_the_rest_wait_their_turn():
    """ANSWER_WORKERS: with 2 slots, 8 questions sent at once over /api/ask, its stream and /v1/chat/completions
    are answered two at a time (a pair meets inside the assistant, a third never joins it), and all are answered."""

    class CountingAssistant(FixedAssistant):
        def __init__(self) -> None:
            self.inside, self.most, self.lock = 0, 0, threading.Lock()
            self.pair = threading.Barrier(2, timeout=10)  # two answers are inside at the same time

        def ask(self, question: str, history: list[dict[str, str]] | None = None) -> Answer:
            with self.lock:
                self.inside += 1
                self.most = max(self.most, self.inside)
            try:
                self.pair.wait()
                time.sleep(0.05)  # (a third answer let in now would be counted)
                return super().ask(question, history)
            finally:
                with self.lock:
                    self.inside -= 1

    assistant = CountingAssistant()
    c = client(ask.router)
    c.app.include_router(openai_compat.router)
    c.app.state.web.assistant = assistant
    c.app.state.web.answer_slots = anyio.CapacityLimiter(2)

    def one(i: int) -> int:
        if i % 4 == 3:
            messages = [{"role": "user", "content": f"question {i}"}]
            return c.post("/v1/chat/completions", json={"model": "m", "messages": messages}).status_code
        if i % 4 == 2:
            reply = c.post("/api/ask/stream", json={"question": f"question {i}"})
            return reply.status_code if "event: answer" in reply.text else 500
        return c.post("/api/ask", json={"question": f"question {i}"}).status_code

    with c, ThreadPoolExecutor(8) as pool:  # (`with c`: the requests share one event loop, as on a server)
        assert list(pool.map(one, range(8))) == [200] * 8
    assert assistant.most == 2


def test_answer_workers_default_to_one_per_core_for_the_extractive_answerer_and_more_for_a_model_server():
    from settings import Settings

    assert Settings(answer_workers=0).answer_slots() == (os.cpu_count() or 1)
    assert Settings(answer_workers=0, openai_api_key="k").answer_slots() == 16  # (answers wait on the server)
    assert Settings(answer_workers=3).answer_slots() == 3


def test_serving_runs_numpy_on_one_blas_thread_per_request():
    """OpenBLAS's helper threads spin after every product; while serving they took a core from other requests."""
    from threadpoolctl import threadpool_info

    import app
    from settings import Settings

    def blas_threads() -> set[int]:
        return {pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"}

    try:
        app.set_threads(Settings(embed_threads=0), serving=True)
        assert blas_threads() == {1}
    finally:
        app.set_threads(Settings(embed_threads=0), serving=False)
    assert blas_threads() == {os.cpu_count()}  # (ingest: all cores)


class StreamingAssistant(FixedAssistant):
    """Writes its answer in `pieces` pieces, `pause` seconds apart, then gives the `Answer`."""

    def __init__(self, pieces: int, pause: float) -> None:
        self.pieces, self.pause = pieces, pause

    def stream(self, question: str, history: list[dict[str, str]] | None = None):
        answer = self.ask(question, history)
        for i in range(self.pieces):
            time.sleep(self.pause)
            yield f"word{i} "
        yield answer


def window_updates(assistant, tmp_path, **kw) -> list[tuple]:
    """Every update the chat window's answer event sends for one question (its function called as Gradio would)."""
    from chat.web.ui import build_ui

    ui = build_ui(assistant, examples=[], feedback_path=tmp_path / "feedback.jsonl", max_chars=500, **kw)
    respond = next(f.fn for f in ui.fns.values() if getattr(f.fn, "__name__", "") == "respond")
    # (Gradio sends each update before asking for the next; the function reuses its message list between them)
    return [(update[0][-1]["content"], *update[1:]) for update in respond("How did small caps do?", [], {}, None)]


def test_the_window_shows_a_streamed_answer_at_most_ten_times_a_second_and_the_final_one_whole(tmp_path):
    """Each update of the window is a Gradio event whose unchanged outputs are rebuilt on the server: a model writing
    40 words a second updated it 40 times a second, and an extractive answer twice. Now a draft is shown at most every
    DRAFT_INTERVAL, and an answer whose text and final form come together only in its final form."""
    from chat.web.ui import DRAFT_INTERVAL

    started = time.monotonic()
    updates = window_updates(StreamingAssistant(pieces=20, pause=0.025), tmp_path)  # 0.5 s of writing at least
    took = time.monotonic() - started
    drafts, final = updates[:-1], updates[-1]
    assert 2 <= len(drafts) <= took / DRAFT_INTERVAL + 1, (len(drafts), took)  # (was 20: one a piece)
    assert all(d[0].startswith("word0 ") for d in drafts)
    shown = [d[0].count("word") for d in drafts]
    assert shown == sorted(set(shown)) and shown[-1] < 20, shown  # more each time; the rest with the final answer
    assert "The Russell 2000 rose 5%" in final[0] and "\nSources:\n1. " in final[5]

    assert len(window_updates(FixedAssistant(), tmp_path)) == 1  # its text and its answer come together: shown once


class RefusingAssistant(FixedAssistant):
    """Refuses every question, offering questions the articles do answer."""

    def ask(self, question: str, history: list[dict[str, str]] | None = None) -> Answer:
        answer = super().ask(question, history)
        return answer.model_copy(
            update={"sentences": [], "refused": True, "citations": [], "suggestions": ["What is the maturity wall?"]}
        )


def test_an_answer_and_its_suggestions_are_one_update_of_one_event(tmp_path):
    """The suggestion chips come with the answer (they came from a second event chained after each answer, a
    second round of Gradio's queue), and a question is one event: no other event follows it."""
    from chat.web.ui import MAX_CHIPS, build_ui

    (refusal,) = window_updates(RefusingAssistant(), tmp_path)
    row, chips = refusal[-1 - MAX_CHIPS], refusal[-MAX_CHIPS:]
    assert row["visible"] is True
    assert [c.get("value") for c in chips] == ["What is the maturity wall?", "", ""]
    assert [c["visible"] for c in chips] == [True, False, False]
    (answer,) = window_updates(FixedAssistant(), tmp_path)
    assert answer[-1 - MAX_CHIPS]["visible"] is False and not any(c["visible"] for c in answer[-MAX_CHIPS:])

    ui = build_ui(FixedAssistant(), examples=[], feedback_path=tmp_path / "feedback.jsonl", max_chars=500)
    answering = [i for i, f in ui.fns.items() if getattr(f.fn, "__name__", "") == "respond"]
    assert answering and not any(d.get("trigger_after") in answering for d in ui.config["dependencies"])
