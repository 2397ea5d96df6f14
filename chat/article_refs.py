"""The articles a question refers to: by publisher in any spelling ("A-Invest", "Coin Mela", "Bayline"), by position
("the second article", oldest first), by words only one title has, or by publication day ("the piece published on
January 27"); and whether it asks how things turned out after the newest article.

    from chat.article_refs import named_articles
    named_articles("What does the CoinMela piece say?", lexicon.articles(), by_title=False)   # [Article(…CoinMela…)]

chat.questions.analyze reads these off every question; tested in tests/test_questions.py.
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from chat.lexicon import Article
from chat.question_types import ORDINAL_RE, ORDINALS
from chat.text import Name, normalize, tokenize

__all__ = ["articles_only", "asks_after", "dated_articles", "is_article_ref", "named_articles"]


def _squash(text: str) -> list[str]:
    """Words of a text and every two and three neighbours joined: "A-Invest", "Coin Mela" → "ainvest", "coinmela"."""
    words = re.findall(r"[a-z0-9&]+", normalize(text).lower())
    return (
        words + [a + b for a, b in zip(words, words[1:])] + [a + b + c for a, b, c in zip(words, words[1:], words[2:])]
    )


def named_articles(
    text: str,
    catalogue: list[Article],
    *,
    by_title: bool,
    names: frozenset[str] | None = None,
    english: frozenset[str] = frozenset(),
    term_sources: Callable[[frozenset[str]], set[str]] | None = None,
) -> list[Article]:
    """Articles the question names: by publisher (any spelling), by position ("the second article") or, for a
    summary, by words of its title that no other title has ("the article about the resurgence"). A publisher's
    one own word that is also an everyday English word (`english`: "small" of "The Small-Cap Report", "meridian")
    names it only where the question writes it as a name, capitalised inside a sentence and standing alone ("what
    does Meridian say"): "how do small-cap stocks fare?" and "the Small-Cap vs. Large-Cap gap" name no publisher.
    Its everyday words run together ("small cap") name it only when the articles of other publishers do not use
    them together (`term_sources`: the sources whose text holds all of some words), as "Atlas Frontier" is a name.
    Each distinct publisher is read once, so the cost grows with the publishers, not the articles."""
    index = _index(catalogue)
    pieces = set(_squash(text))
    words = set(re.findall(r"[a-z0-9&]+", normalize(text).lower()))
    written_as_names = {m.group(1).lower() for m in _NAME_INSIDE.finditer(normalize(text))}
    named = set()
    for publisher, own_articles in index.by_publisher.items():
        forms = _publisher_forms(publisher, names, english)
        how = _names_publisher(forms, pieces, words, written_as_names)
        if how == "core" and forms.everyday and term_sources is not None:
            # Everyday words run together are a term before they are a name: "small-cap" (or "S&P Small Cap 600")
            # is not "The Small-Cap Report" when other publishers' articles use those words together.
            others = term_sources(frozenset(tokenize(" ".join(forms.everyday)))) - {a.source for a in own_articles}
            how = "" if len(others) >= 2 else how
        if how:
            named.add(publisher)
    found = [art for art in catalogue if art.publisher in named] if named else []
    for m in ORDINAL_RE.finditer(text):
        i = ORDINALS[m.group(1).lower()]
        if -len(catalogue) <= i < len(catalogue) and catalogue[i] not in found:
            found.append(catalogue[i])
    if not found and by_title and len(catalogue) > 1:
        words = set(tokenize(text))
        unique = [art for art, own in zip(catalogue, index.own_title_words) if own & words]
        if len(unique) == 1:
            found = unique
    return found


@dataclass(frozen=True)
class _PublisherForms:
    """The ways a question may write one publisher's name."""

    key: str  # "thesmallcapreport"
    own: str  # its first own word that the articles use as a name ("bayline" of "Bayline Financial News"), or ""
    own_everyday: bool  # that word is an everyday English word ("meridian"): it counts only written as a name
    cores: frozenset[str]  # "harborvine", "harborandvine", "harbor&vine" of "Harbor & Vine Research"
    everyday: tuple[str, ...]  # the core's words when every one is an everyday English word ("small", "cap")


@functools.lru_cache(maxsize=4096)
def _publisher_forms(publisher: str, names: frozenset[str] | None, english: frozenset[str]) -> _PublisherForms:
    key = re.sub(r"[^a-z0-9&]", "", publisher.lower())
    # "Bayline" names "Bayline Financial News": the publisher's own word, not "Financial" or "News".
    # ("The Small-Cap Report" is not named by "small": only a word the articles use as a name counts)
    own = [
        w
        for w in re.findall(r"[a-z0-9&]+", publisher.lower())
        if w not in _MEDIA_WORDS and len(w) >= 4 and (names is None or w in names)
    ]
    # "Harbor & Vine Research" is also "harbor and vine", "harbor&vine", "harborvine".
    # (only for a name of two words or more: one word is the `own` rule's, which needs it to be a name)
    core_words = [w for w in re.findall(r"[a-z0-9&]+", publisher.lower()) if w not in _MEDIA_WORDS]
    core = "".join(core_words)
    plain = [w for w in core_words if w != "&"]
    cores = (
        frozenset({core, core.replace("&", "and"), core.replace("&", "")})
        if len(core) >= 6 and len(plain) >= 2 and (names is None or all(w in names for w in plain))
        else frozenset()
    )
    everyday = tuple(plain) if cores and all(w in english for w in plain) else ()
    first = own[0] if own else ""
    return _PublisherForms(key, first, first in english, cores, everyday)


def _names_publisher(forms: _PublisherForms, pieces: set[str], words: set[str], written_as_names: set[str]) -> str:
    """How the question names the publisher: "name" (its whole name or own word), "core" (its words run together
    or joined by "and"), or "" (it does not)."""
    key, own = forms.key, forms.own
    if len(key) < 3:
        return ""
    if (
        key in pieces
        or key.removeprefix("the") in pieces
        or (len(key) >= 6 and any(len(p) >= len(key) - 1 and _close(p, key) for p in pieces))
        or (own and own in words and (not forms.own_everyday or own in written_as_names))
    ):
        return "name"
    return "core" if forms.cores & pieces else ""


@dataclass(frozen=True)
class _Index:
    """What the reference rules read of a catalogue, computed once per catalogue (not once per question)."""

    by_publisher: dict[str, list[Article]]
    publisher_keys: frozenset[str]  # squashed, without a leading "the"
    words: frozenset[str]  # every word of a publisher or a title
    own_title_words: list[set[str]]  # per article: the words of its title that no other title has
    dates: list[str]  # the articles' publication days, sorted
    by_day: dict[tuple[int, int], list[Article]]  # (month, day) → the articles published on it


_CACHE: list[tuple[list[Article], list[int], _Index]] = []  # the last few catalogues (held, so ids stay theirs)


def _index(catalogue: list[Article]) -> _Index:
    for held, held_ids, index in _CACHE:
        # the lexicon's own list of this snapshot, unchanged (a copy is recognised by its articles, below)
        if held is catalogue and len(held_ids) == len(catalogue):
            return index
    ids = [id(a) for a in catalogue]
    for _held, held_ids, index in _CACHE:
        if held_ids == ids:
            return index
    by_publisher: dict[str, list[Article]] = {}
    by_day: dict[tuple[int, int], list[Article]] = {}
    title_words = [set(tokenize(a.title)) for a in catalogue]
    counts = Counter(w for ws in title_words for w in ws)
    for art in catalogue:
        by_publisher.setdefault(art.publisher, []).append(art)
        m = re.match(r"\d{4}-(\d{2})-(\d{2})", art.published or "")
        if m:
            by_day.setdefault((int(m.group(1)), int(m.group(2))), []).append(art)
    index = _Index(
        by_publisher=by_publisher,
        publisher_keys=frozenset(re.sub(r"[^a-z0-9&]", "", p.lower()).removeprefix("the") for p in by_publisher),
        words=frozenset(w for a in catalogue for w in tokenize(a.publisher + " " + a.title)),
        own_title_words=[{w for w in ws if counts[w] == 1 and not w[0].isdigit() and len(w) > 3} for ws in title_words],
        dates=sorted(a.published[:10] for a in catalogue if re.match(r"\d{4}-\d{2}-\d{2}", a.published or "")),
        by_day=by_day,
    )
    _CACHE.insert(0, (catalogue, ids, index))
    del _CACHE[4:]
    return index


# fmt: off
# Words publishers share, which name none of them alone.
_MEDIA_WORDS = {"the", "financial", "finance", "news", "daily", "markets", "market", "review", "post", "times",
                "journal", "capital", "letter", "research", "weekly", "report", "insider", "wire", "media", "group",
                "press", "herald", "gazette", "tribune", "today", "online", "digital", "money", "investor", "investing",
                "economic", "economics", "business", "street", "global", "world", "international", "asia", "europe"}
# fmt: on


# A capitalised word that does not open a sentence and stands alone: written as a name. Not one joined to the next
# word ("Small-Cap", "Small Cap Stocks": a title-cased term, which the full name "Small-Cap Report" still names).
_NAME_INSIDE = re.compile(r"(?<![.!?:]\s)(?<!^)(?<=\s|[\"'(])([A-Z][a-z0-9&]+)(?![-\u2010-\u2014]\w|\s+[A-Z])")


def _close(a: str, b: str) -> bool:
    from rapidfuzz.distance import DamerauLevenshtein

    return DamerauLevenshtein.distance(a, b) <= 1


_MONTH_NUMBER = {
    m: i for i, m in enumerate(("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1)
}
_DAY_RE = re.compile(r"\b(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+(\d{1,2})(?!\d)", re.I)


def dated_articles(text: str, catalogue: list[Article]) -> list[Article]:
    """Articles published on a day the question names ("what pushed yields up on Feb 11?"): news of that day."""
    days = {(_MONTH_NUMBER[m.group(1).lower()[:3]], int(m.group(2))) for m in _DAY_RE.finditer(text)}
    if not days:
        return []
    on_days = {id(a) for day in days for a in _index(catalogue).by_day.get(day, [])}
    return [art for art in catalogue if id(art) in on_days]


_OUTCOME = re.compile(r"\b(?:did|was|were|ended|closed|finished|happened|turned out|wound up|end up|ending)\b", re.I)
_PERIOD_END = re.compile(
    r"\b(?:(?:close|end|final days?|last day) of|by|at year-end|in|during|over|finish(?:ed)?|"
    r"end(?:ed)?|close[d]?) (?:the )?(?:year )?(?P<year>20\d\d)\b",
    re.I,
)


def asks_after(text: str, catalogue: list[Article]) -> str:
    """The newest article's date when the question asks how things turned out by a time after it ("Where did
    small caps end up by the close of 2026?" of articles from January 2026): no article can know."""
    if not _OUTCOME.search(text):
        return ""
    dates = _index(catalogue).dates
    if not dates:
        return ""
    for m in _PERIOD_END.finditer(text):
        year = int(m.group("year"))
        ends = "by" in m.group(0).lower() or re.search(r"close|end|final|last|year-end|finish", m.group(0), re.I)
        if (year > int(dates[-1][:4])) or (ends and f"{year}-12-31" > dates[-1] and year == int(dates[-1][:4])):
            return dates[-1]
    return ""


def articles_only(topic: str, catalogue: list[Article]) -> bool:
    """Whether every word of a topic is a word of an article's publisher or title (it names articles, no subject)."""
    toks = set(tokenize(topic))
    return bool(toks) and toks <= _index(catalogue).words


def is_article_ref(name: Name, articles: list[Article], catalogue: list[Article]) -> bool:
    """A name that is an article's publisher ("The Sterling Review", "Coin Mela") is a reference, not a subject."""
    squashed = re.sub(r"[^a-z0-9&]", "", name.text.lower()).removeprefix("the")
    return len(squashed) >= 3 and squashed in _index(catalogue).publisher_keys
