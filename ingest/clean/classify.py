"""Each line classified from its features: prose, heading-like, short text, bullet, table row, metadata, junk or
section barrier."""

from __future__ import annotations

import logging
import re

from ingest.clean.lines import _clean_name, _find_date, _Unit
from ingest.clean.tables import (
    _AD_MARKERS,
    _AUTHOR_LABEL_RE,
    _BARRIER_RES,
    _BOILER_LINE_RE,
    _BOILER_PHRASE_RE,
    _BYLINE_RE,
    _COMMENT_HEADER_RE,
    _COOKIE_RE,
    _FOOTER_RE,
    _LONG_DIGITS_RE,
    _NAV_SEP_RE,
    _NUMERIC_TOKEN_RE,
    _PRICE_RE,
    _READ_TIME_RE,
    _READING_RE,
    _RELTIME_RE,
    _SHORT_BOILER_RE,
    _SOCIAL,
    _TABLE_SEP_RE,
    _TIME_RE,
    _UPDATED_RE,
    _URLISH_RE,
)

log = logging.getLogger(__name__)


# --------------------------------------------------------------------------
# Classification
# --------------------------------------------------------------------------


def _is_ticker(u: _Unit) -> bool:
    if u.nwords > 8 or u.cells is not None:
        return False
    t = u.text
    if u.terminal and u.nwords >= 4:
        return False
    tokens = t.split()
    numeric = sum(1 for tok in tokens if _NUMERIC_TOKEN_RE.match(tok.strip(",;")))
    if numeric >= 2 and numeric >= 0.4 * len(tokens):
        return True
    if numeric >= 1 and len(tokens) <= 3 and any(ch.isdigit() for ch in t):
        return True
    return bool(_PRICE_RE.search(t)) and u.nwords <= 5


def _is_logo_dup(t: str) -> bool:
    tokens = t.split()
    n = len(tokens)
    if n >= 2 and n % 2 == 0 and tokens[: n // 2] == tokens[n // 2 :]:
        return True
    compact = t.replace(" ", "")
    half = len(compact) // 2
    return len(compact) >= 4 and len(compact) % 2 == 0 and compact[:half] == compact[half:]


def _classify(units: list[_Unit]) -> None:
    """Context-free classification of every unit (the expensive part, done once)."""
    counts: dict[str, int] = {}
    for u in units:
        if len(u.norm) < 200:
            counts[u.norm] = counts.get(u.norm, 0) + 1
    total_words = sum(u.nwords for u in units) or 1
    # Languages without our stop-words (or CJK) must not fail the prose test on that alone.
    has_stopwords = sum(u.nstop for u in units) >= 0.04 * total_words

    _mark_tables(units)
    for u in units:
        u.kind, u.barrier, u.weight = _classify_one(u, counts, has_stopwords)
        u.base = (u.kind, u.barrier, u.weight)


def _apply_context(units: list[_Unit], title_key: str | None) -> None:
    """Cheap second stage: the title line becomes metadata, headline lists become barriers."""
    for u in units:
        u.kind, u.barrier, u.weight = u.base
        if title_key and u.norm == title_key and u.kind != "X":
            u.kind, u.barrier, u.weight = "M", "", 1.0
    _demote_inline_boxes(units)
    _mark_headline_runs(units)


def _demote_inline_boxes(units: list[_Unit]) -> None:
    """A "Related" box of a few links *inside* the article must not cut the article in two.

    The box is recognised by prose right before it and prose resuming right after its
    (at most three) link lines; the box lines become droppable junk instead of a barrier.
    """
    n = len(units)
    for i, u in enumerate(units):
        if u.kind != "X" or u.barrier != "related":
            continue
        j = i - 1
        while j >= 0 and i - j <= 3 and units[j].kind == "J":
            j -= 1
        if j < 0 or units[j].kind != "P" or i - j > 3:
            continue
        k = i + 1
        links = 0
        while k < n and k - i <= 8 and links <= 3 and units[k].kind in ("H", "B", "J", "S") and not units[k].terminal:
            links += units[k].kind != "J"
            k += 1
        # Teaser cards ("headline", "summary.", "headline", "summary.") look the same at first;
        # the article resuming is betrayed by two prose paragraphs in a row.
        if k + 1 < n and units[k].kind == "P" and units[k + 1].kind == "P" and 1 <= links <= 3:
            for v in units[i:k]:
                v.kind, v.barrier, v.weight = "J", "", 0.3


def _classify_one(u: _Unit, counts: dict[str, int], has_stopwords: bool) -> tuple[str, str, float]:
    t, norm, nw = u.text, u.norm, u.nwords
    letters = u.letters

    if u.cells is not None:
        # part of a numeric table run (see _mark_tables): content, and no gap in the cluster
        return "T", "", 0.0

    if not letters and not u.cjk:
        # "2026-01-12" / "14.01.2026" on their own are datelines
        if len(t) <= 40:
            u.date_iso = _find_date(norm)
            if u.date_iso:
                return "M", "", 1.0
        return "J", "", 1.0

    if nw <= 8:
        for kind, rx in _BARRIER_RES:
            if rx.fullmatch(norm):
                return "X", kind, 1.0
    if nw <= 12 and _FOOTER_RE.search(norm):
        return "X", "footer", 1.0

    if nw <= 12 and _BOILER_LINE_RE.fullmatch(norm):
        # ad slots sit inside article bodies, so they cost less of the cluster's gap budget
        weight = 0.5 if norm in _AD_MARKERS else 1.0
        return "J", "", weight
    if nw <= 150 and _COOKIE_RE.search(norm):
        return "J", "", 1.0
    if nw <= 20 and _SHORT_BOILER_RE.search(norm):
        return "J", "", 1.0
    if nw <= 8 and _COMMENT_HEADER_RE.fullmatch(t):
        return "J", "", 1.0  # "Marta K. says:" heads a comment
    if nw <= 45 and _BOILER_PHRASE_RE.search(norm):
        weight = 0.5 if norm in _AD_MARKERS or norm.startswith(("advertisement", "story continues")) else 1.0
        return "J", "", weight

    if nw <= 15:
        if _READING_RE.match(t):
            return "J", "", 1.0
        by = _BYLINE_RE.match(t)
        if by and _clean_name(by.group(1)):
            return "M", "", 1.0
        if _AUTHOR_LABEL_RE.match(t):
            return "M", "", 1.0
        u.date_iso = _find_date(norm)
        if u.date_iso or _READ_TIME_RE.search(norm):
            return "M", "", 1.0
        if _UPDATED_RE.search(norm) and _TIME_RE.search(norm):
            return "M", "", 1.0
        if nw <= 4 and _RELTIME_RE.match(norm):
            return "M", "", 1.0

    if nw <= 12 and _is_ticker(u):
        return "J", "", 1.0

    prose = _is_prose(u, has_stopwords)
    if not prose:
        if nw <= 15 and _URLISH_RE.search(t):
            return "J", "", 1.0
        if nw <= 3 and _LONG_DIGITS_RE.search(t):
            return "J", "", 1.0
        nonspace = len(t) - t.count(" ")
        if len(t) <= 60 and letters < 0.3 * nonspace:
            return "J", "", 1.0
        if nw <= 6 and _is_logo_dup(t):
            return "J", "", 1.0
        lowered = [w.lower() for w in t.replace(",", " ").split()]
        if lowered and all(w in _SOCIAL for w in lowered):
            return "J", "", 1.0
        if nw <= 4 and not u.terminal and counts.get(norm, 0) >= 2:
            return "J", "", 1.0  # menus are printed twice (header and footer / mobile)
        if len(_NAV_SEP_RE.findall(t)) >= 2:
            parts = re.split(r"\s(?:\||›|»|>|/|•|·)\s", t)
            if all(len(p.split()) <= 3 for p in parts):
                return "J", "", 1.0  # breadcrumbs / inline menus

    if prose:
        return "P", "", 0.0
    if u.md_level:
        return "H", "", 1.0
    if u.bullet:
        return "B", "", (0.5 if nw >= 2 else 1.0)
    if _is_heading_like(u):
        return "H", "", 1.0
    return "S", "", 0.5


def _is_prose(u: _Unit, has_stopwords: bool) -> bool:
    nw = u.nwords
    t = u.text
    if u.md_level:
        return False
    if u.cjk >= 20 and u.terminal:
        return True
    stop_ok = u.nstop >= 1 or not has_stopwords
    ratio = u.nstop / nw if nw else 0.0
    if u.bullet and nw >= 6 and (u.terminal or ratio >= 0.15 or not has_stopwords):
        return True
    if nw >= 8 and u.terminal and stop_ok:
        # Title-case questions/exclamations are headings ("Why Now? Small Caps Surge!").
        if t.rstrip("\"'”’»)").endswith(("?", "!")) and u.title_ratio >= 0.75 and nw <= 20:
            return False
        return True
    if nw >= 8 and t.endswith(":") and u.nstop >= 2 and u.title_ratio < 0.6:
        return True
    if nw >= 20 and (ratio >= 0.15 or not has_stopwords) and u.title_ratio < 0.6:
        return True
    return False


def _is_heading_like(u: _Unit) -> bool:
    t = u.text
    if not 1 <= u.nwords <= 20:
        return False
    first = t[0]
    if not (first.isupper() or first.isdigit() or first in "\"“«¿¡('‘"):
        return False
    if t.endswith((",", ";")) or t.endswith("...") or t.endswith("…"):
        return False
    if t.endswith("."):
        return False
    if t.endswith(":") and u.nwords >= 5 and u.title_ratio < 0.5:
        return False  # "Three groups did most of the work:" introduces a list, it is not a title
    if t.endswith(("?", "!")) and u.title_ratio < 0.6 and u.nwords > 4:
        return False
    return True


def _mark_tables(units: list[_Unit]) -> None:
    """Keep cells only on runs of table rows with numbers; a lone pipe/tab line is plain text."""
    i = 0
    n = len(units)
    while i < n:
        if units[i].cells is None:
            i += 1
            continue
        j = i
        while j < n and units[j].cells is not None and (j == i or units[j].blank_before <= 1):
            j += 1
        run = units[i:j]
        counts = [len(u.cells or ()) for u in run if not _TABLE_SEP_RE.match(u.text)]
        has_digits = any(any(ch.isdigit() for ch in u.text) for u in run)
        if not (len(run) >= 2 and has_digits and counts and max(counts) - min(counts) <= 1):
            for u in run:
                u.cells = None
        i = j


def _mark_headline_runs(units: list[_Unit]) -> None:
    """Three or more headline-like lines in a row are a "more news" list: a barrier."""
    run: list[_Unit] = []

    def flush() -> None:
        if len(run) >= 3:
            for r in run:
                r.kind, r.barrier = "X", "headlines"
        run.clear()

    for u in units:
        if u.kind == "J" and run:
            continue  # thumbnails and image names sit between the headlines
        # Short sentence-case bullets are more likely key points than links, so only
        # title-case bullets count towards a headline list.
        if (
            (u.kind == "H" or (u.kind == "B" and u.title_ratio >= 0.6))
            and u.nwords >= 4
            and not u.md_level
            and not u.numbered
        ):
            run.append(u)
        else:
            flush()
    flush()
