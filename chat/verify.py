"""Server-side verification of ``[n]`` citations in chatbot answers.

    verification = verify_claims(draft.claims, [d.page_content for d in passages], embed=embed, min_support=0.6)
    [(s.text, s.cited, s.reason) for s in verification.sentences]   # reason: supported, low_support, …

Answers reach the user either from the extractive answerer (sentences copied
from passages) or from an LLM, which may forget markers, cite the wrong
passage, emit malformed markers or invent numbers.  Everything here is a pure
function of its inputs so the same check applies to both paths:

* Sentences and ``[n]`` markers are read with chat.text and chat.markers (the one
  splitter and marker grammar); a draft's claims (chat.schema.Claim) are checked as they are.
* Figures are read with chat.figures ("$75bn" == "$75 billion", "31 percent" == "31%",
  "15.6x" == "15.6 times"): every number of a sentence must appear in a cited passage.
* :func:`lexical_support` scores how much of a sentence's content vocabulary a
  passage contains; :func:`verify` combines it with an optional injected
  embedding similarity, fixes or drops citations and reports per sentence.

Passage numbers are 1-based throughout: ``[1]`` is ``passages[0]``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from chat.figures import Number, absent_numbers, number_match, parse_numbers, unique_numbers
from chat.markers import parse_markers, strip_markers
from chat.schema import Claim
from chat.text import content_words, only_punctuation, split_sentences

logger = logging.getLogger(__name__)

__all__ = ["SentenceCheck", "Verification", "lexical_support", "verify", "verify_claims"]

# ---------------------------------------------------------------------------
# Lexical support
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Units:
    """What a text can contribute to lexical support: stemmed words and numbers."""

    words: frozenset[str]
    nums: tuple[Number, ...]

    @property
    def size(self) -> int:
        return len(self.words) + len(self.nums)


def _units(text: str, *, content_only: bool) -> _Units:
    nums, rest = parse_numbers(text or "")
    return _Units(frozenset(content_words(rest)), tuple(unique_numbers(nums)))


MIN_CONTENT_UNITS = 2  # content words + numbers a sentence needs before it can be verified
_SPACELESS = re.compile(r"[\u0e00-\u0e7f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff]")


def _lexical(sentence: _Units, passage: _Units) -> float:
    if not sentence.size or not passage.size:
        return 0.0
    hits = len(sentence.words & passage.words)
    hits += sum(1 for s in sentence.nums if any(number_match(s, p) for p in passage.nums))
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
    # A sentence found word for word in the one passage it cites (an extractive quote: lexical support 1.0, its
    # figures there) is supported whatever the cosines say, and no other passage is looked at for it. Embedding
    # the passages (~60 ms each on one core) is only worth it for the other sentences: a paraphrase, a sentence
    # citing several passages or none.
    rows = [
        i
        for i, (_, cited, _) in enumerate(raw_sentences)
        if not (
            len(cited) == 1
            and support[i, cited[0] - 1] >= 1.0
            and not absent_numbers(list(s_units[i].nums), [list(p_units[cited[0] - 1].nums)])
        )
    ]
    if embed is not None and n and rows:
        cos = _cosine_matrix(embed, [raw_sentences[i][0] for i in rows], passages)
        if cos is not None:
            support[rows] = np.maximum(support[rows], cos)
    # Nothing to verify means nothing verified, whatever the embedding says; and a lone word ("PWNED.",
    # "Yes.") is too little to verify: it would be "supported" by any passage that merely contains it.
    for i, su in enumerate(s_units):
        # Scripts written without spaces (Chinese, Japanese, Thai) pack a clause into one "word".
        if su.size < MIN_CONTENT_UNITS and not (su.size and _SPACELESS.search(raw_sentences[i][0])):
            support[i, :] = 0.0

    def numbers_missing(i: int, cited: list[int]) -> list[str]:
        return absent_numbers(list(s_units[i].nums), [list(p_units[k - 1].nums) for k in cited])

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
