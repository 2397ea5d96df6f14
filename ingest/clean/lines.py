"""A capture's lines as units (bullets, headings, table cells), hard-wrapped text unwrapped, broken sentences
rejoined; dates and person names read from a line."""

from __future__ import annotations

import logging
import re
import unicodedata
from datetime import date

from ingest.clean.tables import (
    _BULLET_RE,
    _BYLINE_LOOSE_RE,
    _CJK_RE,
    _CTRL_RE,
    _DATE_CJK_RE,
    _DATE_DMY_RE,
    _DATE_DOT_RE,
    _DATE_ISO_RE,
    _DATE_MDY_RE,
    _DATE_SLASH_RE,
    _EMPHASIS_RE,
    _JOIN_FUNCTION_WORDS,
    _MAX_MARKUP_LINE,
    _MD_HEADING_RE,
    _MD_IMAGE_RE,
    _MD_LINK_RE,
    _MONTHS,
    _NAME_CONNECTORS,
    _NAV_SEP_RE,
    _NUMBERED_RE,
    _QUOTES_OPEN,
    _SPACE_RE,
    _STOPWORDS,
    _TABLE_SPLIT_RE,
    _TERMINAL_RE,
    _URLISH_RE,
    _WORD_RE,
)

log = logging.getLogger(__name__)


# --------------------------------------------------------------------------
# Units
# --------------------------------------------------------------------------


class _Unit:
    """One logical line of the capture plus the features used to classify it."""

    # fmt: off
    __slots__ = (
        "text", "bullet", "numbered", "md_level", "cells", "nsrc", "blank_before",
        "words", "nwords", "nstop", "title_ratio", "terminal", "norm", "kind",
        "barrier", "weight", "cjk", "date_iso", "is_title", "letters", "base",
    )
    # fmt: on

    def __init__(self, text: str, cells: list[str] | None, blank_before: int) -> None:
        self.bullet = False
        self.numbered = ""
        self.md_level = 0
        self.cells = cells
        self.nsrc = 1
        self.blank_before = blank_before
        self.kind = "S"
        self.barrier = ""
        self.weight = 1.0
        self.date_iso: str | None = None
        self.is_title = False
        self._set_text(text)

    def _set_text(self, text: str) -> None:
        md = _MD_HEADING_RE.match(text) if len(text) <= _MAX_MARKUP_LINE else None
        if md and md.group(2):
            self.md_level = len(md.group(1))
            text = md.group(2)
        else:
            num = _NUMBERED_RE.match(text)
            if num:
                # "12. Januar 2026" is a German date, not item 12 of a list
                nxt = text[num.end() :].split(" ", 1)[0].rstrip(".,").lower()
                if _strip_accents(nxt) in _MONTHS:
                    num = None
            bul = None if num is None and text[:1].isdigit() else _BULLET_RE.match(text)
            if num:
                self.numbered = num.group(1)
                text = text[num.end() :]
            elif bul:
                self.bullet = True
                text = text[bul.end() :]
        emph = _EMPHASIS_RE.match(text) if len(text) <= _MAX_MARKUP_LINE else None
        if emph:
            text = emph.group(2).strip()
        self.text = text

    def append(self, other: _Unit) -> None:
        sep = "" if other.text[:1] in ",;:).]}…" else " "
        self.text = f"{self.text}{sep}{other.text}"
        self.nsrc += other.nsrc

    def compute_features(self) -> None:
        t = self.text
        self.words = _WORD_RE.findall(t)
        self.nwords = len(self.words)
        self.nstop = sum(1 for w in self.words if w.lower() in _STOPWORDS)
        content = [w for w in self.words[1:] if w.lower() not in _STOPWORDS]
        self.title_ratio = (sum(1 for w in content if w[0].isupper()) / len(content)) if content else 0.0
        self.terminal = bool(_TERMINAL_RE.search(t))
        self.letters = sum(map(str.isalpha, t[:400]))
        self.cjk = len(_CJK_RE.findall(t)) if self.nwords < 40 else 0
        self.norm = _normalise_key(t) if len(t) < 4000 else t[:4000].lower()


def _strip_accents(s: str) -> str:
    if s.isascii():
        return s
    return "".join(c for c in unicodedata.normalize("NFKD", s) if not unicodedata.combining(c))


_EDGE_PUNCT_RE = re.compile(r"^[\W_]+|[\W_]+$")


def _normalise_key(s: str) -> str:
    s = _strip_accents(s.lower())
    # keep a leading © so the footer pattern still sees it
    lead = "©" if s.startswith("©") else ""
    s = _EDGE_PUNCT_RE.sub("", s)
    return lead + " ".join(s.split())


# --------------------------------------------------------------------------
# Parsing and line repair
# --------------------------------------------------------------------------


def _normalise_text(raw: object) -> str:
    if raw is None:
        return ""
    if isinstance(raw, (bytes, bytearray)):
        raw = bytes(raw).decode("utf-8", errors="replace")
    elif not isinstance(raw, str):
        raw = str(raw)
    s = raw.replace("\r\n", "\n").replace("\r", "\n").replace("\u2028", "\n").replace("\u2029", "\n")
    s = _CTRL_RE.sub("", s)
    if "](" in s:
        # markdown-style captures: keep link text, drop targets and images
        s = _MD_IMAGE_RE.sub("", s)
        s = _MD_LINK_RE.sub(r"\1", s)
    return _SPACE_RE.sub(" ", s)


def _table_cells(line: str) -> list[str] | None:
    stripped = line.strip()
    if stripped.count("|") >= 2 or (
        stripped.count("|") == 1 and not _NAV_SEP_RE.search(stripped) and stripped.startswith("|")
    ):
        cells = [c.strip() for c in stripped.strip("|").split("|")]
        return cells if len(cells) >= 2 else None
    if "\t" in stripped or "   " in stripped:
        cells = [c.strip() for c in _TABLE_SPLIT_RE.split(stripped) if c.strip()]
        return cells if len(cells) >= 2 else None
    return None


def _parse(text: str) -> tuple[list[_Unit], int]:
    units: list[_Unit] = []
    blanks = 0
    nonblank = 0
    for line in text.split("\n"):
        stripped = line.strip()
        if not stripped:
            blanks += 1
            continue
        nonblank += 1
        cells = _table_cells(stripped)
        collapsed = " ".join(stripped.split())
        units.append(_Unit(collapsed, cells, min(blanks, 9)))
        blanks = 0
    return units, nonblank


def _ends_sentence(text: str) -> bool:
    return bool(_TERMINAL_RE.search(text))


def _unwrap_hard_wrapped(units: list[_Unit]) -> list[_Unit]:
    """Join lines of a text dump that was hard-wrapped at a fixed width."""
    lengths = sorted(len(u.text) for u in units if len(u.text) >= 30)
    if len(lengths) < 8:
        return units
    width = lengths[int(len(lengths) * 0.9)]
    if width > 110:
        return units
    full = [i for i, u in enumerate(units) if len(u.text) >= 0.75 * width]
    if len(full) < 0.5 * len(lengths):
        return units
    # Headline lists are also full-width and unpunctuated; real wrapping is betrayed by
    # continuation lines that start lowercase.
    cont = sum(
        1 for i in full if i + 1 < len(units) and units[i + 1].blank_before == 0 and units[i + 1].text[:1].islower()
    )
    if cont < 0.25 * len(full):
        return units
    out: list[_Unit] = []
    last_len = 0  # length of the last physical line, not of the joined paragraph
    for u in units:
        prev = out[-1] if out else None
        physical = len(u.text)
        if (
            prev is not None
            and u.blank_before == 0
            and 0.6 * width <= last_len <= width + 10
            and not prev.md_level
            and prev.cells is None
            and u.cells is None
            and not u.bullet
            and not u.numbered
            and not u.md_level
        ):
            prev.append(u)
        else:
            out.append(u)
        last_len = physical
    return out


def _continues(prev: _Unit, nxt: _Unit) -> bool:
    """Whether ``nxt`` is the rest of a sentence that ``prev`` left unfinished."""
    if prev.md_level or nxt.md_level or nxt.bullet or nxt.numbered:
        return False
    if prev.cells is not None or nxt.cells is not None or nxt.blank_before > 2:
        return False
    pt, nt = prev.text, nxt.text
    if not pt or not nt or _ends_sentence(pt):
        return False
    if len(nt) > 1 and " " not in nt and not _ends_sentence(nt):
        return False  # a lone token such as an image URL is not a continuation
    if _URLISH_RE.search(nt[:200]):
        return False
    prev_words = pt.split()
    if len(prev_words) < 2 and not pt.endswith(","):
        return False
    c = nt[0]
    if c not in ",;:)]}…":
        # A headline followed by a dateline ("… S&P 500" / "lunes, 12 de enero de 2026")
        # is two lines of metadata, not a broken sentence.
        if len(nt) < 200 and _find_date(_strip_accents(nt.lower())):
            return False
        by = _BYLINE_LOOSE_RE.match(nt)
        if by and len(nt) < 80 and _clean_name(by.group(1)):
            return False  # "… headline" + "by Jane Doe"
        content = [w for w in prev_words[1:] if w.lower() not in _STOPWORDS and w[:1].isalpha()]
        if len(content) >= 4 and sum(1 for w in content if w[:1].isupper()) >= 0.75 * len(content):
            return False
    if c.islower() or c in ",;:)]}…":
        return True
    if c == "(":
        return True
    if c in _QUOTES_OPEN and len(nt) > 1 and nt[1].islower():
        return True
    # "… like the" + "Russell 2000 index rose": a widget removed from mid-sentence.
    last = prev_words[-1].lower()
    if last in _JOIN_FUNCTION_WORDS and len(prev_words) >= 4 and len(nt.split()) >= 3:
        prev_caps = sum(1 for w in prev_words[1:] if w[:1].isupper())
        if prev_caps <= len(prev_words) // 3:
            return True
    return False


def _rejoin(units: list[_Unit]) -> list[_Unit]:
    out: list[_Unit] = []
    for u in units:
        if out and _continues(out[-1], u):
            out[-1].append(u)
            continue
        out.append(u)
    return out


# --------------------------------------------------------------------------
# Dates and names
# --------------------------------------------------------------------------


def _mk_date(y: int, m: int, d: int) -> str | None:
    if not (1900 <= y <= 2100):
        return None
    try:
        return date(y, m, d).isoformat()
    except ValueError:
        return None


def _find_date(norm: str) -> str | None:
    """First full (day, month, year) date in an accent-stripped lowercase string."""
    best: tuple[int, str] | None = None

    def consider(pos: int, iso: str | None) -> None:
        nonlocal best
        if iso and (best is None or pos < best[0]):
            best = (pos, iso)

    for m in _DATE_ISO_RE.finditer(norm):
        consider(m.start(), _mk_date(int(m.group(1)), int(m.group(2)), int(m.group(3))))
    for m in _DATE_DMY_RE.finditer(norm):
        mon = _MONTHS.get(m.group(2))
        if mon:
            consider(m.start(), _mk_date(int(m.group(3)), mon, int(m.group(1))))
    for m in _DATE_MDY_RE.finditer(norm):
        mon = _MONTHS.get(m.group(1))
        if mon:
            consider(m.start(), _mk_date(int(m.group(3)), mon, int(m.group(2))))
    for m in _DATE_CJK_RE.finditer(norm):
        consider(m.start(), _mk_date(int(m.group(1)), int(m.group(2)), int(m.group(3))))
    for m in _DATE_DOT_RE.finditer(norm):
        consider(m.start(), _mk_date(int(m.group(3)), int(m.group(2)), int(m.group(1))))
    for m in _DATE_SLASH_RE.finditer(norm):
        a, b = int(m.group(1)), int(m.group(2))
        if a > 12:
            consider(m.start(), _mk_date(int(m.group(3)), b, a))
        elif b > 12:
            consider(m.start(), _mk_date(int(m.group(3)), a, b))
    return best[1] if best else None


def _clean_name(s: str) -> str | None:
    s = re.split(r"\s*(?:[|,•·]|\s-\s|\s—\s|\s–\s)\s*", s.strip(), maxsplit=1)[0].strip(" .:;")
    words = s.split()
    if not 1 <= len(words) <= 6 or len(s) > 60:
        return None
    if any(ch.isdigit() for ch in s) or ":" in s or "?" in s or "!" in s:
        return None
    if not words[0][:1].isupper():
        return None
    for w in words:
        if not (w[:1].isupper() or w.lower() in _NAME_CONNECTORS):
            return None
    if all(w.lower() in _STOPWORDS for w in words):
        return None
    return s
