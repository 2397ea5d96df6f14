"""The main content region (prose clusters chained and merged), and the title, author and date around it."""

from __future__ import annotations

import logging

from ingest.clean.lines import _clean_name, _find_date, _Unit
from ingest.clean.tables import (
    _AUTHOR_LABEL_RE,
    _BYLINE_RE,
    _GENERIC_SECTION_RE,
    _INLINE_BY_RE,
    _MAX_GAP,
    _MERGE_BIG_WORDS,
    _MERGE_GAP_ANY,
    _MERGE_GAP_BIG,
    _NOT_AUTHOR_RE,
    _PUBLISHED_RE,
    _READING_RE,
    _RELTIME_RE,
    _UPDATED_RE,
)

log = logging.getLogger(__name__)


# --------------------------------------------------------------------------
# Main content region
# --------------------------------------------------------------------------


class _Cluster:
    __slots__ = ("start", "end", "words")

    def __init__(self, start: int) -> None:
        self.start = start
        self.end = start
        self.words = 0


def _clusters(units: list[_Unit]) -> list[_Cluster]:
    out: list[_Cluster] = []
    cur: _Cluster | None = None
    gap = 0.0
    for i, u in enumerate(units):
        if u.kind == "P":
            if cur is None or gap > _MAX_GAP:
                cur = _Cluster(i)
                out.append(cur)
            cur.end = i
            cur.words += u.nwords + u.cjk // 2
            gap = 0.0
        elif u.kind == "X":
            cur = None
            gap = 0.0
        elif cur is not None:
            gap += u.weight
            if gap > _MAX_GAP:
                cur = None
    return out


def _between(units: list[_Unit], a: int, b: int, stop_at_meta: bool) -> float | None:
    """Weighted gap between two clusters, or None when they must not be merged."""
    gap = 0.0
    for i in range(a, b):
        u = units[i]
        if u.kind == "X":
            return None
        if stop_at_meta and u.kind == "M":
            return None
        gap += u.weight
        if gap > _MERGE_GAP_BIG:
            return gap  # already too far apart; no need to walk a huge gap
    return gap


def _select_region(units: list[_Unit]) -> tuple[int, int] | None:
    clusters = _clusters(units)
    if not clusters:
        return None
    first_comments = next((i for i, u in enumerate(units) if u.barrier == "comments"), None)
    before_comments = sum(k.words for k in clusters if k.end < first_comments) if first_comments is not None else 0

    def score(c: _Cluster) -> float:
        # Comments are prose too; they only win when there is no article above them.
        if first_comments is not None and c.start > first_comments and before_comments >= 40:
            return c.words * 0.3
        return float(c.words)

    mi = max(range(len(clusters)), key=lambda k: (score(clusters[k]), -k))
    start, end = clusters[mi].start, clusters[mi].end
    for c in clusters[mi + 1 :]:
        # a by-line or dateline after the body ("Written by …") starts the author box
        gap = _between(units, end + 1, c.start, stop_at_meta=True)
        if gap is None or not (gap <= _MERGE_GAP_ANY or (gap <= _MERGE_GAP_BIG and c.words >= _MERGE_BIG_WORDS)):
            break
        end = c.end
    for c in reversed(clusters[:mi]):
        gap = _between(units, c.end + 1, start, stop_at_meta=True)
        if gap is None or not (gap <= _MERGE_GAP_ANY or (gap <= _MERGE_GAP_BIG and c.words >= _MERGE_BIG_WORDS)):
            break
        start = c.start
    return start, end


def _extend_with_short_sentences(units: list[_Unit], start: int, end: int) -> tuple[int, int]:
    """Short sentence paragraphs ("It did not last.") touching the region belong to it."""

    def ok(u: _Unit) -> bool:
        return u.kind == "S" and u.terminal and u.nwords >= 2 and not u.bullet and not u.is_title

    steps = 0
    while start > 0 and steps < 3 and ok(units[start - 1]):
        start -= 1
        steps += 1
    steps = 0
    while end + 1 < len(units) and steps < 3 and ok(units[end + 1]):
        end += 1
        steps += 1
    return start, end


def _leading_headings(units: list[_Unit], start: int) -> int:
    """Pull a section heading (with its short bullets) just above the region into it."""
    i = start - 1
    candidates: list[int] = []
    while i >= 0 and len(candidates) < 12:
        u = units[i]
        if u.kind not in ("H", "B") or u.is_title:
            break
        candidates.append(i)
        i -= 1
    headings = 0
    new_start = start
    for idx in candidates:  # nearest first
        if units[idx].kind == "H":
            headings += 1
            if headings > 2:
                break
            new_start = idx
    return new_start


# --------------------------------------------------------------------------
# Metadata
# --------------------------------------------------------------------------


def _title_candidates(units: list[_Unit], start: int) -> str | None:
    for u in units:
        m = _READING_RE.match(u.text)
        if m and u.nwords <= 30:
            cand = m.group(1).strip()
            if len(cand.split()) >= 2:
                return cand
    for u in units[:start]:
        if u.md_level == 1 and 2 <= u.nwords <= 30:
            return u.text
    best: tuple[float, int] | None = None
    seen = 0
    i = start - 1
    while i >= 0 and seen < 25:
        u = units[i]
        seen += 1
        if (
            u.kind in ("H", "S", "P")
            and not u.bullet
            and not u.numbered
            and u.md_level != 2
            and u.cells is None
            and 2 <= u.nwords <= 30
            and len(u.text) >= 12
            and not u.text.endswith((".", ",", ";", ":"))
            and not _GENERIC_SECTION_RE.fullmatch(u.norm)
        ):
            sc = 2.0 if u.nwords >= 4 else 0.0
            sc += 0.5 if u.title_ratio >= 0.6 else 0.0
            sc += 0.5 if u.kind == "H" else 0.0
            # The headline sits right above the by-line / dateline.
            if any(v.kind == "M" for v in units[i + 1 : i + 4]):
                sc += 2.5
            if best is None or sc >= best[0]:  # ties go to the earlier line: title before dek
                best = (sc, i)
        i -= 1
    return units[best[1]].text if best else None


def _extract_author(units: list[_Unit], limit: int, region_start: int) -> str | None:
    for u in units[:limit]:
        if u.nwords > 15:
            continue
        m = _BYLINE_RE.match(u.text) or _AUTHOR_LABEL_RE.match(u.text)
        if m and not _NOT_AUTHOR_RE.match(u.text):
            name = _clean_name(m.group(1))
            if name:
                return name
    for u in units[:limit]:
        # "Posted on January 9, 2026 by Daniel Whitcombe"
        if u.kind == "M" and u.date_iso:
            m = _INLINE_BY_RE.search(u.text)
            name = _clean_name(m.group(1)) if m else None
            if name:
                return name
    for i, u in enumerate(units[:limit]):
        if u.norm in ("author avatar", "avatar", "author image", "author photo") and i + 1 < len(units):
            name = _clean_name(units[i + 1].text)
            if name:
                return name
    # An unlabelled name printed right next to the dateline above the article.
    for i in range(max(0, region_start - 12), min(region_start, limit)):
        u = units[i]
        if u.kind not in ("H", "S") or u.is_title or not 2 <= u.nwords <= 4 or u.nstop:
            continue
        near = units[max(0, i - 1) : i + 2]
        if any(v.kind == "M" and (v.date_iso or _RELTIME_RE.match(v.norm)) for v in near):
            name = _clean_name(u.text)
            if name:
                return name
    return None


def _extract_published(units: list[_Unit], region_start: int, limit: int) -> str | None:
    dated = [(i, u) for i, u in enumerate(units[:limit]) if u.kind == "M" and u.date_iso]
    for _, u in dated:
        m = _PUBLISHED_RE.search(u.norm)
        if m:
            # "Updated Feb 3, 2026 · Published Jan 30, 2026": the date after the label wins
            return _find_date(u.norm[m.end() :]) or u.date_iso
    fresh = [(i, u) for i, u in dated if not _UPDATED_RE.search(u.norm)]
    for i, u in fresh:
        if i < region_start:
            return u.date_iso
    if fresh:
        return fresh[0][1].date_iso
    return dated[0][1].date_iso if dated else None
