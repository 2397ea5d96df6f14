"""A question's words met with the corpus' vocabulary: misspellings corrected to the articles' words, names
written joined or split mended, shorthand expanded ("bps", "Fed", tickers the articles define), synonyms added at
a lower weight; and the forms a passage may use for a name.

    from chat.normalization import normalize_question
    norm = normalize_question(lexicon, "how many bps did the Fed cut for Innodatta")
    norm.text                      # what the dense side searches: spelling fixed, shorthand followed by its meaning
    [t.token for t in norm.terms]  # the content words, each with its expansions and synonyms (`Term`)

Functions of a `chat.lexicon.Lexicon` (its snapshot's words, names and tickers, and `knows`), which offers them as
methods: `lexicon.normalize(question)`, `lexicon.terms(question)`, `lexicon.correct(word, name=…)`,
`lexicon.name_forms(name)`, `lexicon.known_name(name)`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from rapidfuzz import process
from rapidfuzz.distance import DamerauLevenshtein

from chat.glossary import ABBREVIATIONS, synonym_map
from chat.text import STOPWORDS, normalize, tokenize

if TYPE_CHECKING:
    from chat.lexicon import Lexicon

__all__ = [
    "CAP_WORD_RE",
    "CONTEXT_WEIGHT",
    "GENERIC_TAIL",
    "Normalized",
    "Term",
    "correct",
    "known_name",
    "name_forms",
    "normalize_question",
]

_SYNONYMS = synonym_map()
# Multi-word shorthand first ("market cap" before "cap"), as whole words.
_ABBREV_RE = re.compile(
    r"(?<![\w&/+-])(" + "|".join(re.escape(k) for k in sorted(ABBREVIATIONS, key=len, reverse=True)) + r")(?![\w&/+-])",
    re.I,
)
# A word as the corpus and questions write it: letters with inner apostrophes, "&" or dots ("S&P", "U.S.").
CAP_WORD_RE = re.compile(r"[^\W\d_]+(?:['’&.][^\W\d_]+)*")
# Common nouns that can end a name without being part of what names it: "Japan ETF", "Tokyo stocks".
GENERIC_TAIL = frozenset(
    tokenize(
        "etf etfs fund funds stock stocks share shares index indexes indices bond bonds market markets sector sectors "
        "economy company companies firms sales earnings rally rallies prices price rates yields currency currencies "
        "exports imports equities names"
    )
)


@dataclass(frozen=True)
class Term:
    """One content word of a question: the stem as typed (or as corrected), and stems that count as the same
    word for search and coverage (abbreviation expansions, synonyms)."""

    token: str
    typed: str  # the surface word as typed
    weight: float = 1.0  # figures weigh double in coverage
    expansions: frozenset[str] = frozenset()  # what an abbreviation stands for: as good as the word
    synonyms: frozenset[str] = frozenset()  # related words: weaker evidence
    corrected_from: str = ""  # the misspelt word this term replaced

    @property
    def forms(self) -> frozenset[str]:
        return frozenset({self.token}) | self.expansions | self.synonyms

    def credit(self, words: set[str] | frozenset[str]) -> float:
        """How much these words count as this one: 1 for the word or what its shorthand stands for, ½ for a
        synonym, else 0."""
        if self.token in words or self.expansions & words:
            return 1.0
        return 0.5 if self.synonyms & words else 0.0


@dataclass
class Normalized:
    """A question made to meet the corpus' vocabulary."""

    text: str  # for the dense side: spelling fixed, shorthand followed by what it stands for
    terms: list[Term]
    corrected: str = ""  # spelling fixed only (names are read from this)
    corrections: list[tuple[str, str]] = field(default_factory=list)  # (typed, corrected)

    def bm25_weights(self, expansion: float = 0.7, synonym: float = 0.25) -> dict[str, float]:
        weights: dict[str, float] = {}
        for t in self.terms:
            for tok, w in (
                ((t.token, 1.0),)
                + tuple((e, expansion) for e in t.expansions)
                + tuple((s, synonym) for s in t.synonyms)
            ):
                weights[tok] = max(weights.get(tok, 0.0), w)
        return weights


# The clause of a question that says when or under what circumstances ("… after the hot Jan CPI", "… during the
# 2022 rate hikes"), after at least two words of what is asked. Its words count at CONTEXT_WEIGHT in coverage.
_CONTEXT = re.compile(
    r"\b(?:after|following|since|during|amid|amidst|before|ahead of|in the wake of|once)\s+[^?,;]*", re.I
)
CONTEXT_WEIGHT = 0.5


def _context_span(text: str) -> tuple[int, int]:
    for m in _CONTEXT.finditer(text):
        if len(tokenize(text[: m.start()])) >= 2:
            return m.start(), m.end()
    return -1, -1


def correct(lexicon: Lexicon, word: str, *, name: bool) -> str | None:
    """The corpus word a misspelt `word` stands for, or None. Same first letter; one edit (Damerau) for 5–9
    letters, two from 10; a capitalised word is only corrected to a name of the corpus ("Innodatta" →
    "innodata"); never to a word it extends or that extends it ("European" is not "Europe")."""
    snap = lexicon.refresh()
    if len(word) < 5 or not word.isalpha() or not snap.words or word in lexicon.english:
        return None
    limit = 1 if len(word) < 10 else 2
    pool = [w for w in (snap.names if name else snap.words) if w[:1] == word[:1] and abs(len(w) - len(word)) <= limit]
    if not pool:
        return None
    best = process.extract(word, pool, scorer=DamerauLevenshtein.distance, score_cutoff=limit, limit=5)
    if not best:
        return None
    # "european" is not a misspelt "europe": a word that extends another is a form of it, not a typo.
    best = [b for b in best if not (b[0].startswith(word) or word.startswith(b[0]))]
    if not best:
        return None
    top = min(d for _, d, _ in best)
    # Among equally close words the most used one: "recesion" → "recession", not a rare look-alike.
    return max((w for w, d, _ in best if d == top), key=lambda w: snap.words.get(w, 0))


def name_forms(lexicon: Lexicon, name: str) -> list[frozenset[str]]:
    """The token sets a passage may use for a name: its own words, or what its shorthand stands for
    ("UST" → {treasuri}, "Jan CPI" → {januari, consum, price, index, inflat} as well as {jan, cpi})."""
    forms = [frozenset(tokenize(name))]
    core = frozenset(t for t in tokenize(name) if t not in GENERIC_TAIL)
    if core and core != forms[0]:
        forms.append(core)  # "Japan ETF" is named by a passage about a Japan fund
    words = re.findall(r"[\w&/+-]+", normalize(name))
    aliases = lexicon.refresh().aliases
    for w in words:
        if w.lower() in aliases:  # a ticker: the first word of the company's name names it ("Larkspur")
            forms.append(frozenset(tokenize(aliases[w.lower()])[:1]))
    if any(w.lower() in ABBREVIATIONS for w in words):
        expanded = " ".join(ABBREVIATIONS.get(w.lower(), w) or w for w in words)
        forms.append(frozenset(t for t in tokenize(expanded) if lexicon.knows(t)))
        # and each word either way: "Jan CPI" is named by "January ... CPI"
        mixed = set()
        for w in words:
            own = set(tokenize(w))
            mixed |= (
                own
                if own and all(lexicon.knows(t) for t in own)
                else set(t for t in tokenize(ABBREVIATIONS.get(w.lower(), "") or "") if lexicon.knows(t))
            )
        forms.append(frozenset(mixed))
    return [f for f in forms if f]


def known_name(lexicon: Lexicon, name: str) -> bool:
    """Whether the articles use every word of a name, allowing for shorthand whose expansion they use
    ("UST" → Treasury), misspellings of their names and names written joined or split."""
    words = [
        w.lower().removesuffix("'s").replace("'", "").replace(".", "") for w in CAP_WORD_RE.findall(normalize(name))
    ]
    for i, w in enumerate(words):
        if w in STOPWORDS or len(w) < 2 or lexicon.knows_word(w):
            continue
        expansion = ABBREVIATIONS.get(w)
        if expansion is not None and (not expansion or any(lexicon.knows(t) for t in tokenize(expansion))):
            continue
        if w in lexicon.snapshot.aliases:
            continue
        if correct(lexicon, w, name=True) or correct(lexicon, w, name=False):
            continue
        neighbours = [words[j] for j in (i - 1, i + 1) if 0 <= j < len(words)]
        if any(lexicon.knows_word(w + o) or lexicon.knows_word(o + w) for o in neighbours):
            continue
        if any(lexicon.knows_word(w[:k]) and lexicon.knows_word(w[k:]) for k in range(3, len(w) - 2)):
            continue
        return False
    return True


def normalize_question(lexicon: Lexicon, question: str) -> Normalized:
    """Spelling fixed against the corpus, joined and split names mended, shorthand expanded, synonyms added."""
    snap = lexicon.refresh()
    # "SmallCap600", "S&P500": a name glued to its number.
    text = re.sub(r"(?<![\w&])([A-Za-z&]{2,})(\d{2,})(?!\w)", r"\1 \2", normalize(question))
    corrections: list[tuple[str, str]] = []
    typed = []
    for m in CAP_WORD_RE.finditer(text):
        low = m.group().lower()
        low = (low[:-2] if low.endswith("'s") else low).replace("'", "").replace(".", "")
        typed.append((m.group(), low))
    fixed: dict[str, str] = {}  # typed text → replacement
    i = 0
    while i < len(typed):
        word, low = typed[i]
        nxt_word, nxt = typed[i + 1] if i + 1 < len(typed) else ("", "")
        if low in STOPWORDS or len(low) < 2 or low in ABBREVIATIONS:
            i += 1
            continue
        joined = low + nxt
        # "Coin Mela" → "coinmela", "Inno data" → "innodata": the two halves are one word of the corpus.
        if (
            nxt
            and nxt not in STOPWORDS
            and lexicon.knows_word(joined)
            and (joined in snap.names or not lexicon.knows_word(low) or not lexicon.knows_word(nxt))
        ):
            fixed[f"{word} {nxt_word}"] = joined
            i += 2
            continue
        if not lexicon.knows_word(low):
            # "smallcap", "SmallCap" → "small cap": two words of the corpus written as one.
            split = next(
                (
                    (low[:k], low[k:])
                    for k in range(3, len(low) - 2)
                    if lexicon.knows_word(low[:k])
                    and lexicon.knows_word(low[k:])
                    and low[:k] not in STOPWORDS
                    and low[k:] not in STOPWORDS
                ),
                None,
            )
            if split:
                fixed[word] = " ".join(split)
            else:
                right = correct(lexicon, low, name=word[:1].isupper() or any(c.isupper() for c in word[1:]))
                if right:
                    # A capitalised name stays one ("Okonkow" → "Okonkwo"), so it is still read as a name.
                    fixed[word] = right[:1].upper() + right[1:] if word[:1].isupper() else right
        i += 1
    for wrong, right in sorted(fixed.items(), key=lambda kv: -len(kv[0])):
        text = re.sub(rf"(?<![\w&]){re.escape(wrong)}(?![\w&])", right, text)
        corrections.append((wrong, right))
    # Shorthand: keep what was typed, add what it stands for (to the dense text and to the word's forms).
    spans = [(m.start(), m.end(), ABBREVIATIONS[m.group(0).lower()]) for m in _ABBREV_RE.finditer(text)]
    # Tickers the articles define ("LKSP" → Larkspur Logistics Group) ride along the same way.
    spans += [
        (m.start(), m.end(), snap.aliases[m.group().lower()])
        for m in re.finditer(r"(?<![\w&$])[A-Za-z]{2,5}(?![\w&])", text)
        if m.group().lower() in snap.aliases and not any(a <= m.start() < b for a, b, _ in spans)
    ]
    spans.sort()
    dense, last = "", 0
    for _a, b, expansion in spans:
        dense += text[last:b] + (f" ({expansion})" if expansion else "")
        last = b
    dense += text[last:]
    corrected_from = {right.split()[0]: wrong for wrong, right in corrections}
    terms: list[Term] = []
    seen: set[str] = set()
    context = _context_span(text)
    for m in re.finditer(r"\d+(?:[.,]\d+)*|[^\W\d_]+(?:['&.][^\W\d_]+)*", text):
        toks = tokenize(m.group())
        if not toks or toks[0] in seen:
            continue
        tok = toks[0]
        seen.add(tok)
        # A word of the clause that sets the scene ("… after the hot Jan CPI") weighs half: the sentence that
        # answers often leaves the scene to the sentences before it ("The two-year yield jumped 14 bp…").
        scene = CONTEXT_WEIGHT if context[0] <= m.start() < context[1] else 1.0
        expansion = next((e for a, b, e in spans if a <= m.start() < b), "")
        exp = frozenset(t for t in tokenize(expansion) if t != tok and lexicon.knows(t))
        syn = {t for word in _SYNONYMS.get(m.group().lower(), ()) for t in tokenize(word) if len(tokenize(word)) == 1}
        syn = frozenset(t for t in syn if t != tok and t not in exp and lexicon.knows(t))
        terms.append(
            Term(
                tok,
                m.group(),
                (2.0 if tok[0].isdigit() else 1.0) * scene,
                exp,
                syn,
                corrected_from.get(m.group().lower(), ""),
            )
        )
    for a, b, expansion in spans:  # shorthand with no word of its own ("P/E"): its expansion is the term
        if not tokenize(text[a:b]):
            exp = [t for t in tokenize(expansion) if lexicon.knows(t) and t not in seen]
            if exp:
                seen.update(exp)
                terms.append(Term(exp[0], text[a:b], 1.0, frozenset(exp[1:])))
    return Normalized(dense, terms, corrected=text, corrections=corrections)
