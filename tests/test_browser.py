"""The chat window and the embeddable widget in a real browser (Playwright + Debian's chromium) against real servers.

Fixtures (tests/conftest.py): `browser` (one Chromium for the whole session), `chatbot_server` (corpus/), `xss_server` (one article full of markup-as-text),
`third_party_sites` (two other origins serving tests/data/web/*.html: `allowed` is in ALLOWED_EMBED_ORIGINS,
`disallowed` is not). Screenshots go to test-artifacts/.
"""

from __future__ import annotations

import json
import re
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Frame, FrameLocator, Page, expect

from app import EXAMPLE_QUESTIONS

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"
ANSWER_TIMEOUT = 90_000  # ms; generous on a slow machine, never a performance assertion

FAQ_QUESTION = "How does the maturity wall affect small caps differently than large caps?"
OFF_TOPIC = "What is the best recipe for a chocolate layer cake?"
XSS_QUESTION = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>'
ZEBRA_QUESTION = "How much did Zebra Corp revenue rise in 2026?"
TEAL = "rgb(15, 118, 110)"  # data-color="#0f766e"
LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}


class Recorder:
    """Every request, console message and page error of one browser context."""

    def __init__(self, context: BrowserContext) -> None:
        self.requests: list[str] = []
        self.console: list[str] = []
        self.errors: list[str] = []
        context.on("request", lambda r: self.requests.append(r.url))
        context.on("console", lambda m: self.console.append(f"{m.type}: {m.text}"))
        context.on("weberror", lambda e: self.errors.append(str(e.error)))

    def assert_loopback_only(self) -> None:
        assert self.requests, "no requests were recorded"
        outside = []
        for url in self.requests:
            parts = urllib.parse.urlsplit(url)
            if parts.scheme in ("data", "blob", "about"):
                continue
            if parts.scheme not in ("http", "https", "ws", "wss") or parts.hostname not in LOOPBACK:
                outside.append(url)
        assert not outside, f"requests left loopback (CDN, fonts, analytics?): {outside}"


@pytest.fixture
def context(browser) -> Iterator[BrowserContext]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(30_000)
    context.recorder = Recorder(context)
    try:
        yield context
    finally:
        context.close()


@pytest.fixture
def page(context) -> Page:
    return context.new_page()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


def assert_no_xss(page: Page) -> None:
    """No payload ran in any frame (cross-origin frames included)."""
    page.wait_for_timeout(1500)  # let any injected <img onerror> fail to load and fire
    for frame in page.frames:
        if frame.url.startswith(("http://", "https://")):
            assert frame.evaluate("typeof window.__xss") == "undefined", f"payload ran in {frame.url}"


# --- the chat window -----------------------------------------------------------------------------------------------


def chat_bot_messages(page: Page):
    return page.locator("#chat [data-testid='bot']")


def ask_in_chat(page: Page, question: str) -> None:
    box = page.locator("#question textarea")
    box.fill(question)
    box.press("Enter")


def wait_for_final_bot_message(page: Page, count: int):
    """The `count`-th bot message once it holds the final Answer (cited, refused or an error), not a draft."""
    message = chat_bot_messages(page).nth(count - 1)
    expect(message.locator(".cite, .refusal").first).to_be_visible(timeout=ANSWER_TIMEOUT)
    return message


def open_chat_window(page: Page, base: str) -> None:
    page.goto(base + "/")
    expect(page.locator("#question textarea")).to_be_visible()
    # The page has loaded (its load event lists the indexed articles): examples clicked now are not re-rendered away.
    expect(page.locator("#chat")).to_contain_text(re.compile(r"Indexed: \d+ articles?"))


def read_feedback(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_chat_window_answers_with_clickable_citations(page, context, chatbot_server, artifacts):
    open_chat_window(page, chatbot_server.base)
    for question in EXAMPLE_QUESTIONS:  # the examples are offered on the empty screen
        expect(page.locator("#chat").get_by_text(question, exact=True)).to_be_visible()
    expect(page.locator("#sources .sources-empty")).to_be_visible()
    expect(page.locator("#chat")).to_contain_text("Indexed: 2 articles")  # what the answers can come from
    expect(page.locator("#chat").get_by_role("link", name=re.compile("Small-Cap Resurgence 2026"))).to_be_visible()

    ask_in_chat(page, FAQ_QUESTION)
    expect(page.locator("#sources .src").first).to_be_visible(timeout=ANSWER_TIMEOUT)
    answer = wait_for_final_bot_message(page, 1)
    expect(page.locator("#chat [data-testid='user']").first).to_have_text(FAQ_QUESTION)
    expect(page.locator("#question textarea")).to_have_value("")
    cites = answer.locator(".cite")
    assert cites.count() >= 1
    assert re.search(r"\[\d+\]", cites.first.inner_text())
    expect(answer).not_to_contain_text("<span")  # markers are rendered, not shown as markup
    sources = page.locator("#sources")
    expect(sources).to_contain_text("AInvest")
    expect(sources.locator(".src-quote mark").first).to_be_visible()
    expect(sources.locator(".support").first).to_contain_text(re.compile(r"source match \d\.\d\d"))

    first = cites.first
    n = re.search(r"\bcite-(\d+)\b", first.get_attribute("class")).group(1)
    card = page.locator(f"#sources #src-{n}")
    expect(card).not_to_have_class(re.compile(r"\bactive\b"))
    first.click()
    expect(card).to_have_class(re.compile(r"\bactive\b"))
    page.wait_for_timeout(1500)  # clicking also selects the message in Gradio: the highlight must survive that
    expect(card).to_have_class(re.compile(r"\bactive\b"))
    assert page.locator("#sources .src.active").count() == 1

    page.mouse.move(0, 0)
    page.screenshot(path=str(artifacts / "chat-window.png"), full_page=True)
    context.recorder.assert_loopback_only()


def test_clicking_a_marker_of_an_earlier_answer_highlights_its_card(page, chatbot_server):
    open_chat_window(page, chatbot_server.base)
    ask_in_chat(page, "What is the maturity wall?")
    first = wait_for_final_bot_message(page, 1)
    ask_in_chat(page, "How long did the Russell 2000 outperform the S&P 500 in January 2026?")
    wait_for_final_bot_message(page, 2)
    expect(page.locator("#sources")).not_to_contain_text("Maturity Wall")
    first.locator(".cite").first.click()
    expect(page.locator("#sources")).to_contain_text("Maturity Wall")  # the panel shows the earlier answer's sources
    page.wait_for_timeout(1000)
    expect(page.locator("#sources #src-1")).to_have_class(re.compile(r"\bactive\b"), timeout=3000)


def test_chat_window_like_is_written_to_the_feedback_file(page, context, chatbot_server):
    open_chat_window(page, chatbot_server.base)
    question = "Why is information inefficiency an advantage for small-cap investors?"
    ask_in_chat(page, question)
    wait_for_final_bot_message(page, 1)
    before = len(read_feedback(chatbot_server.feedback_path))
    page.locator("#chat button[aria-label='Like']").last.click()
    deadline = time.monotonic() + 30
    records = []
    while time.monotonic() < deadline:
        records = read_feedback(chatbot_server.feedback_path)[before:]
        if records:
            break
        time.sleep(0.2)
    assert records, f"nothing written to {chatbot_server.feedback_path}"
    record = records[-1]
    assert record["question"] == question and record["liked"] is True
    assert record["refused"] is False and record["mode"] == "extractive"
    assert record["citations"] and all({"n", "source", "chunk_id"} <= set(c) for c in record["citations"])
    assert record["answer"] and record["time"]
    context.recorder.assert_loopback_only()


def test_chat_window_follow_up_refusal_and_new_chat(page, context, chatbot_server):
    open_chat_window(page, chatbot_server.base)
    ask_in_chat(page, "Why are small caps outperforming large caps in 2026?")
    wait_for_final_bot_message(page, 1)

    ask_in_chat(page, "and what about the dollar?")
    follow_up = wait_for_final_bot_message(page, 2)
    expect(follow_up.locator(".cite").first).to_be_visible()
    expect(follow_up).to_contain_text(re.compile("dollar", re.I))
    expect(page.locator("#sources")).to_contain_text(re.compile("dollar", re.I))

    ask_in_chat(page, OFF_TOPIC)
    refusal = wait_for_final_bot_message(page, 3)
    styled = refusal.locator(".refusal")
    expect(styled).to_be_visible()
    assert styled.evaluate("el => getComputedStyle(el).fontStyle") == "italic"
    expect(refusal).to_contain_text("You could ask")
    expect(page.locator("#suggestions .chip").first).to_have_text(EXAMPLE_QUESTIONS[0])
    assert refusal.locator(".cite").count() == 0

    page.locator("#new-chat").click()
    expect(chat_bot_messages(page)).to_have_count(0)
    expect(page.locator("#chat [data-testid='user']")).to_have_count(0)
    expect(page.locator("#chat").get_by_text(EXAMPLE_QUESTIONS[0], exact=True)).to_be_visible()
    expect(page.locator("#sources .sources-empty")).to_be_visible()
    expect(page.locator("#sources .src")).to_have_count(0)
    expect(page.locator("#suggestions .chip").first).to_be_hidden()

    # and the conversation starts afresh: a new question is answered without the old turns
    ask_in_chat(page, FAQ_QUESTION)
    wait_for_final_bot_message(page, 1)
    expect(chat_bot_messages(page)).to_have_count(1)
    context.recorder.assert_loopback_only()


def test_chat_window_shows_an_xss_question_inertly(page, context, chatbot_server):
    open_chat_window(page, chatbot_server.base)
    ask_in_chat(page, XSS_QUESTION)
    wait_for_final_bot_message(page, 1)
    assert_no_xss(page)
    user = page.locator("#chat [data-testid='user']").first
    expect(user).to_be_visible()
    assert page.locator("#chat script, #sources script").count() == 0
    assert page.locator("#chat [onerror], #sources [onerror]").count() == 0
    text = user.inner_text()
    assert "window.__xss" not in text or "<" in text  # shown literally, or sanitised away
    context.recorder.assert_loopback_only()


def test_chat_window_shows_markup_from_an_article_as_text(page, context, xss_server):
    open_chat_window(page, xss_server.base)
    ask_in_chat(page, ZEBRA_QUESTION)
    expect(page.locator("#sources .src").first).to_be_visible(timeout=ANSWER_TIMEOUT)
    answer = wait_for_final_bot_message(page, 1)
    expect(answer).to_contain_text("12%")
    sources = page.locator("#sources")
    expect(sources).to_contain_text("<script>window.__xss=3</script>")
    expect(sources).to_contain_text("<img src=x onerror=window.__xss=4>")
    expect(sources).to_contain_text("Zebra Corp <script>window.__xss=5</script> annual results")
    expect(sources).to_contain_text("Zebra <img src=x onerror=window.__xss=6> Wire")
    assert page.locator("#chat script, #sources script").count() == 0
    assert page.locator("#chat [onerror], #sources [onerror], #sources img").count() == 0
    assert_no_xss(page)
    context.recorder.assert_loopback_only()


def test_links_and_images_from_an_article_are_not_live_in_the_chat_window(page, context, xss_server):
    open_chat_window(page, xss_server.base)
    ask_in_chat(page, "Where can investors check the Zebra Corp revenue figures?")
    answer = wait_for_final_bot_message(page, 1)
    expect(answer).to_contain_text("results page")
    expect(answer).to_contain_text("[verify here](http://phish.example/login)")  # shown as written
    expect(answer).to_contain_text("![chart](http://pixel.example/pixel.png)")
    assert answer.locator("img").count() == 0
    hrefs = answer.locator("a").evaluate_all("els => els.map(e => e.href)")
    assert not [h for h in hrefs if "example" in h], hrefs
    page.wait_for_timeout(1000)
    assert not [u for u in context.recorder.requests if "pixel.example" in u or "phish.example" in u]
    context.recorder.assert_loopback_only()


# --- the widget on third-party sites ---------------------------------------------------------------------------------


def open_widget(page: Page, url: str) -> FrameLocator:
    page.goto(url)
    button = page.locator("#research-chatbot-button")
    expect(button).to_be_visible()
    button.click()
    expect(page.locator("#research-chatbot-frame")).to_be_visible()
    frame = page.frame_locator("#research-chatbot-frame")
    expect(frame.locator("#q")).to_be_visible()
    return frame


def ask_in_widget(frame: FrameLocator, question: str):
    frame.locator("#q").fill(question)
    frame.locator("#q").press("Enter")
    reply = frame.locator(".msg.bot").nth(1)  # the first one is the greeting
    expect(reply).not_to_have_text("…", timeout=ANSWER_TIMEOUT)
    expect(frame.locator("#send")).to_be_enabled(timeout=ANSWER_TIMEOUT)
    return reply


def test_widget_on_an_allowed_site_answers_with_citations(page, context, chatbot_server, third_party_sites, artifacts):
    page.goto(third_party_sites.allowed.url())
    button = page.locator("#research-chatbot-button")
    expect(button).to_be_visible()
    assert button.evaluate("b => getComputedStyle(b).backgroundColor") == TEAL
    box = button.bounding_box()
    viewport = page.viewport_size
    assert box["x"] + box["width"] > viewport["width"] - 40 and box["y"] + box["height"] > viewport["height"] - 40
    assert button.get_attribute("aria-label") == "Open chat: Small-cap desk"
    expect(page.locator("#research-chatbot-frame")).to_be_hidden()
    page.screenshot(path=str(artifacts / "widget-closed.png"), full_page=True)

    button.click()
    expect(page.locator("#research-chatbot-frame")).to_be_visible()
    assert button.get_attribute("aria-expanded") == "true"
    frame = page.frame_locator("#research-chatbot-frame")
    expect(frame.locator("#title")).to_have_text("Small-cap desk")
    expect(frame.locator(".msg.bot").first).to_have_text("Ask me about the 2026 small-cap rally.")
    assert frame.locator("header").evaluate("h => getComputedStyle(h).backgroundColor") == TEAL

    reply = ask_in_widget(frame, FAQ_QUESTION)
    expect(frame.locator(".msg.user")).to_have_text(FAQ_QUESTION)
    cites = reply.locator("button.cite")
    expect(cites.first).to_be_visible()
    items = reply.locator("ul.sources li")
    expect(items.first).to_be_visible()
    expect(items.first).to_contain_text("AInvest")
    assert cites.count() >= 1 and items.count() >= 1
    n = re.search(r"\d+", cites.first.inner_text()).group(0)
    cites.first.click()
    expect(reply.locator(f'ul.sources .quote[data-n="{n}"]')).to_have_class(re.compile(r"\bactive\b"))
    page.mouse.move(0, 0)
    page.screenshot(path=str(artifacts / "widget-open.png"), full_page=True)

    follow_up = ask_in_widget_next(frame, "and what about the dollar?", 2)
    expect(follow_up.locator("button.cite").first).to_be_visible()
    expect(follow_up).to_contain_text(re.compile("dollar", re.I))
    expect(follow_up).to_contain_text(re.compile("currency fluctuations|foreign earnings"))
    expect(follow_up.locator("ul.sources")).to_contain_text(re.compile("Dollar|dollar"))

    # the frame's own traffic is recorded too (so the loopback check below covers the widget)
    assert any(urllib.parse.urlsplit(u).path == "/api/ask/stream" for u in context.recorder.requests)

    frame.locator("#close").click()  # the panel's own close button asks the host page to hide it
    expect(page.locator("#research-chatbot-frame")).to_be_hidden()
    assert button.get_attribute("aria-expanded") == "false"
    context.recorder.assert_loopback_only()
    assert not context.recorder.errors, context.recorder.errors


def ask_in_widget_next(frame: FrameLocator, question: str, nth_reply: int):
    frame.locator("#q").fill(question)
    frame.locator("#q").press("Enter")
    reply = frame.locator(".msg.bot").nth(nth_reply)
    expect(reply).not_to_have_text("…", timeout=ANSWER_TIMEOUT)
    expect(frame.locator("#send")).to_be_enabled(timeout=ANSWER_TIMEOUT)
    return reply


def test_widget_refusal_in_the_frame(page, context, chatbot_server, third_party_sites):
    frame = open_widget(page, third_party_sites.allowed.url())
    reply = ask_in_widget(frame, OFF_TOPIC)
    expect(reply).to_have_class(re.compile(r"\brefused\b"))
    expect(reply.locator(".suggest button").first).to_have_text(EXAMPLE_QUESTIONS[0])
    assert reply.locator("button.cite").count() == 0 and reply.locator("ul.sources").count() == 0
    context.recorder.assert_loopback_only()


def test_widget_on_a_disallowed_site_is_refused(page, context, chatbot_server, third_party_sites):
    page.goto(third_party_sites.disallowed.url("embed-iframe.html"))
    warning = f"[research-chatbot] {third_party_sites.disallowed.origin} may not embed this widget"
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and not any(warning in m for m in context.recorder.console):
        page.wait_for_timeout(100)
    assert any(m.startswith("warning:") and warning in m for m in context.recorder.console), context.recorder.console
    expect(page.locator("#research-chatbot-button")).to_have_count(0)
    expect(page.locator("#research-chatbot-frame")).to_have_count(0)

    # The explicit <iframe src=".../widget"> is refused by the browser: CSP frame-ancestors.
    frame = direct_frame(page)
    page.wait_for_timeout(1000)
    assert frame.url.startswith("chrome-error://") or frame.locator("#q").count() == 0, frame.url
    assert frame.locator("#q").count() == 0
    violations = [m for m in context.recorder.console if "frame-ancestors" in m]
    assert violations, context.recorder.console
    context.recorder.assert_loopback_only()


def direct_frame(page: Page) -> Frame:
    handle = page.locator("iframe#direct").element_handle()
    deadline = time.monotonic() + 15
    frame = handle.content_frame()
    while frame is None and time.monotonic() < deadline:
        page.wait_for_timeout(100)
        frame = handle.content_frame()
    assert frame is not None
    frame.wait_for_load_state()
    return frame


def test_a_direct_iframe_from_an_allowed_site_loads_the_widget(page, context, chatbot_server, third_party_sites):
    """The control for the test above: the same page on the allowed origin frames the widget fine."""
    page.goto(third_party_sites.allowed.url("embed-iframe.html"))
    expect(page.frame_locator("iframe#direct").locator("#q")).to_be_visible()
    expect(page.frame_locator("iframe#direct").locator("#title")).to_have_text("Direct")
    expect(page.locator("#research-chatbot-button")).to_be_visible()
    assert not [m for m in context.recorder.console if "frame-ancestors" in m]


def test_widget_shows_an_xss_question_literally(page, context, chatbot_server, third_party_sites):
    frame = open_widget(page, third_party_sites.allowed.url())
    ask_in_widget(frame, XSS_QUESTION)
    expect(frame.locator(".msg.user")).to_have_text(XSS_QUESTION)
    assert frame.locator("#log img, #log script").count() == 0
    assert_no_xss(page)
    context.recorder.assert_loopback_only()


def test_widget_shows_markup_from_an_article_as_text(page, context, xss_server, third_party_sites):
    frame = open_widget(page, third_party_sites.allowed.url(server=xss_server.base))
    reply = ask_in_widget(frame, ZEBRA_QUESTION)
    expect(reply.locator("button.cite").first).to_be_visible()
    item = reply.locator("ul.sources li").first
    expect(item).to_contain_text("Zebra Corp <script>window.__xss=5</script> annual results")
    expect(item).to_contain_text("Zebra <img src=x onerror=window.__xss=6> Wire")
    assert frame.locator("#log img, #log script, #log [onerror]").count() == 0
    assert_no_xss(page)
    context.recorder.assert_loopback_only()


# --- the articles behind the answers, the library, chips, copy and export (both sizes) -------------------------------

SIZES = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}


@pytest.fixture(params=list(SIZES))
def sized(request, browser) -> Iterator[Page]:
    """A page at desktop (1280×900) and at phone (390×844) size."""
    context = browser.new_context(viewport=SIZES[request.param], accept_downloads=True)
    context.set_default_timeout(30_000)
    context.recorder = Recorder(context)
    context.size = request.param
    try:
        yield context.new_page()
    finally:
        context.close()


def in_viewport(locator) -> bool:
    return locator.evaluate(
        "el => { const r = el.getBoundingClientRect(); return r.bottom > 0 && r.top < innerHeight && r.height > 0; }"
    )


def expect_in_viewport(locator, wanted: bool = True, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while in_viewport(locator) != wanted and time.monotonic() < deadline:
        time.sleep(0.1)
    assert in_viewport(locator) == wanted


def test_a_citation_opens_its_article_at_the_highlighted_sentence(sized, chatbot_server):
    page = sized
    open_chat_window(page, chatbot_server.base)
    ask_in_chat(page, FAQ_QUESTION)
    answer = wait_for_final_bot_message(page, 1)
    sheet = page.locator("#sources-col")
    if page.context.size == "phone":  # the sources are a sheet, opened by a marker
        expect_in_viewport(sheet, False)
        answer.locator(".cite").first.click()
        expect_in_viewport(sheet, True)
    card = page.locator("#sources .art").first
    expect(card.locator(".art-title")).to_contain_text("Small-Cap Resurgence 2026")
    quote = page.locator("#sources .src").first
    highlight = quote.locator(".src-quote mark").first.inner_text()
    with page.expect_popup() as popup:
        quote.locator("a.open").click()
    viewer = popup.value
    viewer.wait_for_load_state()
    assert re.search(r"/articles/ainvest-small-cap-resurgence-2026-01-12\.txt\?chunk=\w+&hl=\d+-\d+#cited$", viewer.url)
    expect(viewer.locator("h1")).to_have_text(
        "Small-Cap Resurgence 2026: Why the Russell 2000 is Finally Outpacing the S&P 500"
    )
    expect(viewer.locator(".kicker")).to_contain_text("AInvest · 2026-01-12")
    marked = viewer.locator("mark.hl").first
    expect(marked).to_be_visible()
    assert highlight.strip() in " ".join(viewer.locator("mark.hl").all_inner_texts())
    expect_in_viewport(marked)  # scrolled to the passage
    assert marked.evaluate("el => getComputedStyle(el).backgroundColor") == "rgb(253, 230, 138)"
    if page.context.size == "phone":
        page.locator(".sheet-close").click()
        expect_in_viewport(sheet, False)
    page.context.recorder.assert_loopback_only()
    assert not page.context.recorder.errors, page.context.recorder.errors


def test_refusal_suggestions_and_examples_are_chips_that_ask(sized, chatbot_server):
    page = sized
    open_chat_window(page, chatbot_server.base)
    page.locator("#chat .example").nth(1).click()  # an example on the empty screen asks it
    expect(page.locator("#chat [data-testid='user']").first).to_have_text(EXAMPLE_QUESTIONS[1])
    wait_for_final_bot_message(page, 1)
    events = []  # the Gradio events the page starts: one a question, the chips come with the answer
    page.on("request", lambda r: events.append(r.url) if "/queue/join" in r.url else None)
    ask_in_chat(page, OFF_TOPIC)
    wait_for_final_bot_message(page, 2)
    chip = page.locator("#suggestions .chip").first
    expect(chip).to_have_text(EXAMPLE_QUESTIONS[0])
    assert len(events) == 1, events
    assert chip.evaluate("el => getComputedStyle(el).borderTopLeftRadius") != "0px"
    chip.click()
    expect(page.locator("#chat [data-testid='user']").nth(2)).to_have_text(EXAMPLE_QUESTIONS[0])
    third = wait_for_final_bot_message(page, 3)
    expect(third.locator(".cite").first).to_be_visible()
    expect(chip).to_be_hidden()  # an answered question offers no suggestions
    page.context.recorder.assert_loopback_only()


def test_copy_answer_with_sources_and_export_the_conversation(sized, chatbot_server):
    page = sized
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=chatbot_server.base)
    open_chat_window(page, chatbot_server.base)
    ask_in_chat(page, FAQ_QUESTION)
    wait_for_final_bot_message(page, 1)
    page.locator("#copy-answer").click()
    expect(page.locator("#copy-answer")).to_have_text("Copied")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert re.search(r"\[1\]", copied) and "\nSources:\n1. Small-Cap Resurgence 2026" in copied
    assert "AInvest, 2026-01-12" in copied and "“" in copied
    with page.expect_download() as download:
        page.locator("#export").click()
    assert re.fullmatch(r"conversation-\d{4}-\d\d-\d\d\.md", download.value.suggested_filename)
    text = Path(download.value.path()).read_text(encoding="utf-8")
    assert text.startswith("# Small-cap research assistant\n") and "Not investment advice" in text
    assert f"**Q:** {FAQ_QUESTION}" in text and "**A:** " in text and "Sources:\n1. " in text
    page.context.recorder.assert_loopback_only()


def test_the_window_has_a_compact_header_a_disclaimer_and_no_stray_buttons(sized, chatbot_server):
    page = sized
    open_chat_window(page, chatbot_server.base)
    header = page.locator("#top .top")
    expect(header.get_by_role("link", name="Library")).to_be_visible()
    assert header.bounding_box()["height"] <= 60
    expect(page.locator("#disclaimer")).to_contain_text("Not investment advice")
    ask_in_chat(page, FAQ_QUESTION)
    wait_for_final_bot_message(page, 1)
    user = page.locator("#chat [data-testid='user']").first
    assert user.locator("button").count() == 0  # no copy button on the user's own bubble
    label = page.locator("#chat label, #chat [data-testid='block-label']")
    assert label.count() == 0 or not label.first.is_visible()
    # nothing of Gradio's sits over the first bubble: the point near its top right corner is the bubble's own
    covered = """el => {
        el.scrollIntoView({block: "center"});
        const r = el.getBoundingClientRect();
        const hit = document.elementFromPoint(r.right - 8, r.top + 6);
        return hit !== null && hit.closest('[data-testid="user"]') === el;
    }"""
    deadline = time.monotonic() + 10
    while not user.evaluate(covered) and time.monotonic() < deadline:  # Gradio may still be scrolling the chat
        page.wait_for_timeout(200)
    assert user.evaluate(covered)
    new_chat = page.locator("#new-chat").bounding_box()
    assert new_chat["width"] < page.viewport_size["width"] * 0.5  # a button, not a full-width bar


def test_widget_example_chips_ask_and_citations_open_the_article(sized, chatbot_server, third_party_sites):
    page, context = sized, sized.context
    frame = open_widget(page, third_party_sites.allowed.url())
    chip = frame.locator(".suggest.starter .chip").first
    expect(chip).to_have_text(EXAMPLE_QUESTIONS[0])
    chip.click()
    reply = frame.locator(".msg.bot").nth(1)
    expect(reply.locator("button.cite").first).to_be_visible(timeout=ANSWER_TIMEOUT)
    expect(frame.locator(".suggest.starter")).to_have_count(0)
    group = reply.locator("ul.sources li.article").first
    expect(group.locator("strong")).to_have_text(re.compile("Small-Cap Resurgence 2026"))
    with page.expect_popup() as popup:
        group.locator("a.open").first.click()
    viewer = popup.value
    viewer.wait_for_load_state()
    assert viewer.url.startswith(chatbot_server.base + "/articles/")
    expect(viewer.locator("mark.hl").first).to_be_visible()
    context.recorder.assert_loopback_only()


def test_the_library_lists_and_searches_without_upload_on_a_server_without_a_token(sized, chatbot_server):
    page = sized
    page.goto(chatbot_server.base + "/")
    page.locator("#top .top-link").click()
    expect(page).to_have_url(chatbot_server.base + "/library")
    expect(page.locator("#articles li")).to_have_count(2)
    expect(page.locator("#admin")).to_have_count(0)
    page.locator("input[name=q]").fill("coinmela")
    page.locator("input[name=q]").press("Enter")
    expect(page.locator("#articles li")).to_have_count(1)
    expect(page.locator("#articles li .title")).to_have_text(
        "Small Caps Show Strong Start in 2026, Outperforming S&P 500"
    )
    page.locator("#articles li .title").click()
    expect(page.locator("h1")).to_have_text("Small Caps Show Strong Start in 2026, Outperforming S&P 500")
    page.context.recorder.assert_loopback_only()
    assert not page.context.recorder.errors


def test_library_upload_and_remove_need_the_admin_token(sized, library_server, tmp_path):
    page = sized
    name = f"quokka-{page.context.size}.md"
    article = tmp_path / name
    article.write_text(
        "# Quokka Mining doubles output\n\nQuokka Mining said its copper output doubled to 40,000 tonnes in 2026.\n"
    )
    page.goto(library_server.base + "/library")
    expect(page.locator("#articles li")).to_have_count(2)
    page.locator("#admin summary").click()
    expect(page.locator("button.remove").first).to_be_hidden()  # shown once a token is typed
    page.locator("#files").set_input_files(str(article))
    page.locator("#upload button[type=submit]").click()
    expect(page.locator("#report")).to_contain_text("admin routes need 'Authorization: Bearer <token>'")
    assert not (library_server.corpus / "uploads" / name).exists()

    page.locator("#token").fill(library_server.token)
    expect(page.locator("button.remove").first).to_be_visible()
    page.locator("#files").set_input_files(str(article))
    page.locator("#upload button[type=submit]").click()
    expect(page.locator("#report li")).to_have_text(f"uploads/{name}: added", timeout=ANSWER_TIMEOUT)
    expect(page.locator("#report")).to_contain_text("1 added")
    page.locator("#report a").click()  # refresh the list
    expect(page.locator("#articles li")).to_have_count(3)
    expect(page.locator("#articles li").first).to_contain_text("Quokka Mining doubles output")

    page.once("dialog", lambda dialog: dialog.accept())
    page.locator(f"button.remove[data-source='uploads/{name}']").click()
    expect(page.locator("#report li")).to_have_text(f"uploads/{name}: removed", timeout=ANSWER_TIMEOUT)
    assert not (library_server.corpus / "uploads" / name).exists()
    page.reload()
    expect(page.locator("#articles li")).to_have_count(2)
    page.context.recorder.assert_loopback_only()
    assert not page.context.recorder.errors, page.context.recorder.errors
