"""The articles behind the answers: the article viewer, the library page and the list as JSON.

    GET /articles/<source>?chunk=<chunk_id>&hl=<start>-<end>#cited   the article as indexed, scrolled to a passage
    GET /library?q=<words>&page=<n>                                    what is indexed, searchable (no script needed)
    GET /api/articles?q=<words>&limit=<n>&offset=<n>                   the same list as JSON (ArticleInfo)

Every citation links to the viewer (`Citation.article_link`). The pages are rendered on the server from Jinja2
templates with autoescaping (every text from an article is text, never markup) and served under a strict CSP: their
stylesheet and the library's script come from this server, nothing inline. The viewer needs no script at all: the
cited passage and sentence are marked on the server and `#cited` is an ordinary fragment. When the article changed
since the answer was given (the passage id is gone) the page says so instead of marking the wrong text.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated
from urllib.parse import urlencode

import jinja2
from fastapi import APIRouter, Depends, Query
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, Field

from chat.schema import ArticleInfo, ArticleText, article_path
from chat.web.context import WebContext, context

STATIC = Path(__file__).with_name("static")
PAGE_SIZE = 50  # articles per library page
CSP = (
    "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'self'"
)
HEADERS = {"Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}
router = APIRouter()
Context = Annotated[WebContext, Depends(context)]


@functools.cache
def environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("chat.web", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


@dataclass
class Segment:
    text: str
    classes: str = ""  # "passage", "hl" or both
    anchor: bool = False  # the page's #cited


@dataclass
class TextBlock:
    kind: str  # "heading" | "para"
    segments: list[Segment] = field(default_factory=list)


_PARAGRAPH = re.compile(r"\S(?:.|\n(?![ \t]*\n))*")  # up to the next blank line
_HEADING = re.compile(r"#{1,6}[ \t]+")


def blocks(text: str, marks: list[tuple[int, int, str]]) -> list[TextBlock]:
    """`text` as headings and paragraphs, each cut where a mark `(start, end, class)` begins or ends; the first
    piece inside the first mark carries the page's anchor."""
    out: list[TextBlock] = []
    anchored = False
    for m in _PARAGRAPH.finditer(text):
        start, end = m.span()
        pieces: list[tuple[str, int, int]] = []  # a heading line is a block of its own wherever it sits
        para = None
        for line in re.finditer(r"[^\n]+", text[start:end]):
            a, b = start + line.start(), start + line.end()
            heading = _HEADING.match(text, a)
            if heading:
                if para:
                    pieces.append(("para", *para))
                    para = None
                pieces.append(("heading", heading.end(), b))
            else:
                para = (para[0], b) if para else (a, b)
        if para:
            pieces.append(("para", *para))
        for kind, a, b in pieces:
            cuts = sorted({a, b, *(x for s, e, _ in marks for x in (s, e) if a < x < b)})
            block = TextBlock(kind)
            for lo, hi in zip(cuts, cuts[1:]):
                classes = " ".join(c for s, e, c in marks if s <= lo and hi <= e)
                anchor = bool(classes) and not anchored
                anchored = anchored or anchor
                block.segments.append(Segment(text[lo:hi], classes, anchor))
            out.append(block)
    return out


def _span(value: str | None, limit: int) -> tuple[int, int] | None:
    found = re.fullmatch(r"(\d{1,9})-(\d{1,9})", value or "")
    if not found:
        return None
    a, b = int(found.group(1)), int(found.group(2))
    return (a, b) if 0 <= a < b <= limit else None


def viewer_marks(article: ArticleText, chunk: str | None, hl: str | None) -> tuple[list[tuple[int, int, str]], str]:
    """The marks for the cited passage and sentence, and a note when the passage is no longer in the article."""
    if not chunk:
        return [], ""
    passage = next((p for p in article.passages if p.chunk_id == chunk), None)
    if passage is None:
        return [], (
            "The cited passage is no longer in this article as indexed (it was edited or re-ingested since the "
            "answer was given); the article is shown as it is now."
        )
    marks = [(passage.start_char, passage.end_char, "passage")]
    sentence = _span(hl, len(article.text))
    if sentence and passage.start_char <= sentence[0] and sentence[1] <= passage.end_char:
        marks.append((*sentence, "hl"))
    return marks, ""


def safe_url(url: str) -> str:
    """An article's original address, only when it is a web address (no javascript: or data: links)."""
    return url if re.match(r"(?i)https?://[^\s\"'<>]+$", url or "") else ""


def page(template: str, status: int = 200, **values: object) -> HTMLResponse:
    html = environment().get_template(template).render(article_href=article_path, **values)
    return HTMLResponse(html, status_code=status, headers=HEADERS)


def matching(articles: list[ArticleInfo], q: str) -> list[ArticleInfo]:
    """The articles whose title, publisher, author, date or file name hold every word of `q` (any case)."""
    words = q.lower().split()
    if not words:
        return articles
    return [
        a
        for a in articles
        if all(w in f"{a.title} {a.publisher} {a.author} {a.published} {a.source}".lower() for w in words)
    ]


def newest_first(articles: list[ArticleInfo]) -> list[ArticleInfo]:
    """By publication date, newest first; an article without one by the day it was ingested."""
    return sorted(articles, key=lambda a: (a.published or a.ingested[:10], a.title), reverse=True)


class ArticleList(BaseModel):
    total: int = Field(description="How many indexed articles match the search.")
    articles: list[ArticleInfo] = Field(description="One page of them, newest first.")


@router.get("/api/articles", response_model=ArticleList)
def list_articles(
    web: Context,
    q: Annotated[str, Query(max_length=200, description="Words every listed article holds.")] = "",
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> ArticleList:
    found = newest_first(matching(web.assistant.library(), q))
    return ArticleList(total=len(found), articles=found[offset : offset + limit])


@router.get("/articles/{source:path}", response_class=HTMLResponse)
def view_article(
    source: str,
    web: Context,
    chunk: Annotated[str | None, Query(max_length=100)] = None,
    hl: Annotated[str | None, Query(max_length=30)] = None,
) -> HTMLResponse:
    article = web.assistant.article(source) if len(source) <= 500 else None
    if article is None:
        return page("missing.html.j2", 404, source=source)
    marks, note = viewer_marks(article, chunk, hl)
    return page(
        "article.html.j2",
        article=article,
        url=safe_url(article.url),
        blocks=blocks(article.text, marks),
        note=note,
    )


@router.get("/library", response_class=HTMLResponse)
def library_page(
    web: Context,
    q: Annotated[str, Query(max_length=200)] = "",
    page_no: Annotated[int, Query(alias="page", ge=1, le=100_000)] = 1,
) -> HTMLResponse:
    everything = web.assistant.library()
    found = newest_first(matching(everything, q))
    pages = max(1, -(-len(found) // PAGE_SIZE))
    page_no = min(page_no, pages)
    shown = found[(page_no - 1) * PAGE_SIZE : page_no * PAGE_SIZE]

    def link(n: int) -> str:
        return "/library?" + urlencode({k: v for k, v in (("q", q), ("page", n)) if v})

    return page(
        "library.html.j2",
        articles=shown,
        total=len(everything),
        found=len(found),
        q=q,
        page_no=page_no,
        pages=pages,
        prev=link(page_no - 1) if page_no > 1 else "",
        next=link(page_no + 1) if page_no < pages else "",
        admin=web.library_admin,
        max_upload_mb=web.max_upload_mb,
    )


@functools.cache
def _read(name: str) -> str:
    return (STATIC / name).read_text(encoding="utf-8")


def _static(name: str, media_type: str) -> Response:
    return Response(
        _read(name),
        media_type=media_type,
        headers={"X-Content-Type-Options": "nosniff", "Cache-Control": "no-cache"},
    )


@router.get("/site/pages.css", include_in_schema=False)
def pages_css() -> Response:
    return _static("pages.css", "text/css")


@router.get("/site/library.js", include_in_schema=False)
def library_js() -> Response:
    return _static("library.js", "application/javascript")
