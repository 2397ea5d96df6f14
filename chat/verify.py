"""Server-side verification of ``[n]`` citations in chatbot answers.

Answers reach the user either from the extractive answerer (sentences copied
from passages) or from an LLM, which may forget markers, cite the wrong
passage, emit malformed markers or invent numbers.  Everything here is a pure
function of its inputs so the same check applies to both paths:

* Sentences and ``[n]`` markers are read with chat.text and chat.markers (the one
  splitter and marker grammar); a draft's claims (chat.schema.Claim) are checked as they are.
* :func:`extract_numbers` / :func:`numbers_supported` normalise numeric facts
  ("$75bn" == "$75 billion", "31 percent" == "31%", "15.6x" == "15.6 times")
  and require every number of a sentence to appear in a cited passage.
* :func:`lexical_support` scores how much of a sentence's content vocabulary a
  passage contains; :func:`verify` combines it with an optional injected
  embedding similarity, fixes or drops citations and reports per sentence.
* :func:`render` rebuilds the answer from the supported sentences.

Passage numbers are 1-based throughout: ``[1]`` is ``passages[0]``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

import numpy as np

from chat.markers import MARKER_RE, parse_markers, strip_markers
from chat.schema import Claim
from chat.text import content_words, only_punctuation, split_sentences

logger = logging.getLogger(__name__)

# fmt: off
__all__ = [
    "MARKER_RE",
    "SentenceCheck",
    "Verification",
    "compact_numbering",
    "extract_numbers",
    "lexical_support",
    "numbers_supported",
    "render",
    "verify",
    "verify_claims",
]

# ---------------------------------------------------------------------------
# Numbers
# ---------------------------------------------------------------------------

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
class _Num:
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


def _parse_numbers(text: str) -> tuple[list[_Num], str]:
    """Numeric facts of ``text`` in order, and the text with all of them (and non-facts) blanked."""
    if not text:
        return [], ""
    masked = _mask_non_facts(text)
    found: list[_Num] = []

    for regex in (_DATE_MD_RE, _DATE_DM_RE):
        for m in regex.finditer(masked):
            day = int(m.group("day"))
            if not 1 <= day <= 31:
                continue
            token = f"{_MONTHS[m.group('month')[:3].lower()]} {day}"
            found.append(_Num("token", None, 0, 0, "", False, False, m.start(), m.end(), token))
            masked = _blank(masked, m.start(), m.end())
    for m in _TOKEN_RE.finditer(masked):
        found.append(_Num("token", None, 0, 0, "", False, False, m.start(), m.end(), m.group()))
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
            _Num(
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
    return found, masked


def _unique(nums: list[_Num]) -> list[_Num]:
    seen: set[str] = set()
    out: list[_Num] = []
    for n in nums:
        if n.text not in seen:
            seen.add(n.text)
            out.append(n)
    return out


def _significant_digits(d: Decimal) -> int:
    return len(d.normalize().as_tuple().digits) if d else 1


def _num_match(s: _Num, p: _Num, allow_rounding: bool = True) -> bool:
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


def _missing(sentence_nums: list[_Num], passage_nums: list[list[_Num]], allow_rounding: bool = True) -> list[str]:
    return [
        s.text
        for s in sentence_nums
        if not any(_num_match(s, p, allow_rounding) for nums in passage_nums for p in nums)
    ]


def extract_numbers(text: str) -> list[str]:
    """Normalised numeric facts of ``text``, in order of appearance, without duplicates.

    ``"15.6x"`` -> ``"15.6"``, ``"31 percent"`` -> ``"31%"``, ``"$75bn"`` ->
    ``"$75 billion"``, ``"1,000"`` -> ``"1000"``, ``"75 basis points"`` ->
    ``"75"``, ``"Jan. 23"`` -> ``"january 23"``.  Citation markers, list
    prefixes ("1. ") and index names ("Russell 2000") are not facts.
    """
    nums, _ = _parse_numbers(text or "")
    return [n.text for n in _unique(nums)]


def numbers_supported(sentence: str, passages: Sequence[str], *, allow_rounding: bool = True) -> tuple[bool, list[str]]:
    """Whether every number of ``sentence`` occurs in at least one passage; returns ``(ok, missing)``."""
    s_nums = _unique(_parse_numbers(sentence or "")[0])
    if not s_nums:
        return True, []
    p_nums = [_parse_numbers(p or "")[0] for p in passages]
    missing = _missing(s_nums, p_nums, allow_rounding)
    return not missing, missing


# ---------------------------------------------------------------------------
# Lexical support
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Units:
    """What a text can contribute to lexical support: stemmed words and numbers."""

    words: frozenset[str]
    nums: tuple[_Num, ...]

    @property
    def size(self) -> int:
        return len(self.words) + len(self.nums)


def _units(text: str, *, content_only: bool) -> _Units:
    nums, rest = _parse_numbers(text or "")
    return _Units(frozenset(content_words(rest)), tuple(_unique(nums)))


MIN_CONTENT_UNITS = 2  # content words + numbers a sentence needs before it can be verified
_SPACELESS = re.compile(r"[\u0e00-\u0e7f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff]")


def _lexical(sentence: _Units, passage: _Units) -> float:
    if not sentence.size or not passage.size:
        return 0.0
    hits = len(sentence.words & passage.words)
    hits += sum(1 for s in sentence.nums if any(_num_match(s, p) for p in passage.nums))
    return hits / sentence.size


def lexical_support(sentence: str, passage: str) -> float:
    """Share (0..1) of the sentence's content units found in the passage.

    Content units are the sentence's stemmed non-stopwords plus its normalised
    numbers (so "15.6x" counts as present in "15.6 times").  Markers are ignored.
    """
    return _lexical(_units(sentence, content_only=True), _units(passage, content_only=False))


# ---------------------------------------------------------------------------
# Verification
# ---------------------------------------------------------------------------


@dataclass
class SentenceCheck:
    text: str  # sentence with markers removed, whitespace tidied
    cited: list[int]  # valid 1-based passage numbers, in order, deduplicated
    invalid_markers: list[str]  # e.g. "[0]", "[7]" (with 5 passages), "[1.5]"
    support: float  # max support over cited passages; 0 when nothing is cited
    best_passage: int | None  # cited passage with the best support
    missing_numbers: list[str]  # numbers absent from every cited passage
    supported: bool
    repointed_from: int | None = None  # original citation when it was moved to a passage that supports the sentence

    @property
    def reason(self) -> str:
        """Why the sentence was kept or dropped: ``supported``, ``no_citation``, ``missing_numbers`` or ``low_support``."""
        if self.supported:
            return "supported"
        if not self.cited:
            return "no_citation"
        if self.missing_numbers:
            return "missing_numbers"
        return "low_support"


@dataclass
class Verification:
    sentences: list[SentenceCheck] = field(default_factory=list)

    def kept(self) -> list[SentenceCheck]:
        return [s for s in self.sentences if s.supported]

    def dropped(self) -> list[SentenceCheck]:
        return [s for s in self.sentences if not s.supported]


def _cosine_matrix(
    embed: Callable[[list[str]], np.ndarray], sentences: list[str], passages: list[str]
) -> np.ndarray | None:
    """Sentence x passage cosine similarities, or ``None`` when the embedder fails.

    A broken embedder must not take the answer down: lexical support alone
    still gives a usable (stricter) verdict.
    """
    try:
        vecs = np.asarray(embed(list(sentences) + list(passages)), dtype=np.float64)
        if vecs.ndim != 2 or vecs.shape[0] != len(sentences) + len(passages):
            raise ValueError(f"embed returned shape {vecs.shape} for {len(sentences) + len(passages)} texts")
    except Exception:
        logger.warning("embedding failed; falling back to lexical support only", exc_info=True)
        return None
    sims = vecs[: len(sentences)] @ vecs[len(sentences) :].T
    return np.clip(np.nan_to_num(sims, nan=0.0), 0.0, 1.0)


def verify(
    text: str,
    passages: Sequence[str],
    *,
    embed: Callable[[list[str]], np.ndarray] | None = None,
    min_support: float = 0.5,
    uncited: str = "attach",
) -> Verification:
    """Check every sentence of ``text`` against the passages it cites.

    Support of a sentence by a passage is ``max(lexical_support, cosine)``
    (cosine only when ``embed`` is given; it must return L2-normalised rows).
    A sentence is supported when it cites a passage (``[1]`` is
    ``passages[0]``) with support >= ``min_support`` and every number of the
    sentence occurs in a cited passage.  If the cited passages fail but another
    passage passes, the citation is moved there (``repointed_from``).  Sentences
    without a valid marker are attached to the best passage (``uncited="attach"``)
    or left unsupported (``uncited="drop"``).  Sentences with fewer than two content words
    or numbers ("Sure.", "Here is what I found:", "PWNED.") are never supported.
    """
    passages = [p if isinstance(p, str) else "" for p in (passages or [])]
    raw_sentences: list[tuple[str, list[int], list[str]]] = []
    for raw in split_sentences(text or ""):
        clean = strip_markers(raw)
        cited, invalid = parse_markers(raw, len(passages))
        if only_punctuation(clean):
            logger.debug("skipping fragment without text: %r", raw)
            continue
        raw_sentences.append((clean, cited, invalid))
    return _check(raw_sentences, passages, embed=embed, min_support=min_support, uncited=uncited)


def verify_claims(
    claims: Sequence[Claim],
    passages: Sequence[str],
    *,
    embed: Callable[[list[str]], np.ndarray] | None = None,
    min_support: float = 0.5,
    uncited: str = "attach",
) -> Verification:
    """`verify` for a draft's claims: the same checks, one `SentenceCheck` per claim, in order."""
    passages = [p if isinstance(p, str) else "" for p in (passages or [])]
    n = len(passages)
    raw = []
    for c in claims:
        cited = [k for k in (c.cited or ([c.n] if c.n else [])) if 1 <= k <= n]
        invalid = [f"[{k}]" for k in (c.cited or ([c.n] if c.n else [])) if not 1 <= k <= n]
        raw.append((strip_markers(c.text), cited, invalid))
    return _check(raw, passages, embed=embed, min_support=min_support, uncited=uncited)


def _check(
    raw_sentences: list[tuple[str, list[int], list[str]]],
    passages: list[str],
    *,
    embed: Callable[[list[str]], np.ndarray] | None,
    min_support: float,
    uncited: str,
) -> Verification:
    if uncited not in ("attach", "drop"):
        raise ValueError(f"uncited must be 'attach' or 'drop', not {uncited!r}")
    n = len(passages)
    if not raw_sentences:
        return Verification([])

    s_units = [_units(clean, content_only=True) for clean, _, _ in raw_sentences]
    p_units = [_units(p, content_only=False) for p in passages]
    support = np.array([[_lexical(su, pu) for pu in p_units] for su in s_units], dtype=np.float64).reshape(
        len(s_units), n
    )
    if embed is not None and n:
        cos = _cosine_matrix(embed, [c for c, _, _ in raw_sentences], passages)
        if cos is not None:
            support = np.maximum(support, cos)
    # Nothing to verify means nothing verified, whatever the embedding says; and a lone word ("PWNED.",
    # "Yes.") is too little to verify: it would be "supported" by any passage that merely contains it.
    for i, su in enumerate(s_units):
        # Scripts written without spaces (Chinese, Japanese, Thai) pack a clause into one "word".
        if su.size < MIN_CONTENT_UNITS and not (su.size and _SPACELESS.search(raw_sentences[i][0])):
            support[i, :] = 0.0

    def numbers_missing(i: int, cited: list[int]) -> list[str]:
        return _missing(list(s_units[i].nums), [list(p_units[k - 1].nums) for k in cited])

    def best_alternative(i: int, exclude: list[int]) -> int | None:
        # Highest-support passage that supports the sentence on its own, numbers included.
        for j in np.argsort(-support[i], kind="stable"):
            k = int(j) + 1
            if support[i, j] < min_support:
                return None
            if k not in exclude and not numbers_missing(i, [k]):
                return k
        return None

    checks: list[SentenceCheck] = []
    for i, (clean, cited, invalid) in enumerate(raw_sentences):
        repointed_from: int | None = None
        if cited:
            best = max(cited, key=lambda k: support[i, k - 1])  # max() keeps the first of equal scores
            ok = support[i, best - 1] >= min_support and not numbers_missing(i, cited)
            if not ok and (alt := best_alternative(i, cited)) is not None:
                logger.debug("re-pointing [%d] -> [%d]: %r", best, alt, clean)
                repointed_from, cited, best = best, [alt], alt
        elif uncited == "attach" and (alt := best_alternative(i, [])) is not None:
            cited, best = [alt], alt
        else:
            best = None

        if best is None:
            check = SentenceCheck(clean, [], invalid, 0.0, None, [n.text for n in s_units[i].nums], False)
        else:
            missing = numbers_missing(i, cited)
            score = float(support[i, best - 1])
            check = SentenceCheck(
                clean,
                cited,
                invalid,
                score,
                best,
                missing,
                score >= min_support and not missing and s_units[i].size > 0,
                repointed_from,
            )
        if not check.supported:
            logger.debug("dropping sentence (%s, support %.2f): %r", check.reason, check.support, clean)
        checks.append(check)
    return Verification(checks)


# ---------------------------------------------------------------------------
# Rendering
# ---------------------------------------------------------------------------


def compact_numbering(sentences: Sequence[SentenceCheck]) -> dict[int, int]:
    """Old -> new passage numbers (1, 2, ...) in order of first citation by a supported sentence,
    for showing only the passages the rendered answer actually cites."""
    mapping: dict[int, int] = {}
    for s in sentences:
        if s.supported:
            for k in s.cited:
                mapping.setdefault(k, len(mapping) + 1)
    return mapping


def render(sentences: Sequence[SentenceCheck], renumber: dict[int, int] | None = None) -> str:
    """Join the supported sentences as ``"Sentence text. [1][2] Next sentence. [3]"``.

    Unsupported sentences are skipped, so ``render(verification.sentences)`` is
    safe.  With ``renumber``, citations are mapped old -> new; a citation
    missing from the mapping is dropped (and logged) rather than shown with a
    number that no longer points at the right passage.
    """
    parts: list[str] = []
    for s in sentences:
        if not s.supported or not s.text:
            continue
        text = s.text
        if text[-1].isascii() and (text[-1].isalnum() or text[-1] in "%)$"):
            text += "."
        numbers: list[int] = []
        for k in s.cited:
            if renumber is not None:
                if k not in renumber:
                    logger.warning("no renumbering for passage [%d]; dropping its marker", k)
                    continue
                k = renumber[k]
            if k not in numbers:
                numbers.append(k)
        parts.append(text + (" " + "".join(f"[{k}]" for k in numbers) if numbers else ""))
    return " ".join(parts)
