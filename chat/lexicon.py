"""The corpus' words: a BM25 mirror of the Chroma collection (chat.bm25), idf, known words and names, tickers the
articles define, and the catalogue of articles; the normalisation of a question against that vocabulary (spelling,
joined and split names, abbreviations, synonyms) is chat.normalization's, offered here as methods.

    lexicon = Lexicon(collection=store.live(), generation=lambda: generation(store))
    lexicon.terms("how many bps did the Fed cut for Innodatta")   # typed words, corrected, with alternatives
    lexicon.articles()                                           # [Article(source, title, publisher, …)]

One immutable `Snapshot` is rebuilt from Chroma whenever the ingest `generation` stamp changes (checked at most
every `refresh_seconds`) and swapped in one assignment, so readers never see half of one. A slow rebuild (tens of
thousands of chunks) runs in a background thread while queries use the previous snapshot.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import re
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from chat import normalization
from chat.bm25 import SparseBM25
from chat.normalization import CAP_WORD_RE, GENERIC_TAIL, Normalized, Term
from chat.text import NUMBER_WORDS, STOPWORDS, normalize, stem, surface_words, tokenize
from ingest.records import ArticleMetadata, ChunkMetadata

log = logging.getLogger(__name__)

# "Larkspur Logistics Group (NYSE: LKSP)", "the Invesco S&P 500 Equal Weight ETF (RSP)": a ticker and its name.
_TICKER_RE = re.compile(
    r"(?P<name>(?:[A-Z]|[a-z][A-Z])[\w&'’-]*(?:\.[A-Z])*(?:\s+(?:(?:[A-Z]|[a-z][A-Z])[\w&'’-]*(?:\.[A-Z]\.?)*|\d{2,4}|of|&))"
    r"{0,6})\s*\("
    r"(?:(?:NYSE(?: Arca)?|NASDAQ|Nasdaq|AMEX|TSX|LSE|Cboe|TSE|HKEX)\s*:\s*)?(?P<ticker>[A-Z]{2,5})\)"
)


# The fields the chunks of an article share (kept once per article in a snapshot's mirror, unless a chunk differs).
_ARTICLE_FIELDS = frozenset(ArticleMetadata.__annotations__) | {"ingested"}

# fmt: off
_LEADING = {"shares", "share", "stock", "stocks", "units", "of", "company", "companies", "firm", "fund", "funds",
            "index", "like", "such", "as", "including", "rival", "rivals", "peer", "peers", "buy", "sell", "own"}
# fmt: on


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
    ingested: str = ""  # when it was last ingested (ISO 8601 UTC; "" when the index did not record it)

    @property
    def label(self) -> str:
        """How an answer names it: the publisher, else the title."""
        return self.publisher or self.title or self.source


class _Reads:
    """What the lexicon read of one snapshot, kept with it: questions' readings, the sources holding some words,
    known phrases and the squashed catalogue."""

    def __init__(self, snapshot: Snapshot) -> None:
        self.snapshot = snapshot
        self.normalized: dict[str, Normalized] = {}
        self.sources_with: dict[frozenset[str], set[str]] = {}
        self.phrases: dict[tuple[str, ...], bool] = {}  # Lexicon.known_phrase
        self._articles: list[Article] | None = None
        self._titles: str | None = None

    def articles(self) -> list[Article]:
        if self._articles is None:
            self._articles = list(self.snapshot.articles.values())
        return self._articles

    def titles(self) -> str:
        """Every article's publisher and title, each squashed ("thesmallcapreport…"), joined by NULs."""
        if self._titles is None:
            self._titles = "\x00".join("".join(tokenize(f"{a.publisher} {a.title}")) for a in self.articles())
        return self._titles


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
    # The dense side's mirror, row for row: each chunk's stored vector, text and the metadata that is its own (the
    # article's shared fields are kept once, in `article_meta`). Retrieval reads passages from here instead of
    # asking Chroma (whose embedded reads hold the GIL) and scores a few articles' chunks without a filtered query.
    vectors: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros((0, 0), dtype=np.float32))
    texts: list[str] = dataclasses.field(default_factory=list)
    chunk_meta: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    article_meta: dict[str, dict[str, Any]] = dataclasses.field(default_factory=dict)

    @staticmethod
    def empty() -> Snapshot:
        return Snapshot(None, [], {}, np.zeros(0, dtype=np.int32), [], {}, {}, frozenset(), {}, None, 0.0)

    def metadata(self, row: int) -> ChunkMetadata:
        """The chunk's whole metadata record, as Chroma stores it (a new dict: callers may change it)."""
        return {**self.article_meta[self.sources[self.row_source[row]]], **self.chunk_meta[row]}  # type: ignore[return-value]

    def rows_of(self, sources: Iterable[str]) -> list[int]:
        """The rows of these articles' chunks (an unknown source has none)."""
        rows = []
        for src in sources:
            art = self.articles.get(src)
            if art is not None:
                rows.extend(self.row[c] for c in art.chunk_ids)
        return rows

    def rows_with(self, tokens: Iterable[str]) -> set[int]:
        """The index rows (chunks) that hold every one of `tokens` (none when the index is empty)."""
        return self.bm25.rows_with(tokens) if self.bm25 is not None else set()


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
        self._reads: _Reads | None = None  # what was read of the current snapshot (replaced with it)
        self.latest_generation: str | None = None  # the index's generation as last read (see `is_current`)

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
            self.latest_generation = gen
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

    def is_current(self, snap: Snapshot) -> bool:
        """Whether `snap` was built from the index as it was at the last generation check (at most
        `refresh_seconds` ago): false while a rebuild after an ingest is still running in the background."""
        return snap.generation == self.latest_generation

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
        pages: list[np.ndarray] = []
        texts: list[str] = []
        own_meta: list[dict[str, Any]] = []
        article_meta: dict[str, dict[str, Any]] = {}
        while True:  # in pages: one `get` of everything fails past ~32k chunks (SQLite's variable limit)
            got = self.collection.get(
                include=["documents", "metadatas", "embeddings"], limit=self.page_size, offset=len(ids)
            )
            if not got["ids"]:
                break
            pages.append(np.asarray(got["embeddings"], dtype=np.float32))
            for cid, doc, meta in zip(got["ids"], got["documents"], got["metadatas"]):
                meta: ChunkMetadata = meta or {}  # type: ignore[assignment] - Chroma returns plain dicts
                ids.append(cid)
                texts.append(doc)
                header = f"{meta.get('title', '')} {meta.get('publisher', '')} {meta.get('section', '')}"
                corpus.append(tokenize(f"{header} {doc}"))
                src = str(meta.get("source", ""))
                if src not in source_index:
                    source_index[src] = len(sources)
                    sources.append(src)
                    meta_of[src] = meta
                row_source.append(source_index[src])
                shared = article_meta.setdefault(src, {k: v for k, v in meta.items() if k in _ARTICLE_FIELDS})
                own_meta.append({sys.intern(k): v for k, v in meta.items() if k not in shared or shared[k] != v})
                chunks.setdefault(src, []).append((int(meta.get("chunk_index", 0) or 0), cid))
                words.update(set(surface_words(f"{header} {doc}")))
                for m in _TICKER_RE.finditer(doc):
                    parts = m.group("name").split()
                    while len(parts) > 1 and (parts[0].lower() in _LEADING or parts[0].lower() in STOPWORDS):
                        parts = parts[1:]  # "Shares of Larkspur Logistics Group" is Larkspur Logistics Group
                    aliases.setdefault(m.group("ticker").lower(), " ".join(parts))
                for w in CAP_WORD_RE.findall(normalize(str(meta.get("publisher", "")))):
                    key = w.lower().replace("'", "").replace(".", "")
                    uses[key] += 1  # a publisher's name is a name ("Bayline Financial News")
                    capitals[key] += 1 if w[:1].isupper() or any(c.isupper() for c in w[1:]) else 0
                text = normalize(doc)
                for m in CAP_WORD_RE.finditer(text):
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
                str(m.get("ingested", "")),
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
            np.concatenate(pages) if pages else np.zeros((0, 0), dtype=np.float32),
            texts,
            own_meta,
            article_meta,
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
        """The indexed articles, oldest first (then by title): one list per snapshot, shared, so not to be changed
        (the article-reference rules recognise it and read it once)."""
        return self._current().articles()

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
            out.update(snap.sources[snap.row_source[r]] for r in snap.rows_with(form))
        return out

    def sources_with_words(self, tokens: frozenset[str]) -> set[str]:
        """`sources_naming` of one form, kept per snapshot (asked of every question that runs a publisher's words
        together)."""
        reads = self._current()
        found = reads.sources_with.get(tokens)
        if found is None:
            found = self.sources_naming([tokens])
            if len(reads.sources_with) > 1024:
                reads.sources_with.clear()
            reads.sources_with[tokens] = found
        return set(found)

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
            rows = np.asarray(snap.rows_of(sources), dtype=np.int64)
            within = np.zeros_like(scores)
            within[rows] = scores[rows]
            scores = within
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

    # --- the question's words against the corpus' (chat.normalization) ------------------------------------

    def knows_word(self, surface: str) -> bool:
        """Whether any chunk uses this surface word (lowercased, as typed): "Seven" is held as "7"."""
        return self.knows(stem(NUMBER_WORDS.get(surface, surface)))

    def correct(self, word: str, *, name: bool) -> str | None:
        """The corpus word a misspelt `word` stands for, or None (chat.normalization.correct)."""
        return normalization.correct(self, word, name=name)

    def name_forms(self, name: str) -> list[frozenset[str]]:
        """The token sets a passage may use for a name (chat.normalization.name_forms)."""
        return normalization.name_forms(self, name)

    def known_name(self, name: str) -> bool:
        """Whether the articles use every word of a name (chat.normalization.known_name)."""
        return normalization.known_name(self, name)

    def _current(self) -> _Reads:
        """What was read of the current snapshot; a new, empty one when the snapshot was replaced."""
        snap = self.refresh()
        reads = self._reads
        if reads is None or reads.snapshot is not snap:
            reads = self._reads = _Reads(snap)
        return reads

    def normalize(self, question: str) -> Normalized:
        """The question made to meet the corpus' vocabulary (chat.normalization.normalize_question); read once per
        question and snapshot (an answer reads its question's terms several times), a fresh copy each."""
        reads = self._current()
        done = reads.normalized.get(question)
        if done is None:
            done = normalization.normalize_question(self, question)
            if len(reads.normalized) > 4096:
                reads.normalized.clear()
            reads.normalized[question] = done
        return dataclasses.replace(done, terms=list(done.terms), corrections=list(done.corrections))

    def terms(self, question: str) -> list[Term]:
        return self.normalize(question).terms

    def known_phrase(self, name: str) -> bool:
        """Whether some chunk writes this several-word name as one phrase ("European Central Bank" is not known
        from "European" in one place and "central bank" in another). Spacing, hyphens and joins do not matter:
        "S&P SmallCap 600" is "S&P Small Cap 600". Words the lexicon corrects are corrected first."""
        toks = tokenize(self.normalize(name).corrected)
        while len(toks) > 1 and toks[-1] in GENERIC_TAIL:
            toks = toks[:-1]  # "Japan ETF", "Tokyo stocks": a name and a common noun, not one name
        if len(toks) < 2:
            return True
        reads = self._current()
        snap, key = reads.snapshot, tuple(toks)
        cached = reads.phrases.get(key)
        if cached is not None:
            return cached
        rows = snap.rows_with(toks)
        wanted = "".join(toks)
        known = wanted in reads.titles()
        if rows and not known:
            got = self.collection.get(ids=[snap.ids[r] for r in sorted(rows)[:20]], include=["documents"])
            known = any(wanted in "".join(tokenize(doc)) for doc in got["documents"])
        if len(reads.phrases) > 4096:
            reads.phrases.clear()
        reads.phrases[key] = known
        return known
