"""Figures in text: every number read with its unit, scale, currency and precision, so that the same fact written
two ways is one fact ("$75bn" == "$75 billion", "31 percent" == "31%", "15.6x" == "15.6 times", "Jan. 23" ==
"January 23") and a rounded figure matches the precise one it rounds ("$75 billion" vs "$74.8 billion").

    from chat.figures import extract_numbers, numbers_supported
    extract_numbers("The ETF holds $75bn, 31 percent more [2].")             # ['$75 billion', '31%']
    numbers_supported("It trades at 16x.", ["… at 15.6 times earnings …"])   # (True, [])

Verification (chat.verify) requires every figure of an answer sentence to be in a passage it cites; chat.claims,
chat.extractive and chat.selection ask whether a sentence states a figure. Citation markers ("[2]"), list
prefixes ("1. ") and the numbers of index names ("Russell 2000") are not facts.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from chat.markers import MARKER_RE

__all__ = [
    "Number",
    "absent_numbers",
    "extract_numbers",
    "number_match",
    "numbers_supported",
    "parse_numbers",
    "unique_numbers",
]

# fmt: off
_MONTHS = {
    "jan": "january", "feb": "february", "mar": "march", "apr": "april", "may": "may", "jun": "june",
    "jul": "july", "aug": "august", "sep": "september", "oct": "october", "nov": "november", "dec": "december",
}
# fmt: on
# Capitalised only: lowercase "may" / "march" are far more often verbs.
_MONTH_PAT = (
    r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?"
    r"|Sep(?:t(?:ember)?|tember)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)"
)
_NOT_A_DAY = r"(?![\d%]|\.\d|\s*(?:percent|per cent|billion|million|trillion|bn|mn|basis|times|x\b))"
_DATE_MD_RE = re.compile(rf"\b(?P<month>{_MONTH_PAT})\b\.?\s+(?P<day>\d{{1,2}})(?:st|nd|rd|th)?\b{_NOT_A_DAY}")
_DATE_DM_RE = re.compile(rf"(?<![\w.,$])(?P<day>\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?(?P<month>{_MONTH_PAT})\b")
_TOKEN_RE = re.compile(r"(?<![\w.:/])(?:\d{1,2}:\d{2}|\d{1,4}(?:/\d{1,4})+)(?![\w:/])")
_LIST_PREFIX_RE = re.compile(r"(?m)^[ \t]*(?:[-*+•▪‣◦·]\s+)?(\d{1,3}[.)])(?=\s)")
# Index names are labels, not facts: "Russell 2000" in an answer must not be
# required to appear in a passage that only says "small caps".
_INDEX_NAME_RE = re.compile(
    r"\b(?:S&P(?:[\s-]*(?:Small|Mid)[\s-]?Cap)?|Russell|Nasdaq|FTSE|(?:Euro[\s-]?)?Stoxx|Nikkei|CAC|DAX|Wilshire"
    r"|(?:Small|Mid)[\s-]?Cap)[\s-]*(?P<n>500|400|600|100|1500|1000|2000|3000|250|350|50|225|40|30|5000)\b",
    re.I,
)
_NUM_RE = re.compile(
    r"""
    (?<![\w.])
    (?P<sign>[-−](?=[$€£¥\d]|US\$))?
    (?P<cur>(?:US|C|A|HK|S)?\$|[€£¥]|(?:USD|EUR|GBP|JPY)\s?)?
    (?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)
    (?:
        (?P<times>[x×](?![A-Za-z\d])|\s?×|\s+times\b|-?fold\b)
      | \s?(?P<pct>%|per\s?cent\b|pct\b|percentage[\s-]+points?\b|ppts?\b|pp\b)
      | \s?(?P<bps>basis[\s-]+points?\b|bps\b|bp\b)
      | \s?(?P<scale>trillion|billion|million|thousand|trn|tn|bln|bn|mln|mn|mm)\b
      | (?P<sscale>[TBMKbmk])(?![A-Za-z\d])
    )?
    (?P<curword>\s+(?:dollars|USD|euros|EUR)\b)?
    (?![A-Za-z\d])
    """,
    re.X,
)
# fmt: off
_SCALE_EXP = {
    "trillion": 12, "trn": 12, "tn": 12, "t": 12,
    "billion": 9, "bln": 9, "bn": 9, "b": 9,
    "million": 6, "mln": 6, "mn": 6, "mm": 6, "m": 6,
    "thousand": 3, "k": 3,
}
# fmt: on
_SCALE_WORD = {12: "trillion", 9: "billion", 6: "million", 3: "thousand"}


@dataclass(frozen=True)
class Number:
    """One numeric fact; matching is by magnitude so "$75bn" == "$75,000 million"."""

    kind: str  # "num" (plain, x-multiple, bps), "pct", or "token" (dates, times, fractions: exact text)
    value: Decimal | None  # unsigned magnitude in units of 10**scale
    decimals: int  # decimals as written, for rounding tolerance
    scale: int
    currency: str
    negative: bool
    bare: bool  # no unit, scale or currency: may inherit them from a range partner
    start: int
    end: int
    token: str = ""

    @property
    def text(self) -> str:
        if self.kind == "token":
            return self.token
        assert self.value is not None
        out = ("-" if self.negative else "") + self.currency + _fmt(self.value)
        if self.scale:
            out += " " + _SCALE_WORD[self.scale]
        if self.kind == "pct":
            out += "%"
        return out


def _fmt(d: Decimal) -> str:
    return format(d.normalize(), "f")


def _currency(cur: str | None, word: str | None) -> str:
    c = (cur or "").strip().upper() + " " + (word or "").strip().upper()
    if "$" in c or "USD" in c or "DOLLAR" in c:
        return "$"
    if "€" in c or "EUR" in c:
        return "€"
    if "£" in c or "GBP" in c:
        return "£"
    if "¥" in c or "JPY" in c:
        return "¥"
    return ""


def _blank(text: str, start: int, end: int) -> str:
    return text[:start] + " " * (end - start) + text[end:]


def _mask_non_facts(text: str) -> str:
    """Blank out markers, list prefixes and index-name numbers, keeping offsets."""
    for m in MARKER_RE.finditer(text):
        text = _blank(text, m.start(), m.end())
    for m in _LIST_PREFIX_RE.finditer(text):
        text = _blank(text, m.start(1), m.end(1))
    for m in _INDEX_NAME_RE.finditer(text):
        text = _blank(text, m.start("n"), m.end("n"))
    return text


def parse_numbers(text: str) -> tuple[list[Number], str]:
    """Numeric facts of ``text`` in order, and the text with all of them (and non-facts) blanked."""
    found, masked = _parse_numbers(text)
    return list(found), masked


@functools.lru_cache(maxsize=4096)  # a passage's sentences are read by the answerer, verification and the claims
def _parse_numbers(text: str) -> tuple[tuple[Number, ...], str]:
    if not text:
        return (), ""
    masked = _mask_non_facts(text)
    found: list[Number] = []

    for regex in (_DATE_MD_RE, _DATE_DM_RE):
        for m in regex.finditer(masked):
            day = int(m.group("day"))
            if not 1 <= day <= 31:
                continue
            token = f"{_MONTHS[m.group('month')[:3].lower()]} {day}"
            found.append(Number("token", None, 0, 0, "", False, False, m.start(), m.end(), token))
            masked = _blank(masked, m.start(), m.end())
    for m in _TOKEN_RE.finditer(masked):
        found.append(Number("token", None, 0, 0, "", False, False, m.start(), m.end(), m.group()))
        masked = _blank(masked, m.start(), m.end())

    for m in _NUM_RE.finditer(masked):
        raw = m.group("num").replace(",", "")
        try:
            value = Decimal(raw)
        except InvalidOperation:  # pragma: no cover - the regex only admits digits
            continue
        decimals = len(raw.split(".", 1)[1]) if "." in raw else 0
        scale_word = (m.group("scale") or m.group("sscale") or "").lower()
        currency = _currency(m.group("cur"), m.group("curword"))
        found.append(
            Number(
                kind="pct" if m.group("pct") else "num",
                value=value,
                decimals=decimals,
                scale=_SCALE_EXP.get(scale_word, 0),
                currency=currency,
                negative=bool(m.group("sign")),
                bare=not any(m.group(g) for g in ("times", "pct", "bps", "scale", "sscale")),
                start=m.start(),
                end=m.end(),
            )
        )
        masked = _blank(masked, m.start(), m.end())

    found.sort(key=lambda n: n.start)
    # "$1-2 billion", "5 to 7%": the first number of a range borrows the unit of the second.
    for i in range(len(found) - 1):
        a, b = found[i], found[i + 1]
        if (
            a.kind == "num"
            and a.bare
            and b.kind in ("num", "pct")
            and not b.bare
            and re.fullmatch(r"\s*(?:-|–|—|to)\s*", text[a.end : b.start])
        ):
            currency = a.currency or b.currency
            found[i] = replace(a, kind=b.kind, scale=b.scale, currency=currency, bare=False)
            found[i + 1] = replace(b, currency=currency)
    return tuple(found), masked


def unique_numbers(nums: list[Number]) -> list[Number]:
    seen: set[str] = set()
    out: list[Number] = []
    for n in nums:
        if n.text not in seen:
            seen.add(n.text)
            out.append(n)
    return out


def _significant_digits(d: Decimal) -> int:
    return len(d.normalize().as_tuple().digits) if d else 1


def number_match(s: Number, p: Number, allow_rounding: bool = True) -> bool:
    """Does passage number ``p`` state sentence number ``s``?

    Sign is ignored because prose says "fell 3%" where a table says "-3%".
    Currency must agree only when both sides state one.  With rounding, a
    sentence number with at least two significant digits matches a more
    precise passage number that rounds to it ("$75 billion" vs "$74.8 billion",
    "16x" vs "15.6x"), never a less precise one.
    """
    if s.kind != p.kind:
        return False
    if s.kind == "token":
        return s.token == p.token
    if s.currency and p.currency and s.currency != p.currency:
        return False
    assert s.value is not None and p.value is not None
    s_abs = s.value.scaleb(s.scale)
    p_abs = p.value.scaleb(p.scale)
    if s_abs == p_abs:
        return True
    if not allow_rounding or _significant_digits(s.value) < 2:
        return False
    quantum = Decimal(1).scaleb(-s.decimals)
    return p_abs.scaleb(-s.scale).quantize(quantum, rounding=ROUND_HALF_UP) == s.value


def absent_numbers(
    sentence_nums: list[Number], passage_nums: list[list[Number]], allow_rounding: bool = True
) -> list[str]:
    return [
        s.text
        for s in sentence_nums
        if not any(number_match(s, p, allow_rounding) for nums in passage_nums for p in nums)
    ]


def extract_numbers(text: str) -> list[str]:
    """Normalised numeric facts of ``text``, in order of appearance, without duplicates.

    ``"15.6x"`` -> ``"15.6"``, ``"31 percent"`` -> ``"31%"``, ``"$75bn"`` ->
    ``"$75 billion"``, ``"1,000"`` -> ``"1000"``, ``"75 basis points"`` ->
    ``"75"``, ``"Jan. 23"`` -> ``"january 23"``.  Citation markers, list
    prefixes ("1. ") and index names ("Russell 2000") are not facts.
    """
    nums, _ = parse_numbers(text or "")
    return [n.text for n in unique_numbers(nums)]


def numbers_supported(sentence: str, passages: Sequence[str], *, allow_rounding: bool = True) -> tuple[bool, list[str]]:
    """Whether every number of ``sentence`` occurs in at least one passage; returns ``(ok, missing)``."""
    s_nums = unique_numbers(parse_numbers(sentence or "")[0])
    if not s_nums:
        return True, []
    p_nums = [parse_numbers(p or "")[0] for p in passages]
    missing = absent_numbers(s_nums, p_nums, allow_rounding)
    return not missing, missing
