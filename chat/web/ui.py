"""The chat window (Gradio Blocks, mounted in the FastAPI app at `/`). It only formats an `Answer`.

    python app.py            # then open http://127.0.0.1:7860/

Streaming answers; `[n]` markers are clickable and light up their source card; the sources panel shows title,
publisher, date, the quoted passage with the supporting sentence highlighted, and the verification support.
Thumbs up/down go to a JSONL file (FEEDBACK_PATH). Everything taken from documents or users is HTML-escaped
before it is put into markup, and Gradio sanitises chat messages on top of that.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import logging
import os
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import gradio as gr

from chat.assistant import Assistant, QuestionError
from chat.schema import Answer, article_path
from chat.web.articles import newest_first
from chat.web.limits import MAX_HISTORY_TURNS, ApiError, RateLimiter

log = logging.getLogger(__name__)
MAX_CHIPS = 3  # suggestion chips under the conversation
MAX_WINDOW_MESSAGES = 200  # a conversation in the window holds at most this many messages (then: a new chat)
# An answer being written updates the window at most this often: every update's outputs cost server CPU (Gradio
# rebuilds the component of each output left unchanged), and ten a second reads as smooth.
DRAFT_INTERVAL = 0.1

EMPTY_SOURCES = (
    "<div class='sources-empty'><h3>Sources</h3><p>Ask a question: the passages behind each "
    "<span class='cite-demo'>[n]</span> of the answer appear here, with the supporting sentence "
    "highlighted.</p></div>"
)

CSS = """
#top { margin: 0; padding: 0; }
.top { display: flex; align-items: baseline; gap: .75rem; padding: .1rem .2rem .3rem; flex-wrap: nowrap; }
.top-title { font-weight: 700; font-size: 1.15rem; white-space: nowrap; overflow: hidden; text-overflow: ellipsis;
  min-width: 0; }
.top-tag { color: var(--body-text-color-subdued); font-size: .85rem; flex: 1; min-width: 0; overflow: hidden;
  text-overflow: ellipsis; white-space: nowrap; }
.top-link { font-weight: 600; font-size: .9rem; white-space: nowrap; margin-left: auto; }
#chat .icon-button-wrapper.top-panel { display: none; }  /* the clear button: "New chat" does that */
#chat .cite { color: var(--color-accent); font-weight: 600; cursor: pointer; font-size: .8em; vertical-align: super;
  margin-left: 1px; }
#chat .cite:hover { text-decoration: underline; }
#chat .placeholder { text-align: left; padding: 0 1.1rem; font-size: .92rem; }
#chat .placeholder ul { margin-top: .2rem; }
#chat .examples { gap: .45rem !important; padding: 0 1rem !important; }
#chat .example { border-radius: 18px !important; border: 1px solid var(--color-accent) !important; padding: .4rem .8rem !important;
  color: var(--color-accent) !important; background: var(--background-fill-primary) !important; cursor: pointer;
  min-height: 0 !important; }
#chat .example:hover { background: var(--color-accent-soft) !important; }
#chat .example-text-content { font-size: .85rem; line-height: 1.35; }
.refusal { color: var(--body-text-color-subdued); font-style: italic; }
#suggestions { gap: .4rem; flex-wrap: wrap; }
#suggestions .chip, #toolbar button { flex: 0 1 auto !important; min-width: 0 !important; width: auto !important; }
#suggestions .chip { border-radius: 999px; border: 1px solid var(--color-accent); color: var(--color-accent);
  background: var(--background-fill-primary); font-weight: 500; white-space: normal; text-align: left; }
#toolbar { gap: .4rem; flex-wrap: wrap; justify-content: flex-start; }
#toolbar button { background: transparent; border: 1px solid var(--border-color-primary); box-shadow: none;
  font-weight: 500; }
.disclaimer { color: var(--body-text-color-subdued); font-size: .75rem; margin: 0; text-align: center; }
#sources { max-height: 680px; overflow-y: auto; }
#sources h3 { margin: 0 0 .5rem; font-size: 1rem; }
.sources-head { display: flex; align-items: center; }
.sources-head h3 { flex: 1; }
.sheet-close { display: none; background: none; border: 0; font-size: 1.5rem; line-height: 1; cursor: pointer;
  color: var(--body-text-color); }
.art { border: 1px solid var(--border-color-primary); border-radius: 10px; padding: .65rem .8rem .3rem; margin-bottom: .7rem;
  background: var(--background-fill-secondary); }
.art-title { font-weight: 600; line-height: 1.3; }
.art-title a { color: inherit; text-decoration: none; } .art-title a:hover { text-decoration: underline; }
.src-meta { color: var(--body-text-color-subdued); font-size: .8rem; margin: .15rem 0 .3rem; }
.src { border-top: 1px solid var(--border-color-primary); padding: .45rem .3rem .4rem; margin: 0 -.3rem;
  border-radius: 6px; transition: box-shadow .2s, background .2s; }
.src.active { background: var(--color-accent-soft); box-shadow: 0 0 0 2px var(--color-accent); }
.src-head { display: flex; gap: .45rem; align-items: center; flex-wrap: wrap; margin-bottom: .2rem; }
.src-n { background: var(--color-accent); color: white; border-radius: 6px; padding: 0 .4rem; font-weight: 700;
  font-size: .8rem; }
.src-section { font-size: .8rem; font-weight: 600; color: var(--body-text-color-subdued); flex: 1 1 8rem; min-width: 0; }
.src-quote { font-size: .85rem; line-height: 1.45; white-space: pre-wrap; }
.src-quote mark { background: #fde68a; color: #111; border-radius: 3px; padding: 0 1px; }
.src .open { font-size: .8rem; display: inline-block; margin-top: .25rem; }
.support { font-size: .72rem; border-radius: 999px; padding: 0 .45rem; margin-left: auto; white-space: nowrap; }
.support.high { background: #dcfce7; color: #166534; } .support.mid { background: #fef9c3; color: #854d0e; }
.support.low { background: #fee2e2; color: #991b1b; }
.sources-empty p { color: var(--body-text-color-subdued); font-size: .9rem; }
.relevance { display: inline-block; font-size: .8rem; border-radius: 6px; padding: .1rem .45rem; }
.relevance.partial { background: #fef9c3; color: #854d0e; } .relevance.weak { background: #fee2e2; color: #991b1b; }
.cite-demo { color: var(--color-accent); font-weight: 600; }
footer { display: none !important; }
@media (max-width: 768px) {
  .top-tag { display: none; }
  .top-title { font-size: 1rem; }
  #sources-col { position: fixed; left: 0; right: 0; bottom: 0; z-index: 50; max-height: 65vh; margin: 0 !important;
    background: var(--background-fill-primary); border-top: 1px solid var(--border-color-primary);
    border-radius: 14px 14px 0 0; padding: .6rem .8rem; transform: translateY(110%); visibility: hidden;
    transition: transform .25s ease, visibility .25s; }
  #sources-col[data-open] { transform: none; visibility: visible; box-shadow: 0 -8px 30px rgba(0,0,0,.18); }
  #chat .examples { grid-template-columns: 1fr !important; gap: .35rem !important; }
  #chat .example:nth-child(n+4) { display: none; }  /* three examples fit a phone's screen with the welcome */
  #chat .example { padding: .3rem .7rem !important; }
  #chat .placeholder { font-size: .85rem; }
  #sources { max-height: calc(65vh - 1.2rem); }
  .sheet-close { display: block; }
  .sources-empty { display: none; }
}
"""

# Clicking a [n] marker highlights and scrolls to its source card (Gradio renders messages in the page DOM); on a
# phone the sources panel is a sheet that the click opens. Copy and export run here, from the Markdown the server
# put in two hidden fields.
HEAD = r"""
<script>
(function () {
  var wanted = null;  // the [n] last clicked: re-applied when Gradio re-renders the sources panel
  function light() {
    var card = wanted && document.getElementById("src-" + wanted);
    if (!card || card.classList.contains("active")) return;
    document.querySelectorAll(".src.active").forEach(function (el) { el.classList.remove("active"); });
    card.classList.add("active");
    card.scrollIntoView({behavior: "smooth", block: "nearest"});
  }
  document.addEventListener("click", function (event) {
    if (event.target.closest && event.target.closest(".sheet-close")) {
      closeSheet();
      return;
    }
    var cite = event.target.closest && event.target.closest(".cite");
    if (!cite) return;
    var match = /cite-(\d+)/.exec(cite.className);
    if (!match) return;
    wanted = match[1];
    var sheet = document.getElementById("sources-col");
    if (sheet) sheet.setAttribute("data-open", "");  // on a phone the sources are a sheet: open it
    light();
    setTimeout(function () { wanted = null; }, 3000);
  });
  function closeSheet() {
    var sheet = document.getElementById("sources-col");
    if (sheet) sheet.removeAttribute("data-open");
  }
  // The sheet covers the question box: a new question, or Escape, closes it.
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape") closeSheet();
    else if (event.key === "Enter" && !event.shiftKey && event.target.closest && event.target.closest("#question")) {
      closeSheet();
    }
  });
  document.addEventListener("click", function (event) {
    if (event.target.closest && event.target.closest("#question button, #suggestions button, #chat .example")) {
      closeSheet();
    }
  }, true);
  new MutationObserver(function () { if (wanted) light(); })
    .observe(document.documentElement, {childList: true, subtree: true});

  function flash(id, text) {
    var button = document.getElementById(id);
    if (!button) return;
    var label = button.textContent;
    button.textContent = text;
    setTimeout(function () { button.textContent = label; }, 1500);
  }
  window.researchChat = {
    copy: function (text, id) {
      if (!text) { flash(id, "Nothing to copy yet"); return; }
      function fallback() {
        var area = document.createElement("textarea");
        area.value = text;
        area.setAttribute("readonly", "");
        area.style.position = "fixed"; area.style.opacity = "0";
        document.body.appendChild(area);
        area.select();
        try { document.execCommand("copy"); } finally { area.remove(); }
      }
      var done = navigator.clipboard && window.isSecureContext ? navigator.clipboard.writeText(text).catch(fallback)
        : Promise.resolve(fallback());
      done.then(function () { flash(id, "Copied"); });
    },
    download: function (text) {
      if (!text) { flash("export", "Nothing to export yet"); return; }
      var link = document.createElement("a");
      link.href = URL.createObjectURL(new Blob([text], {type: "text/markdown"}));
      link.download = "conversation-" + new Date().toISOString().slice(0, 10) + ".md";
      document.body.appendChild(link);
      link.click();
      setTimeout(function () { URL.revokeObjectURL(link.href); link.remove(); }, 1000);
    }
  };
})();
</script>
"""


def support_label(support: float) -> tuple[str, str]:
    """How closely the cited passage backs the quoted sentence (verification), not whether it answers the question."""
    if support >= 0.75:
        return "high", "source match"
    if support >= 0.5:
        return "mid", "partial source match"
    return "low", "weak source match"


# fmt: off
RELEVANCE_NOTES = {
    "partial": "These passages answer only part of what you asked.",
    "weak": "These are the closest passages found; they may not answer your question.",
}
# fmt: on


def relevance_note(answer: Answer) -> str:
    """A line under an answer that does not directly address the question (Answer.relevance_label)."""
    label = answer.relevance_label
    if answer.refused or label not in RELEVANCE_NOTES:
        return ""
    return (
        f"\n\n<span class='relevance {label}' title='how well the answer addresses the question: "
        f"{answer.relevance:.2f}'>{RELEVANCE_NOTES[label]}</span>"
    )


# fmt: off
# Markdown that would make text from a document (or a user) live in the chat window: links and images
# ("[verify here](http://…)", "![x](http://…/pixel.png)") and the URLs and addresses the renderer links by
# itself. Each is written as an HTML character reference, which reads the same and is never parsed as markup.
_LIVE_MARKDOWN = {"[": "&#91;", "]": "&#93;", "(": "&#40;", ")": "&#41;", "!": "&#33;", "<": "&lt;", ">": "&gt;",
                  "&": "&amp;", "`": "&#96;", "@": "&#64;", "*": "&#42;", "_": "&#95;", "~": "&#126;",
                  "|": "&#124;", "\\": "&#92;"}
# fmt: on
_AUTOLINK = re.compile(r"(?i)(?<=[a-z])(:)(?=//)|\b(www)(\.)")


def inert(text: str) -> str:
    """`text` for the chat window's Markdown: shown exactly as written, with nothing in it live (no link, no
    image, no HTML). Line-start bullets ("- ") and line breaks still read as such."""
    out = "".join(_LIVE_MARKDOWN.get(ch, ch) for ch in text)
    return _AUTOLINK.sub(lambda m: "&#58;" if m.group(1) else f"{m.group(2)}&#46;", out)


def cite_marks(numbers: list[int]) -> str:
    """A sentence's citation numbers as clickable markers (Gradio's sanitiser drops data-* attributes, so the
    number travels in a class name)."""
    return "".join(f"<span class='cite cite-{n}' title='source {n}'>[{n}]</span>" for n in numbers)


def format_answer(answer: Answer) -> str:
    """The answer as chat markdown, laid out from its structure (`Answer.render`): every text inert (see
    `inert`), every sentence's citations clickable markers; a run of sentences citing one passage shows its
    marker once."""
    if answer.refused:
        body = answer.render(cite=cite_marks, escape=inert, gap="")
        extra = "\n\nYou could ask one of the questions below." if answer.suggestions else ""
        return f"<span class='refusal'>{body}</span>{extra}"
    return answer.render(cite=cite_marks, escape=inert, merge=True, gap="") + relevance_note(answer)


def format_quote(quote: str, marks: list[str]) -> str:
    """The passage as HTML: escaped, headings bold, every sentence the answer relies on highlighted."""
    out = html.escape(quote)
    for sentence in sorted(set(marks), key=len, reverse=True):
        marked = html.escape(sentence)
        if marked and marked in out and f"<mark>{marked}" not in out:
            out = out.replace(marked, f"<mark>{marked}</mark>", 1)
    return re.sub(r"(?m)^#{1,6} (.+)$", r"<strong>\1</strong>", out)


def cited_paragraphs(quote: str, marks: list[str]) -> str:
    """The paragraphs of a passage that hold a sentence the answer relies on ("…" where others were left out);
    the whole passage when none does."""
    paragraphs = [p for p in re.split(r"\n\s*\n", quote) if p.strip()]
    keep = [i for i, p in enumerate(paragraphs) if any(m and m in p for m in marks)]
    if not keep:
        return quote
    first, last = keep[0], keep[-1]
    text = "\n\n".join(paragraphs[first : last + 1])
    return ("… " if first > 0 else "") + text + (" …" if last < len(paragraphs) - 1 else "")


def format_sources(answer: Answer | None) -> str:
    """The sources panel: one card per article (title once, its publisher, author and date, a link to the whole
    article), holding one quote per citation: the cited paragraph with the supporting sentence highlighted, its
    verification support, and a link that opens the article at that passage."""
    if answer is None or not answer.citations:
        return EMPTY_SOURCES
    groups: dict[str, list] = {}
    for c in answer.citations:
        groups.setdefault(c.source, []).append(c)
    cards = []
    for cites in groups.values():
        first = cites[0]
        meta = " · ".join(html.escape(x) for x in (first.publisher, first.author, first.published) if x)
        quotes = []
        for c in cites:
            marks = [c.highlight] + [s.text for s in answer.sentences if c.n in s.citations and s.text in c.quote]
            level, label = support_label(c.support)
            section = f"<span class='src-section'>{html.escape(c.section)}</span>" if c.section else ""
            quotes.append(
                f"<div class='src' id='src-{c.n}'><div class='src-head'><span class='src-n'>{c.n}</span>{section}"
                f"<span class='support {level}' title='how closely this passage backs the quoted sentence "
                f"({c.support:.2f}); it does not say whether the answer addresses your question'>{label} "
                f"{c.support:.2f}</span></div>"
                f"<div class='src-quote'>{format_quote(cited_paragraphs(c.quote, marks), marks)}</div>"
                f"<a class='open' href='{html.escape(c.article_link)}' target='_blank' rel='noopener'>"
                "Open in article ↗</a></div>"
            )
        whole = html.escape(article_path(first.source))
        cards.append(
            f"<section class='art'><div class='art-title'><a href='{whole}' target='_blank' rel='noopener'>"
            f"{html.escape(first.title or first.source)}</a></div><div class='src-meta'>{meta}</div>"
            + "".join(quotes)
            + "</section>"
        )
    return (
        "<div class='sources-head'><h3>Sources</h3><button type='button' class='sheet-close' "
        "aria-label='Close sources'>×</button></div>" + "".join(cards)
    )


def answer_markdown(answer: Answer) -> str:
    """One answer as Markdown: its text with `[n]` markers, then the numbered sources (title, publisher, date,
    the supporting sentence)."""
    lines = [answer.render()]
    if answer.citations:
        lines.append("\nSources:")
        for c in answer.citations:
            where = ", ".join(x for x in (c.publisher, c.published) if x)
            lines.append(f"{c.n}. {c.title or c.source}" + (f" — {where}" if where else "") + f". “{c.highlight}”")
    return "\n".join(lines)


def conversation_markdown(conversation: list[dict], answers: dict, title: str) -> str:
    """The conversation as a Markdown document: each question, then its answer with its numbered sources."""
    out = [f"# {title}", f"Exported {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC. Not investment advice.", ""]
    for i, m in enumerate(conversation or []):
        if not isinstance(m, dict):
            continue
        if m.get("role") == "user":
            out += [f"**Q:** {unmarked(message_text(m.get('content')))}", ""]
        elif m.get("role") == "assistant":
            answer = answers.get(str(i))
            text = answer_markdown(Answer.from_dict(answer)) if answer else unmarked(message_text(m.get("content")))
            out += [f"**A:** {text}", ""]
    return "\n".join(out).rstrip() + "\n"


def welcome(articles: list | None, limit: int = 6) -> str:
    """The empty screen: what to do, and what is indexed (title, publisher, date; the library has the rest).
    `articles` None: not known yet (the page fills it in when it loads)."""
    lines = [
        "**Ask about the indexed articles.** Pick an example or type a question; every sentence of an answer "
        "cites its passage."
    ]
    if articles is None:
        pass
    elif articles:
        shown = newest_first(articles)[:limit]
        lines.append(f"\n**Indexed: {len(articles)} article{'s' if len(articles) != 1 else ''}**")
        for a in shown:
            where = ", ".join(inert(x) for x in (a.publisher, a.published) if x)
            lines.append(
                f"- [{inert(a.title or a.source)}]({article_path(a.source)})" + (f" — {where}" if where else "")
            )
        if len(articles) > limit:
            lines.append(f"- … and {len(articles) - limit} more in the [library](/library)")
    else:
        lines.append("\nNothing is indexed yet: run `python app.py ingest`.")
    return "\n".join(lines)


def unmarked(text: str) -> str:
    """A message of the window as the text a reader sees: its markup (markers, refusal styling) and character
    references undone."""
    return html.unescape(re.sub(r"<[^>]+>", "", text))


def message_text(content: Any) -> str:
    """Gradio 6 message content is a string or a list of typed parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(p.get("text", "") for p in content if isinstance(p, dict))
    if isinstance(content, dict):
        return str(content.get("text", ""))
    return ""


class FeedbackLog:
    """Thumbs up/down appended to a JSONL file for maintainers to review, bounded whoever calls.

    Each record is one complete line written with a single `write` under a lock (appending); a line cut short by
    a crash is closed before the next record, so records never run together. When the file would pass
    `max_bytes` it is rotated to `<name>.1` (the previous rotation is replaced): at most twice `max_bytes` on disk.
    """

    MAX_RECORD = 16_000  # bytes; longer question/answer texts are cut

    def __init__(self, path: Path, max_bytes: int = 5_000_000) -> None:
        self.path = path
        self.max_bytes = max_bytes
        self._lock = threading.Lock()

    def write(self, record: dict[str, Any]) -> None:
        record = {k: (v[:4000] if isinstance(v, str) else v) for k, v in record.items()}
        line = json.dumps({"time": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), **record}, ensure_ascii=False)
        data = line.encode("utf-8")
        if len(data) > self.MAX_RECORD:  # never cut JSON: keep the verdict, drop the texts
            data = json.dumps({k: record[k] for k in ("liked", "refused", "mode") if k in record}).encode()
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            try:
                size = self.path.stat().st_size
            except FileNotFoundError:
                size = 0
            if size and size + len(data) + 2 > self.max_bytes:
                self.path.replace(self.path.with_name(self.path.name + ".1"))
                size = 0
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                if size:
                    with open(self.path, "rb") as fh:
                        fh.seek(-1, os.SEEK_END)
                        if fh.read(1) != b"\n":  # a record cut short by a crash: close it first
                            data = b"\n" + data
                os.write(fd, data + b"\n")
            finally:
                os.close(fd)


# What a like event may say (anything else is ignored): stored as `"liked": true | false`.
FEEDBACK_VERDICTS = {True: True, False: False, "Like": True, "Dislike": False, "like": True, "dislike": False}


def build_ui(
    assistant: Assistant,
    *,
    examples: list[str],
    feedback_path: Path,
    max_chars: int,
    limiter: RateLimiter | None = None,
    title: str = "Small-cap research assistant",
    feedback_max_bytes: int = 5_000_000,
    client_of=None,
    unavailable: tuple[type[BaseException], ...] = (),
    answer_slots: int = 1,
    draft_interval: float = DRAFT_INTERVAL,
) -> gr.Blocks:
    """`client_of(request)` names the client for rate limits (the app decides which proxies to believe);
    `unavailable`: the exceptions that mean the article index cannot be reached now; `answer_slots`: answers the
    window works on at once, over all its visitors (Gradio's queue runs one at a time unless told: a visitor waited
    for everyone's whole answer, a streamed model answer taking seconds); `draft_interval`: seconds between two
    updates of an answer being written (see DRAFT_INTERVAL)."""
    feedback = FeedbackLog(feedback_path, feedback_max_bytes)
    feedback_limiter = RateLimiter(limiter.per_minute if limiter is not None else 30)
    client_of = client_of or (lambda request: request.client.host if request and request.client else "unknown")

    def turns_of(history: list[dict], answers: dict) -> list[dict[str, str]]:
        """The conversation as plain text for the assistant (the chat shows markup; the model must not)."""
        turns = []
        for i, m in enumerate(history):
            if not isinstance(m, dict) or m.get("role") not in ("user", "assistant"):
                continue  # not a turn this window wrote (the value came through the API): not used
            answer = answers.get(str(i)) if m.get("role") == "assistant" else None
            text = answer["answer"] if answer else (m.get("plain") or message_text(m.get("content")))
            turns.append({"role": m["role"], "content": unmarked(str(text))})
        return turns[-MAX_HISTORY_TURNS:]

    # The Markdown of the last answer and the conversation, the suggestion row and its chips: unchanged
    KEEP = (gr.skip(),) * (2 + 1 + MAX_CHIPS)

    def chips_for(answer: Answer | None) -> tuple:
        """The suggestion row and its chips: a refusal's questions; nothing for an answer (or no answer)."""
        offered = (answer.suggestions if answer is not None and answer.refused else [])[:MAX_CHIPS]
        chips = [gr.update(value=q, visible=True) for q in offered]
        # (one update each: Gradio takes the value out of an update it sends, so a shared one clears one chip)
        chips += [gr.update(value="", visible=False) for _ in range(MAX_CHIPS - len(offered))]
        return gr.update(visible=bool(offered)), *chips

    def respond(message: str, conversation: list[dict], answers: dict, request: gr.Request) -> Iterator[tuple]:
        # The conversation lives in server-side session state: a client sends only its question, never a history.
        history = list(conversation or [])
        answers = dict(answers or {})
        turns = turns_of(history, answers)
        question = (message or "").strip()
        if not question:
            yield history, history, gr.skip(), answers, "", *KEEP
            return
        if len(history) >= MAX_WINDOW_MESSAGES:
            history = history + [
                {
                    "role": "assistant",
                    "content": "<span class='refusal'>This conversation is long "
                    "enough; start a new chat to go on.</span>",
                }
            ]
            yield history, history[:-1], gr.skip(), answers, question, *KEEP
            return
        # The question is shown literally: "a<b" or "*x*" are text, not markup.
        history = history + [{"role": "user", "content": inert(question)}, {"role": "assistant", "content": "…"}]
        try:
            if limiter is not None:
                limiter.check(client_of(request))
            draft = ""
            shown = time.monotonic()  # when the window was last updated: a draft is shown at most every interval
            for item in assistant.stream(question, turns):
                if isinstance(item, Answer):
                    history[-1] = {"role": "assistant", "content": format_answer(item)}
                    answers[str(len(history) - 1)] = item.to_dict()
                    # The Markdown for copy and export and the suggestions come with the answer itself, not from
                    # an event chained after it (a copy clicked as the answer appeared found nothing to copy, and
                    # each event is a round of Gradio's queue)
                    markdown = answer_markdown(item), conversation_markdown(history, answers, title)
                    yield history, history, format_sources(item), answers, "", *markdown, *chips_for(item)
                else:
                    # The text so far is shown once more is coming (one piece behind), so an answer whose text and
                    # final form come together (the extractive one) is shown once, whole.
                    if draft and time.monotonic() - shown >= draft_interval:
                        shown = time.monotonic()
                        history[-1] = {"role": "assistant", "content": inert(draft)}
                        yield history, history, gr.skip(), answers, "", *KEEP
                    draft += item
        except (QuestionError, ApiError) as e:
            reason = e.message if isinstance(e, ApiError) else str(e)
            history[-1] = {"role": "assistant", "content": f"<span class='refusal'>{html.escape(reason)}</span>"}
            yield history, history, gr.skip(), answers, question, *KEEP
        except Exception as e:  # noqa: BLE001 - show a message, keep the details in the log
            if unavailable and isinstance(e, unavailable):
                history[-1] = {
                    "role": "assistant",
                    "content": "<span class='refusal'>The article index is unavailable; try again shortly.</span>",
                }
                yield history, history, gr.skip(), answers, question, *KEEP
                return
            log.exception("answering failed")
            history[-1] = {"role": "assistant", "content": "Something went wrong while answering; please try again."}
            yield history, history, gr.skip(), answers, question, *KEEP

    def on_like(answers: dict, data: gr.LikeData, request: gr.Request) -> None:
        index = data.index[0] if isinstance(data.index, (list, tuple)) else data.index
        answer = (answers or {}).get(str(index)) if isinstance(index, (int, str)) else None
        liked = FEEDBACK_VERDICTS.get(data.liked) if isinstance(data.liked, (bool, str)) else None  # type: ignore[arg-type]
        if answer is None or liked is None:
            log.debug("feedback ignored: not an answer of this conversation, or not like/dislike")
            return
        try:
            feedback_limiter.check(client_of(request))
        except ApiError:
            log.debug("feedback ignored: rate limit")
            return
        feedback.write(
            {
                "liked": liked,
                "question": answer["question"],
                "answer": answer["answer"],
                "refused": answer["refused"],
                "mode": answer["mode"],
                "citations": [
                    {"n": c["n"], "source": c["source"], "chunk_id": c["chunk_id"]} for c in answer["citations"]
                ],
            }
        )

    def pick_example(data: gr.SelectData) -> str:
        return data.value["text"] if isinstance(data.value, dict) else str(data.value)

    def show_sources_of(answers: dict, data: gr.SelectData) -> str:
        answer = (answers or {}).get(str(data.index[0] if isinstance(data.index, (list, tuple)) else data.index))
        return format_sources(Answer.from_dict(answer)) if answer else gr.skip()

    def chip_question(text: str) -> str:
        return text

    with gr.Blocks(title=title) as demo:
        answers = gr.State({})
        conversation = gr.State([])  # the messages shown, kept on the server (clients never send a history)
        gr.HTML(
            f"<header class='top'><span class='top-title'>{html.escape(title)}</span>"
            "<span class='top-tag'>Answers come only from the indexed articles; every sentence cites its passage.</span>"
            "<a class='top-link' href='/library'>Library</a></header>",
            elem_id="top",
        )
        with gr.Row(equal_height=False, elem_id="main"):
            with gr.Column(scale=3, elem_id="chat-col"):
                chatbot = gr.Chatbot(
                    show_label=False,
                    elem_id="chat",
                    height=560,
                    buttons=[],
                    feedback_options=["Like", "Dislike"],
                    examples=[{"text": q} for q in examples],
                    placeholder=welcome(None),
                    sanitize_html=True,
                    layout="bubble",
                )
                with gr.Row(visible=False, elem_id="suggestions") as chip_row:
                    chips = [
                        gr.Button("", visible=False, size="sm", elem_classes=["chip"], scale=0)
                        for _ in range(MAX_CHIPS)
                    ]
                box = gr.Textbox(
                    placeholder="Ask about the articles…",
                    show_label=False,
                    max_length=max_chars,
                    submit_btn=True,
                    autofocus=True,
                    elem_id="question",
                )
                with gr.Row(elem_id="toolbar"):
                    new_chat = gr.Button("New chat", size="sm", elem_id="new-chat", scale=0)
                    copy_answer = gr.Button("Copy answer with sources", size="sm", elem_id="copy-answer", scale=0)
                    export = gr.Button("Export as Markdown", size="sm", elem_id="export", scale=0)
                gr.HTML(
                    "<p class='disclaimer'>Answers quote the indexed articles and may be incomplete. "
                    "Not investment advice.</p>",
                    elem_id="disclaimer",
                )
                last_markdown = gr.Textbox(visible="hidden", elem_id="answer-md")
                all_markdown = gr.Textbox(visible="hidden", elem_id="conversation-md")
            with gr.Column(scale=2, elem_id="sources-col"):
                sources = gr.HTML(EMPTY_SOURCES, elem_id="sources")

        outputs = [chatbot, conversation, sources, answers, box, last_markdown, all_markdown, chip_row, *chips]
        turn = [box, conversation, answers], outputs
        # Every way of asking shares one pool of `answer_slots`; the cheap steps around an answer are not queued.
        slots = {"concurrency_id": "answer", "concurrency_limit": max(1, answer_slots)}
        quick = {"api_name": False, "concurrency_limit": None}
        box.submit(respond, *turn, api_name="chat", **slots)
        chatbot.example_select(pick_example, None, box, **quick).then(respond, *turn, api_name=False, **slots)
        for chip in chips:
            chip.click(chip_question, chip, box, **quick).then(respond, *turn, api_name=False, **slots)
        chatbot.like(on_like, [answers], None, api_name=False)
        chatbot.select(show_sources_of, [answers], sources, api_name=False)
        new_chat.click(lambda: ([], [], EMPTY_SOURCES, {}, "", "", "", *chips_for(None)), None, outputs, api_name=False)
        copy_answer.click(None, last_markdown, None, js="(text) => window.researchChat.copy(text, 'copy-answer')")
        export.click(None, all_markdown, None, js="(text) => window.researchChat.download(text)")
        demo.load(lambda: gr.update(placeholder=welcome(assistant_articles(assistant))), None, chatbot, api_name=False)
    return demo


def assistant_articles(assistant: Assistant) -> list | None:
    """The indexed articles for the empty screen (None, not known, when the index cannot be read now)."""
    try:
        return assistant.library()
    except Exception:  # noqa: BLE001 - the window opens without the list; questions report the outage
        log.warning("could not list the indexed articles for the empty screen", exc_info=True)
        return None


def mount_window(app: Any, window: gr.Blocks) -> Any:
    """The chat window at `/` of the web app, in its look (theme, CSS, the [n] script); no Gradio footer, error
    details, server-side rendering, MCP or PWA."""
    theme = gr.themes.Soft(primary_hue="blue", neutral_hue="slate")
    return gr.mount_gradio_app(
        app,
        window,
        path="/",
        css=CSS,
        head=HEAD,
        theme=theme,
        footer_links=[],
        show_error=False,
        ssr_mode=False,
        mcp_server=False,
        pwa=False,
    )
