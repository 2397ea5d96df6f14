"""The corpus' words: a BM25 mirror of the Chroma collection, idf, known words and names, the catalogue of
articles, and the normalisation of a question against that vocabulary (spelling, joined and split names,
abbreviations, synonyms).

    lexicon = Lexicon(collection=store.live(), generation=lambda: generation(store))
    lexicon.terms("how many bps did the Fed cut for Innodatta")   # typed words, corrected, with alternatives
    lexicon.articles()                                           # [Article(source, title, publisher, …)]

One immutable `Snapshot` is rebuilt from Chroma whenever the ingest `generation` stamp changes (checked at most
every `refresh_seconds`) and swapped in one assignment, so readers never see half of one. A slow rebuild (tens of
thousands of chunks) runs in a background thread while queries use the previous snapshot.
"""

from __future__ import annotations

import logging
import math
import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from rapidfuzz import process
from rapidfuzz.distance import DamerauLevenshtein
from scipy import sparse

from chat.glossary import ABBREVIATIONS, synonym_map
from chat.text import NUMBER_WORDS, STOPWORDS, normalize, stem, surface_words, tokenize
from ingest.records import ChunkMetadata

log = logging.getLogger(__name__)

_SYNONYMS = synonym_map()
# Multi-word shorthand first ("market cap" before "cap"), as whole words.
_ABBREV_RE = re.compile(
    r"(?<![\w&/+-])(" + "|".join(re.escape(k) for k in sorted(ABBREVIATIONS, key=len, reverse=True)) + r")(?![\w&/+-])",
    re.I,
)
_CAP_WORD_RE = re.compile(r"[^\W\d_]+(?:['’&.][^\W\d_]+)*")
# "Larkspur Logistics Group (NYSE: LKSP)", "the Invesco S&P 500 Equal Weight ETF (RSP)": a ticker and its name.
_TICKER_RE = re.compile(
    r"(?P<name>(?:[A-Z]|[a-z][A-Z])[\w&'’-]*(?:\.[A-Z])*(?:\s+(?:(?:[A-Z]|[a-z][A-Z])[\w&'’-]*(?:\.[A-Z]\.?)*|\d{2,4}|of|&))"
    r"{0,6})\s*\("
    r"(?:(?:NYSE(?: Arca)?|NASDAQ|Nasdaq|AMEX|TSX|LSE|Cboe|TSE|HKEX)\s*:\s*)?(?P<ticker>[A-Z]{2,5})\)"
)


# fmt: off
_LEADING = {"shares", "share", "stock", "stocks", "units", "of", "company", "companies", "firm", "fund", "funds",
            "index", "like", "such", "as", "including", "rival", "rivals", "peer", "peers", "buy", "sell", "own"}
# fmt: on
_GENERIC_TAIL = frozenset(
    tokenize(
        "etf etfs fund funds stock stocks share shares index indexes indices bond bonds market markets sector sectors "
        "economy company companies firms sales earnings rally rallies prices price rates yields currency currencies "
        "exports imports equities names"
    )
)


class SparseBM25:
    """Okapi BM25 (k1=1.5, b=0.75, the Lucene IDF) precomputed into a sparse chunk × term matrix.

    Scoring a query is a weighted sum of a few matrix columns, so it stays in the low milliseconds at 100,000+
    chunks. Memory: one float32 and one int32 per distinct (chunk, term) pair.
    """

    def __init__(self, corpus: list[list[str]], k1: float = 1.5, b: float = 0.75) -> None:
        self.vocab: dict[str, int] = {}
        lengths = np.fromiter((len(doc) for doc in corpus), dtype=np.int64, count=len(corpus))
        terms = np.fromiter(
            (self.vocab.setdefault(t, len(self.vocab)) for doc in corpus for t in doc),
            dtype=np.int64,
            count=int(lengths.sum()),
        )
        docs = np.repeat(np.arange(len(corpus)), lengths)
        tf = sparse.coo_matrix(
            (np.ones(len(terms), dtype=np.float32), (docs, terms)), shape=(len(corpus), max(len(self.vocab), 1))
        ).tocsc()
        tf.sum_duplicates()
        self.n = len(corpus)
        self.df = np.diff(tf.indptr)
        avgdl = float(lengths.mean()) if len(corpus) else 1.0
        norm = k1 * (1 - b + b * lengths / max(avgdl, 1e-9))
        rows = tf.indices
        idf = np.log(1.0 + (self.n - self.df + 0.5) / (self.df + 0.5)).astype(np.float32)
        weights = tf.data * (k1 + 1) / (tf.data + norm[rows]) * np.repeat(idf, self.df)
        self.matrix = sparse.csc_matrix((weights.astype(np.float32), tf.indices, tf.indptr), shape=tf.shape)

    def doc_freq(self, token: str) -> int:
        i = self.vocab.get(token)
        return int(self.df[i]) if i is not None else 0

    def scores(self, weights: dict[str, float]) -> np.ndarray:
        cols = [(self.vocab[t], w) for t, w in weights.items() if t in self.vocab and w > 0]
        if not cols:
            return np.zeros(self.n, dtype=np.float32)
        matrix = self.matrix[:, [c for c, _ in cols]]
        return np.asarray(matrix @ np.array([w for _, w in cols], dtype=np.float32)).ravel()


@dataclass(frozen=True)
class Article:
    """One indexed article, as its chunks' metadata describe it."""

    source: str
    title: str
    publisher: str
    published: str
    author: str
    url: str
    chunk_ids: tuple[str, ...]  # in reading order

    @property
    def label(self) -> str:
        """How an answer names it: the publisher, else the title."""
        return self.publisher or self.title or self.source


@dataclass(frozen=True)
class Snapshot:
    """One consistent view of the collection: readers take `lexicon.snapshot` once and use only that."""

    bm25: SparseBM25 | None
    ids: list[str]
    row: dict[str, int]
    row_source: np.ndarray  # row → index into `sources`
    sources: list[str]
    articles: dict[str, Article]
    words: dict[str, int]  # surface word → number of chunks using it
    names: frozenset[str]  # surface words mostly written with a capital: names ("innodata", "coinmela")
    aliases: dict[str, str]  # tickers the articles give → the name they stand for ("lksp" → "Larkspur Logistics Group")
    generation: str | None
    seconds: float  # how long it took to build

    @staticmethod
    def empty() -> Snapshot:
        return Snapshot(None, [], {}, np.zeros(0, dtype=np.int32), [], {}, {}, frozenset(), {}, None, 0.0)


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


def _rows_with(snap: Snapshot, tokens: Iterable[str]) -> set[int]:
    """The index rows (chunks) that hold every one of `tokens` (none when the index is empty)."""
    if snap.bm25 is None:
        return set()
    m = snap.bm25.matrix
    rows: set[int] | None = None
    for t in tokens:
        col = snap.bm25.vocab.get(t)
        found = set(m.indices[m.indptr[col] : m.indptr[col + 1]].tolist()) if col is not None else set()
        rows = found if rows is None else rows & found
        if not rows:
            break
    return rows or set()


class Lexicon:
    """BM25 mirror, corpus statistics and question normalisation over one Chroma collection."""

    def __init__(
        self,
        collection: Any,
        generation: Callable[[], str],
        *,
        refresh_seconds: float = 1.0,
        inline_build_seconds: float = 1.0,
        page_size: int = 5000,
        english: frozenset[str] = frozenset(),
    ) -> None:
        self.collection = collection
        self.generation = generation
        self.english = english  # words spelling correction leaves alone (the embedding model's whole words)
        self.refresh_seconds = refresh_seconds
        self.inline_build_seconds = inline_build_seconds
        self.page_size = page_size
        self.snapshot = Snapshot.empty()
        self._built = False
        self._lock = threading.Lock()
        self._checked = 0.0
        self._building = False
        self.on_change: list[Callable[[], None]] = []  # called after a new snapshot is swapped in
        self._phrases: dict[tuple, bool] = {}

    # --- the mirror ----------------------------------------------------------------------------------

    def refresh(self, force: bool = False) -> Snapshot:
        """The current snapshot, rebuilt first when the ingest generation changed (or on first use, or forced).

        A first build, a forced one and any that took under `inline_build_seconds` last time run in the caller,
        so a small corpus sees an ingest at once; a slow one runs in a background thread.
        """
        now = time.monotonic()
        if not force and self._built and now - self._checked < self.refresh_seconds:
            return self.snapshot
        with self._lock:
            if not force and self._built and time.monotonic() - self._checked < self.refresh_seconds:
                return self.snapshot  # another request checked meanwhile
            gen = self.generation()
            self._checked = time.monotonic()
            current = self.snapshot
            if not force and self._built and (gen == current.generation or self._building):
                return current
            if force or not self._built or current.seconds < self.inline_build_seconds:
                self._swap(self._build(gen))
                return self.snapshot
            self._building = True

        def build_in_background() -> None:
            try:
                built = self._build(gen)
                with self._lock:
                    self._swap(built)
            except Exception:  # noqa: BLE001 - keep serving the previous snapshot; the next check retries
                log.exception("rebuilding the lexical index failed; serving the previous one")
            finally:
                self._building = False

        threading.Thread(target=build_in_background, name="bm25-rebuild", daemon=True).start()
        return self.snapshot

    def _swap(self, snap: Snapshot) -> None:
        self.snapshot = snap
        self._built = True
        for callback in self.on_change:
            callback()

    def _build(self, gen: str | None) -> Snapshot:
        started = time.perf_counter()
        ids: list[str] = []
        corpus: list[list[str]] = []
        sources: list[str] = []
        source_index: dict[str, int] = {}
        row_source: list[int] = []
        chunks: dict[str, list[tuple[int, str]]] = {}
        meta_of: dict[str, ChunkMetadata] = {}
        words: Counter[str] = Counter()
        capitals: Counter[str] = Counter()  # uses of a word written with a capital
        uses: Counter[str] = Counter()
        aliases: dict[str, str] = {}
        while True:  # in pages: one `get` of everything fails past ~32k chunks (SQLite's variable limit)
            got = self.collection.get(include=["documents", "metadatas"], limit=self.page_size, offset=len(ids))
            if not got["ids"]:
                break
            for cid, doc, meta in zip(got["ids"], got["documents"], got["metadatas"]):
                meta: ChunkMetadata = meta or {}  # type: ignore[assignment] - Chroma returns plain dicts
                ids.append(cid)
                header = f"{meta.get('title', '')} {meta.get('publisher', '')} {meta.get('section', '')}"
                corpus.append(tokenize(f"{header} {doc}"))
                src = str(meta.get("source", ""))
                if src not in source_index:
                    source_index[src] = len(sources)
                    sources.append(src)
                    meta_of[src] = meta
                row_source.append(source_index[src])
                chunks.setdefault(src, []).append((int(meta.get("chunk_index", 0) or 0), cid))
                words.update(set(surface_words(f"{header} {doc}")))
                for m in _TICKER_RE.finditer(doc):
                    parts = m.group("name").split()
                    while len(parts) > 1 and (parts[0].lower() in _LEADING or parts[0].lower() in STOPWORDS):
                        parts = parts[1:]  # "Shares of Larkspur Logistics Group" is Larkspur Logistics Group
                    aliases.setdefault(m.group("ticker").lower(), " ".join(parts))
                for w in _CAP_WORD_RE.findall(normalize(str(meta.get("publisher", "")))):
                    key = w.lower().replace("'", "").replace(".", "")
                    uses[key] += 1  # a publisher's name is a name ("Bayline Financial News")
                    capitals[key] += 1 if w[:1].isupper() or any(c.isupper() for c in w[1:]) else 0
                text = normalize(doc)
                for m in _CAP_WORD_RE.finditer(text):
                    before = text[: m.start()].rstrip()
                    if not before or before[-1] in '.!?:;"“(\n-•*#':
                        continue  # a sentence's first word is capitalised whatever it is
                    w = m.group()
                    key = w.lower().removesuffix("'s").replace("'", "").replace(".", "")
                    uses[key] += 1
                    if w[:1].isupper() or any(c.isupper() for c in w[1:]):
                        capitals[key] += 1
            if len(got["ids"]) < self.page_size:
                break
        articles = {}
        for src in sorted(
            sources, key=lambda s: (str(meta_of[s].get("published", "")), str(meta_of[s].get("title", "")), s)
        ):
            m = meta_of[src]
            articles[src] = Article(
                src,
                str(m.get("title", "")),
                str(m.get("publisher", "")),
                str(m.get("published", "")),
                str(m.get("author", "")),
                str(m.get("url", "")),
                tuple(cid for _, cid in sorted(chunks[src])),
            )
        # A word is a name when most of its uses are written with a capital ("Innodata", "CoinMela", "iShares").
        names = frozenset(w for w, n in capitals.items() if w in words and n >= 0.6 * uses[w])
        snap = Snapshot(
            SparseBM25(corpus) if corpus else None,
            ids,
            {c: i for i, c in enumerate(ids)},
            np.asarray(row_source, dtype=np.int32),
            sources,
            articles,
            dict(words),
            names,
            aliases,
            gen,
            time.perf_counter() - started,
        )
        log.info(
            "lexical index built: %d chunks, %d articles, %d words in %.0f ms",
            len(ids),
            len(articles),
            len(words),
            snap.seconds * 1e3,
        )
        return snap

    # --- statistics ----------------------------------------------------------------------------------

    @property
    def size(self) -> int:
        return len(self.refresh().ids)

    def articles(self) -> list[Article]:
        """The indexed articles, oldest first (then by title)."""
        return list(self.refresh().articles.values())

    def idf(self, token: str) -> float:
        """Inverse document frequency over the chunks; a word the corpus never uses weighs the most."""
        snap = self.refresh()
        if snap.bm25 is None:
            return 1.0
        n, df = len(snap.ids), snap.bm25.doc_freq(token)
        return max(math.log((n - df + 0.5) / (df + 0.5) + 1.0), 0.05)

    def sources_naming(self, forms: list[frozenset[str]]) -> set[str]:
        """The articles with a chunk (or a title) that holds every word of one of a name's forms."""
        snap = self.refresh()
        out: set[str] = set()
        for form in forms:
            out.update(snap.sources[snap.row_source[r]] for r in _rows_with(snap, form))
        return out

    def knows(self, token: str) -> bool:
        """Whether any chunk contains this (tokenized) word."""
        snap = self.refresh()
        return snap.bm25 is not None and snap.bm25.doc_freq(token) > 0

    def bm25(self, weights: dict[str, float], sources: set[str] | None = None) -> tuple[np.ndarray, Snapshot]:
        """BM25 scores of every chunk (zero outside `sources` when given), with the snapshot they index."""
        snap = self.refresh()
        if snap.bm25 is None:
            return np.zeros(0, dtype=np.float32), snap
        scores = snap.bm25.scores(weights)
        if sources is not None:
            allowed = np.array([s in sources for s in snap.sources], dtype=bool)
            scores = np.where(allowed[snap.row_source], scores, 0.0)
        return scores, snap

    def coverage(self, question: str | list[Term], text: str) -> float:
        """IDF-weighted share of the question's content words found in `text` (figures weigh double); a word
        counts as found when one of its forms (abbreviation expansion, synonym at half credit) is there."""
        terms = self.terms(question) if isinstance(question, str) else question
        if not terms:
            return 0.0
        words = set(tokenize(text))
        got = total = 0.0
        for t in terms:
            w = self.idf(t.token) * t.weight
            total += w
            got += w * t.credit(words)
        return got / total if total else 0.0

    # --- question normalisation ----------------------------------------------------------------------

    def correct(self, word: str, *, name: bool) -> str | None:
        """The corpus word a misspelt `word` stands for, or None. Same first letter; one edit (Damerau) for 5–9
        letters, two from 10; a capitalised word is only corrected to a name of the corpus ("Innodatta" →
        "innodata"); never to a word it extends or that extends it ("European" is not "Europe")."""
        snap = self.refresh()
        if len(word) < 5 or not word.isalpha() or not snap.words or word in self.english:
            return None
        limit = 1 if len(word) < 10 else 2
        pool = [
            w for w in (snap.names if name else snap.words) if w[:1] == word[:1] and abs(len(w) - len(word)) <= limit
        ]
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

    def _known(self, surface: str) -> bool:
        return self.knows(stem(NUMBER_WORDS.get(surface, surface)))  # the index holds "Seven" as "7"

    def name_forms(self, name: str) -> list[frozenset[str]]:
        """The token sets a passage may use for a name: its own words, or what its shorthand stands for
        ("UST" → {treasuri}, "Jan CPI" → {januari, consum, price, index, inflat} as well as {jan, cpi})."""
        forms = [frozenset(tokenize(name))]
        core = frozenset(t for t in tokenize(name) if t not in _GENERIC_TAIL)
        if core and core != forms[0]:
            forms.append(core)  # "Japan ETF" is named by a passage about a Japan fund
        words = re.findall(r"[\w&/+-]+", normalize(name))
        aliases = self.refresh().aliases
        for w in words:
            if w.lower() in aliases:  # a ticker: the first word of the company's name names it ("Larkspur")
                forms.append(frozenset(tokenize(aliases[w.lower()])[:1]))
        if any(w.lower() in ABBREVIATIONS for w in words):
            expanded = " ".join(ABBREVIATIONS.get(w.lower(), w) or w for w in words)
            forms.append(frozenset(t for t in tokenize(expanded) if self.knows(t)))
            # and each word either way: "Jan CPI" is named by "January ... CPI"
            mixed = set()
            for w in words:
                own = set(tokenize(w))
                mixed |= (
                    own
                    if own and all(self.knows(t) for t in own)
                    else set(t for t in tokenize(ABBREVIATIONS.get(w.lower(), "") or "") if self.knows(t))
                )
            forms.append(frozenset(mixed))
        return [f for f in forms if f]

    def known_phrase(self, name: str) -> bool:
        """Whether some chunk writes this several-word name as one phrase ("European Central Bank" is not known
        from "European" in one place and "central bank" in another). Spacing, hyphens and joins do not matter:
        "S&P SmallCap 600" is "S&P Small Cap 600". Words the lexicon corrects are corrected first."""
        toks = tokenize(self.normalize(name).corrected)
        while len(toks) > 1 and toks[-1] in _GENERIC_TAIL:
            toks = toks[:-1]  # "Japan ETF", "Tokyo stocks": a name and a common noun, not one name
        if len(toks) < 2:
            return True
        snap = self.refresh()
        key = (snap.generation, tuple(toks))
        cached = self._phrases.get(key)
        if cached is not None:
            return cached
        rows = _rows_with(snap, toks)
        wanted = "".join(toks)
        known = any(wanted in "".join(tokenize(f"{a.publisher} {a.title}")) for a in snap.articles.values())
        if rows and not known:
            got = self.collection.get(ids=[snap.ids[r] for r in sorted(rows)[:20]], include=["documents"])
            known = any(wanted in "".join(tokenize(doc)) for doc in got["documents"])
        if len(self._phrases) > 4096:
            self._phrases.clear()
        self._phrases[key] = known
        return known

    def known_name(self, name: str) -> bool:
        """Whether the articles use every word of a name, allowing for shorthand whose expansion they use
        ("UST" → Treasury), misspellings of their names and names written joined or split."""
        words = [
            w.lower().removesuffix("'s").replace("'", "").replace(".", "")
            for w in _CAP_WORD_RE.findall(normalize(name))
        ]
        for i, w in enumerate(words):
            if w in STOPWORDS or len(w) < 2 or self._known(w):
                continue
            expansion = ABBREVIATIONS.get(w)
            if expansion is not None and (not expansion or any(self.knows(t) for t in tokenize(expansion))):
                continue
            if w in self.snapshot.aliases:
                continue
            if self.correct(w, name=True) or self.correct(w, name=False):
                continue
            neighbours = [words[j] for j in (i - 1, i + 1) if 0 <= j < len(words)]
            if any(self._known(w + o) or self._known(o + w) for o in neighbours):
                continue
            if any(self._known(w[:k]) and self._known(w[k:]) for k in range(3, len(w) - 2)):
                continue
            return False
        return True

    def normalize(self, question: str) -> Normalized:
        """Spelling fixed against the corpus, joined and split names mended, shorthand expanded, synonyms added."""
        snap = self.refresh()
        # "SmallCap600", "S&P500": a name glued to its number.
        text = re.sub(r"(?<![\w&])([A-Za-z&]{2,})(\d{2,})(?!\w)", r"\1 \2", normalize(question))
        corrections: list[tuple[str, str]] = []
        typed = []
        for m in _CAP_WORD_RE.finditer(text):
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
                and self._known(joined)
                and (joined in snap.names or not self._known(low) or not self._known(nxt))
            ):
                fixed[f"{word} {nxt_word}"] = joined
                i += 2
                continue
            if not self._known(low):
                # "smallcap", "SmallCap" → "small cap": two words of the corpus written as one.
                split = next(
                    (
                        (low[:k], low[k:])
                        for k in range(3, len(low) - 2)
                        if self._known(low[:k])
                        and self._known(low[k:])
                        and low[:k] not in STOPWORDS
                        and low[k:] not in STOPWORDS
                    ),
                    None,
                )
                if split:
                    fixed[word] = " ".join(split)
                else:
                    right = self.correct(low, name=word[:1].isupper() or any(c.isupper() for c in word[1:]))
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
            exp = frozenset(t for t in tokenize(expansion) if t != tok and self.knows(t))
            syn = {
                t for word in _SYNONYMS.get(m.group().lower(), ()) for t in tokenize(word) if len(tokenize(word)) == 1
            }
            syn = frozenset(t for t in syn if t != tok and t not in exp and self.knows(t))
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
                exp = [t for t in tokenize(expansion) if self.knows(t) and t not in seen]
                if exp:
                    seen.update(exp)
                    terms.append(Term(exp[0], text[a:b], 1.0, frozenset(exp[1:])))
        return Normalized(dense, terms, corrected=text, corrections=corrections)

    def terms(self, question: str) -> list[Term]:
        return self.normalize(question).terms
