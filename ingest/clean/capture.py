"""`clean_capture`: a capture in, the article's text and metadata out (parse, classify, find the region, render)."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from ingest.clean.classify import _apply_context, _classify
from ingest.clean.lines import _normalise_key, _normalise_text, _parse, _rejoin, _Unit, _unwrap_hard_wrapped
from ingest.clean.region import (
    _extend_with_short_sentences,
    _extract_author,
    _extract_published,
    _leading_headings,
    _select_region,
    _title_candidates,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CleanedText:
    """Result of :func:`clean_capture`."""

    text: str
    title: str | None
    author: str | None
    published: str | None
    dropped_lines: int


# --------------------------------------------------------------------------
# Rendering
# --------------------------------------------------------------------------


# A footnote number glued to the end of a sentence ("operating profit).6 Because", "earnings.7 Small"): the
# superscript lost its formatting in the capture. Only after a letter/bracket + period, never inside "$2.5 B".
_FOOTNOTE = re.compile(r"(?<=[^\W\d_][.!?]|[)\"”][.!?])\d{1,2}(?=\s+[A-Z])|(?<=[^\W\d_][.!?][)\"”])\d{1,2}(?=\s+[A-Z])")


def _render_unit(u: _Unit) -> str:
    if u.kind != "T":
        u.text = _FOOTNOTE.sub("", u.text)
    if u.kind == "T":
        if u.text.startswith("|") or u.text.count("|") >= 2:
            return u.text
        return " | ".join(u.cells or [u.text])
    if u.kind == "H" or (u.md_level and u.kind not in ("P",)):
        text = u.text.rstrip(":").rstrip()
        if u.numbered:
            text = f"{u.numbered} {text}"
        return f"## {text}"
    if u.bullet:
        return f"- {u.text}"
    if u.numbered:
        return f"{u.numbered} {u.text}"
    return u.text


def _render(kept: list[_Unit]) -> str:
    blocks: list[str] = []
    prev_kind = ""
    for u in kept:
        line = _render_unit(u)
        if u.kind == "T":
            group = "table"
        elif u.bullet and u.kind in ("P", "B"):
            group = "list"
        elif u.numbered and u.kind in ("P", "S"):
            group = "olist"
        else:
            group = ""
        if blocks and group and group == prev_kind:
            blocks[-1] += "\n" + line
        else:
            blocks.append(line)
        prev_kind = group
    return "\n\n".join(blocks)


# --------------------------------------------------------------------------
# Public entry point
# --------------------------------------------------------------------------


def clean_capture(raw: str) -> CleanedText:
    """Return the article text and metadata of a plain-text web page capture."""
    try:
        return _clean(raw)
    except Exception:  # noqa: BLE001 -- ingestion must never die on one odd capture
        log.exception("clean_capture failed; returning whitespace-normalised input")
        text = _normalise_text(raw)
        paras = [" ".join(p.split()) for p in re.split(r"\n\s*\n", text)]
        return CleanedText("\n\n".join(p for p in paras if p), None, None, None, 0)


def _clean(raw: str) -> CleanedText:
    text = _normalise_text(raw)
    units, nonblank = _parse(text)
    if not units:
        return CleanedText("", None, None, None, 0)
    units = _unwrap_hard_wrapped(units)
    units = _rejoin(units)
    for u in units:
        u.compute_features()

    # First pass without a title to find the region, then again with the title known so
    # the title line (and repeats of it) are treated as metadata rather than a heading.
    _classify(units)
    _apply_context(units, None)
    region = _select_region(units)
    start = region[0] if region else len(units)
    title = _title_candidates(units, start)
    if title:
        title_key = _normalise_key(title)
        for u in units:
            if u.norm == title_key:
                u.is_title = True
        _apply_context(units, title_key)
        region = _select_region(units)

    first_comments = next((i for i, u in enumerate(units) if u.barrier == "comments"), len(units))
    author = _extract_author(units, first_comments, region[0] if region else len(units))
    if author:
        author_key = _normalise_key(author)
        for u in units:
            if u.norm == author_key and u.kind in ("H", "S", "B", "J"):
                u.kind, u.weight = "M", 1.0

    if region is None:
        # No prose anchor at all (a one-liner, a list): keep whatever is not chrome.
        kept = [u for u in units if u.kind in ("P", "S", "H", "B", "T") and not u.is_title]
        start = len(units)
    else:
        start, end = _extend_with_short_sentences(units, *region)
        start = _leading_headings(units, start)
        kept = [u for u in units[start : end + 1] if u.kind in ("P", "S", "H", "B", "T") and not u.is_title]

    published = _extract_published(units, start, first_comments)
    body = _render(kept)
    dropped = max(0, nonblank - sum(u.nsrc for u in kept))
    return CleanedText(body, title, author, published, dropped)
