"""The extractive answerer: answers with the articles' own sentences, chosen the way the question type needs.

    answerer = ExtractiveAnswerer(embed, lexicon, embed_query=retriever.embed_query)
    draft = answerer.draft(question, evidence)      # a Draft of cited claims, checked next by chat.verify

Every sentence is scored against the question (chat.policy: MiniLM cosine, IDF-weighted word coverage with
abbreviations and synonyms, a figure bonus, the article's own FAQ, retrieval rank), then:
- fact / explanation: the best sentence and those close to it, the next sentence when it completes a figure
  or name, and the best sentence of another article that also answers;
- list: the names of the asked kind (funds, indices, companies, people, sectors, countries) in the best
  sentences that hold any, one bullet per sentence, each cited;
- summary: the article's own key-takeaway bullets when it opens with them, otherwise its most central
  sentences (LexRank over sentence embeddings, with a lead and title prior), in reading order;
- comparison: the best sentences of each side, grouped under the side;
- points: distinct sentences across passages (MMR), with risk or driver words counted for "what could go
  wrong" / "what is driving" questions and sentences about a risk going away held back;
- advice: what the articles tell investors to do or weigh (words of guidance count) and the facts around it,
  plus a note that this is not investment advice;
- a comparison of articles: each article's own answer to the question, grouped under the article.
Nothing is written that is not in an article, apart from the framing line and notes (no figures in them).
"""

from __future__ import annotations

import dataclasses
import logging
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
from langchain_core.documents import Document

from chat.embeddings import EmbeddingCache
from chat.evidence import Evidence, article_label
from chat.glossary import (
    ADVICE_WORDS,
    CAUSAL_WORDS,
    COUNTRIES,
    DRIVER_WORDS,
    FIGURE_METRICS,
    LIST_KINDS,
    METRICS,
    RISK_REMOVED_WORDS,
    RISK_WORDS,
    ROLES,
    SECTORS,
)
from chat.lexicon import Lexicon
from chat.policy import POLICY, Policy
from chat.questions import (
    ADVICE,
    COMPARISON,
    EXPLANATION,
    FACT,
    LIST,
    POINTS,
    SUMMARY,
    Question,
    dimension_of,
    metrics_of,
    topic_of,
)
from chat.schema import Claim, Draft
from chat.text import NUMBER_WORDS, STOPWORDS, is_injection, name_spans, normalize, split_sentences, stem, tokenize
from chat.verify import extract_numbers

log = logging.getLogger(__name__)

_FIGURE_QUESTION = re.compile(
    r"\b(?:how (?:much|many|big|large|high|low|long|far|fast|cheap|expensive)|what (?:percentage|percent|share|"
    r"level|rate|price|multiple|ratio|yield|number|amount|figure|size|value|return|margin|growth)|by how much|"
    r"what (?:was|is|were|are) the (?:\w+ ){0,3}(?:rate|price|level|yield|ratio|multiple|return|growth|margin|size|"
    r"value|amount|number|share|percentage|target|estimate|forecast|discount|premium|gap|spread|count))\b", re.I)
_NUMBER = re.compile(r"\d")
_TAKEAWAYS = re.compile(r"\b(?:key (?:takeaways?|points|facts)|takeaways|highlights|at a glance|in brief|summary|"
                        r"tl;?dr|what (?:you need|to know)|the bottom line|quick take)\b", re.I)
_LABELLED = re.compile(r"^(?P<label>[A-Z][\w&'’/ .-]{1,40}?):\s+(?P<rest>\S.*)$")
_ENUMERATED = re.compile(r"^(?:First|Second|Third|Fourth|Fifth|Finally|Lastly|Another|Also|Additionally|In addition|"
                         r"Moreover|Furthermore|On top of that|Beyond that|Next|Then|Meanwhile|A (?:second|third|final))"
                         r"\b", re.I)
_NUMBERED = re.compile(r"^\s*\d{1,2}[.)]\s")
# The items of a list an article counts out in prose.
_ORDINAL = re.compile(r"^(?:First|Firstly|Second|Secondly|Third|Thirdly|Fourth|Fifth|Finally|Lastly)\b,?")
# What the extractive scorer knows about a sentence (chat.policy holds one weight per feature, fitted on dev).
FEATURES = (
    "cosine",         # MiniLM cosine of question and sentence
    "coverage",       # IDF-weighted share of the question's words (with shorthand, synonyms) in the sentence
    "passage_cosine", # MiniLM cosine of question and the sentence's passage (retrieval's dense score)
    "passage_rank",   # 1 / retrieval rank of the passage
    "figure",         # the question asks for a figure and the sentence holds one
    "faq",            # cosine of the question and the article's FAQ question this sentence answers
    "risk",           # risk words minus risk-going-away words, for "what could go wrong" questions
    "driver",         # driver words, for "what is driving" / several-points questions
    "enumerated",     # a bullet, "First, … / Another …", or under a numbered heading: an item of a list of points
    "heading",        # MiniLM cosine of question and the heading the sentence sits under
    "causal",         # because / as a result / which means…, for why and how questions
    "names",          # share of the question's names the sentence uses
    "named_article",  # the sentence is from an article the question names
    "figure_near",    # the question asks for a figure: the share of its words next to a figure of the sentence
    "advice",         # words of guidance (consider, cautioned against, look for, rather than…), for "should I…"
)


@dataclass
class Unit:
    """One sentence of a passage, with where it sits."""

    n: int  # passage number (1-based)
    paragraph: int
    position: int  # sentence index within the passage
    text: str
    asked: str  # the FAQ question ("Q: …?") that this sentence's paragraph answers, if any
    bullet: bool
    heading: str  # the heading it sits under in its passage ("" before the first)
    source: str
    order: tuple[int, int]  # (chunk index, position): reading order within the article
    table: str = ""  # a table row: its first cell (the row's name)
    # The names a sentence that opens with a pronoun refers to ("Its backlog reached a record $3.4 billion." after
    # "Brightwater Industrial (BWTR) … trades at 13.2 times …"): the previous sentence's names, same paragraph.
    context: str = ""
    item: int = -1  # a bullet: its line in the paragraph (the item of the list it belongs to)


# Who a paragraph quotes: '"…," Okonkwo said.', 'said Elena Vasquez, senior REIT analyst', 'according to Rao'.
_SPEAKER = re.compile(r"(?:[,.!?]['\"”’]\s+|\b(?:according to)\s+)(?P<a>[A-Z][\w'’-]+(?:\s+[A-Z][\w'’-]+){0,2})"
                      r"(?=\s+(?:said|says|added|adds|noted|notes|wrote|writes|argued|argues|explained|warned|told)\b|[,.])"
                      r"|\b(?:said|says|added|noted|wrote|argued|explained|warned)\s+(?P<b>[A-Z][\w'’-]+(?:\s+[A-Z][\w'’-]+){0,2})")
_QUOTE = re.compile(r"[\"“”]")
# A sentence that opens like this speaks of what the sentence before it named.
_ANAPHOR = re.compile(r"^(?:It|Its|It's|He|She|His|Her|They|Their|Them|This|These|That|Those|The (?:company|firm|"
                      r"group|stock|shares|fund|bank|index|lender|insurer|carmaker|automaker|central bank|ETF|REIT|"
                      r"trust|economist|analyst|strategist|chain|retailer|producer|kingdom|country|agency)(?:'s|’s)?)\b")


def _cells(line: str) -> list[str]:
    return [c.strip().replace("**", "") for c in line.strip().strip("|").split("|")]


def table_rows(block: str) -> list[tuple[int, tuple[str, str]]]:
    """The data rows of a Markdown table in a block of lines: (line number, (first cell, the row as a sentence
    that names each value by its column: "VICI Properties: Ticker VICI; Dividend yield 5.8%.")). The header is
    the row above the last |---| separator; a table cut off by a chunk boundary has none, so cells are joined."""
    out = []
    header: list[str] = []
    lines = block.splitlines()
    for i, line in enumerate(lines):
        if not line.lstrip().startswith("|"):
            header = []
            continue
        cells = _cells(line)
        if all(re.fullmatch(r":?-{2,}:?", c) for c in cells if c):
            header = _cells(lines[i - 1]) if i and lines[i - 1].lstrip().startswith("|") else []
            continue
        if i + 1 < len(lines) and re.fullmatch(r"\s*\|?(?:\s*:?-{2,}:?\s*\|)+\s*:?-*:?\s*\|?\s*", lines[i + 1]):
            continue  # a header row
        values = [c for c in cells if c]
        if len(values) < 2:
            continue
        if header and len(header) == len(cells):
            parts = [f"{h} {v}" for h, v in zip(header[1:], cells[1:]) if v and h]
            text = f"{cells[0]}: " + "; ".join(parts) + "."
        else:
            text = " | ".join(values) + "."
        out.append((i, (cells[0], text)))
    return out


def passage_units(n: int, doc: Document) -> list[Unit]:
    """Answerable sentences of a passage: no headings, no questions, no fragments; FAQ answers know their Q."""
    units: list[Unit] = []
    asked = ""
    heading = str(doc.metadata.get("section", "") or "")  # the heading the chunk starts under
    source = str(doc.metadata.get("source", ""))
    chunk = int(doc.metadata.get("chunk_index", 0) or 0)
    for para_no, para in enumerate(re.split(r"\n\s*\n", doc.page_content)):
        previous = ""  # the names of the previous sentence of this paragraph (for the next one's pronoun)
        para = para.strip()
        # The words of a quotation belong to whoever the paragraph says spoke them.
        speakers = " ".join(dict.fromkeys(m.group("a") or m.group("b") for m in _SPEAKER.finditer(para)))
        if not para:
            continue
        if re.match(r"^#{1,6}\s", para):
            heading = re.sub(r"^#{1,6}\s+", "", para.splitlines()[0]).strip()
            para = "\n".join(para.splitlines()[1:]).strip()
            if not para:
                continue
        if para.endswith("?") and "\n" not in para:  # an FAQ question line: remember it for the answer below
            asked = re.sub(r"^\s*(?:\*\*)?Q:?\s*(?:\*\*)?\s*", "", para)
            continue
        rows = dict(table_rows(para))
        for line_no, line in enumerate(para.splitlines()):
            if line_no in rows:  # a table row, read with its header: "VICI Properties: Dividend yield 5.8%; …"
                label, text = rows[line_no]
                units.append(Unit(n, para_no, len(units), text, asked, False, heading, source, (chunk, len(units)),
                                  table=label))
                continue
            if line.lstrip().startswith("|"):
                continue  # a header or separator row
            # A bullet, a numbered item, or a paragraph run in with a bold label ("**Automation.** Robotic …").
            bullet = bool(re.match(r"^\s*(?:[-*•]\s+|\d{1,2}[.)]\s+|\*\*[^*]{2,60}\*\*[.:]?\s)", line))
            line = re.sub(r"^\s*(?:[-*•]\s+|\d{1,2}[.)]\s+|(?:\*\*)?[QA]:(?:\*\*)?\s+)", "", line)
            # "**Automation.** Robotic picking …" reads "Automation: Robotic picking …" (the label is the point)
            line = re.sub(r"^\*\*([^*]{2,60}?)[.:]?\*\*[.:]?\s+", r"\1: ", line)
            line = line.replace("**", "")
            in_quote = False
            for sentence in split_sentences(line):
                sentence = sentence.strip()
                # A lowercase start is a fragment whose subject was a link the capture lost ("and other analysts
                # point out that small caps are more reliant on floating-rate debt…"): kept when long enough to
                # say something. A line with fewer than three lowercase words is a byline, a
                # dateline or a caption ("Hiroshi Tanabe, Tokyo — March 19, 2026.").
                if sentence[:1].islower() and len(sentence.split()) < 8:
                    continue  # kept verbatim when longer: an answer quotes the passage exactly
                context = previous if _ANAPHOR.match(sentence) else ""
                if speakers and (_QUOTE.search(sentence) or in_quote):
                    context = f"{context} {speakers}".strip()
                in_quote = (len(_QUOTE.findall(sentence)) % 2 == 1) != in_quote  # a quotation goes on
                names = " ".join(name.text for name in name_spans(sentence)[:4])
                previous = names or context
                if (len(sentence.split()) >= 5 and not sentence.endswith("?") and not is_injection(sentence)
                        and len(re.findall(r"\b[a-z]{3,}\b", sentence)) >= 3):
                    units.append(Unit(n, para_no, len(units), sentence, asked, bullet, heading, source,
                                      (chunk, len(units)), context=context, item=line_no if bullet else -1))
        asked = ""
    return units


def _phrase_in(phrase: str, text: str) -> bool:
    return re.search(rf"(?<![\w-]){re.escape(phrase)}(?![\w-])", text) is not None


def cue_share(text: str, words: tuple[str, ...]) -> float:
    """How many of the cue words or phrases a sentence uses (0, then 1, 2, 3+ → up to 1)."""
    low = " " + normalize(text).lower() + " "
    return min(1.0, sum(1 for w in words if _phrase_in(w, low)) / 2)


def figure_near(terms: list, text: str, idf, window: int = 4) -> float:
    """The IDF-weighted share of the question's words found within `window` content words of one figure of the
    sentence (the best figure): the figure a question asks for sits next to its words ("How much did the 2y yield
    jump…" — "The two-year Treasury yield jumped 14 basis points"), not next to other words of its story ("The
    headline index rose 0.5%")."""
    tokens = tokenize(text)
    spots = [i for i, t in enumerate(tokens) if t[0].isdigit()]
    asked = [(t, idf(t.token) * t.weight) for t in terms if not t.token[0].isdigit()]
    total = sum(w for _, w in asked)
    if not spots or total <= 0:
        return 0.0
    best = 0.0
    for i in spots:
        near = set(tokens[max(0, i - window): i + window + 1])
        best = max(best, sum(w * t.credit(near) for t, w in asked) / total)
    return best


def term_named(t, words: set[str]) -> bool:
    """Whether a text's words name a question word: itself, a synonym, or most of what its shorthand stands for
    ("SPX" is named by "S&P 500", not by the "S&P" of "S&P SmallCap 600")."""
    if t.token in words or t.synonyms & words:
        return True
    if len(t.expansions) > 1:
        return 2 * len(t.expansions & words) > len(t.expansions)
    return bool(t.expansions & words)


# --- list items ------------------------------------------------------------------------------------

_EXCHANGES = {"NYSE", "Nasdaq", "NASDAQ", "NYSE Arca", "LSE", "TSX", "AMEX", "Cboe", "TSE", "HKEX"}
_GENERIC = {"etf", "etfs", "fund", "funds", "index", "indic", "exchang", "trade", "trust", "stock", "share",
            "compani", "firm", "sector", "market", "ai", "ipo", "the", "us", "u.s", "ceo", "new", "york"}
_NOT_COMPANY = {"feder", "reserv", "fed", "treasuri", "congress", "senat", "white", "hous", "governor", "central",
                "bank", "ministri", "govern", "depart", "offic", "commiss", "sec", "imf", "opec", "magnific", "seven",
                "wall", "street", "journal", "barron", "reuter", "bloomberg", "cnbc", "presid", "chairman"}
_ORG_WORDS = _NOT_COMPANY | {"etf", "fund", "index", "inc", "corp", "group", "capit", "advisor", "partner", "research",
                             "asset", "manag", "secur", "invest", "llc", "ltd", "plc", "co", "associ", "market"}


# Capitalised words that open sentences and name nothing ("Another option is Innodata").
_OPENERS = {"another", "additionally", "alternatively", "however", "meanwhile", "although", "though", "still", "yet",
            "instead", "overall", "moreover", "furthermore", "nonetheless", "similarly", "likewise", "indeed", "today",
            "yesterday", "last", "next", "first", "second", "third", "finally", "one", "two", "three", "several",
            "many", "most", "some", "such", "these", "those", "this", "that", "each", "every", "both", "shares",
            "investors", "analysts", "traders", "companies", "stocks", "its", "their", "while", "when", "since",
            "after", "before", "despite", "unlike", "like", "according", "as", "in", "on", "at", "for", "with"}


def list_items(text: str, kind: str, exclude: set[tuple[str, ...]], names: frozenset[str] = frozenset(),
               names_ok: frozenset[str] = frozenset()) -> list[str]:
    """The names of `kind` in a sentence ("fund", "index", "company", "person", "sector", "country"). A sentence's
    capitalised first word counts only when the corpus writes it with a capital elsewhere (`names`)."""
    low = " " + normalize(text).lower() + " "
    if kind in ("sector", "country"):
        table = SECTORS if kind == "sector" else COUNTRIES
        found = [w for w in sorted(table, key=len, reverse=True) if _phrase_in(w, low)]
        out: list[str] = []
        for w in found:
            if not any(w in longer for longer in out) and tuple(tokenize(w)) not in exclude:
                m = re.search(rf"(?<![\w-]){re.escape(w)}(?![\w-])", normalize(text), re.I)
                if kind == "country" and w == "us" and (not m or m.group() != "US"):
                    continue
                out.append(m.group() if m else w)
        return sorted(out, key=lambda x: normalize(text).lower().find(x.lower()))  # in reading order
    marks = set(LIST_KINDS.get(kind, {}).get("marks", ()))
    sentence_words = set(re.findall(r"[a-z]+", low))
    items = []
    if kind == "institution":  # "Brazil's central bank" is named by its country
        items += [m.group(0) for m in re.finditer(r"\b[A-Z][a-z]+(?:'s|’s)\s+central\s+bank\b", text)]
    for name in name_spans(text, title_case_ok=True):
        if name.start == 0 and names:
            first, _, rest = name.text.partition(" ")
            low = first.lower().removesuffix("'s")
            camel = any(c.isupper() for c in first[1:])  # "WisdomTree", "iShares": a name wherever it stands
            if low not in names and not camel and (not rest or low in _OPENERS or low.endswith("ly")
                                                   or low in STOPWORDS):
                if not rest:
                    continue  # "Alternatively", "Another": capitalised only because a sentence starts there
                name = dataclasses.replace(name, text=rest, tokens=tuple(tokenize(rest)), start=len(first) + 1)
        after = text[name.start + len(name.text):name.start + len(name.text) + 2] if name.start >= 0 else ""
        if after.startswith(":") and name.start <= 4:
            continue  # a run-in label ("The Headwind: When rates rose…"), not a name
        if re.search(rf"[\"“]{re.escape(name.text)}[\"”]", text) and " " not in name.text:
            continue  # a term the sentence defines ('A "Small-Cap" stock generally refers to…')
        clean = re.sub(r"^(?:of|and|the|for|&)\s+", "", name.text)
        clean = re.sub(r"\s*\b[\w-]+-based$", "", clean).strip()
        if clean != name.text:
            if not clean:
                continue
            name = dataclasses.replace(name, text=clean, tokens=tuple(tokenize(clean)))
        toks = set(name.tokens)
        if (tuple(name.tokens) in exclude or not (toks - _GENERIC) or any(set(e) == toks for e in exclude if e)
                or name.text in _EXCHANGES or (re.fullmatch(r"[A-Z]{1,5}", name.text) and kind != "fund")
                or (re.search(r"\d", name.text) and kind not in ("fund", "index"))):
            continue
        words = set(re.findall(r"[a-z&]+", name.text.lower()))
        is_fund = bool(words & {"etf", "fund", "trust", "spdr"}) or (words & {"ishares", "vanguard", "invesco"} and len(words) > 1)
        is_index = not is_fund and bool(words & {"index", "russell", "s&p", "nasdaq", "dow", "nikkei", "topix", "ftse",
                                                 "msci", "stoxx", "dax", "kospi", "composite"})
        parts = name.text.split()
        is_person = (not is_fund and not is_index and 2 <= len(parts) <= 4
                     and all(p[:1].isupper() and p[1:].islower() for p in parts if p.isalpha())
                     and not (toks & _ORG_WORDS) and bool(sentence_words & set(LIST_KINDS["person"]["marks"])))
        if kind == "fund" and is_fund:
            items.append(name.text)
        elif kind == "index" and is_index:
            items.append(name.text)
        elif kind == "person" and is_person:
            items.append(name.text)
        elif kind == "institution" and not is_person and (words & marks):
            items.append(name.text)
        elif kind == "named" and not (is_person or is_index) and not (toks & _NOT_COMPANY) and (
                len(parts) >= 2 or (parts and parts[0] in names_ok)):
            items.append(name.text)  # "Contract Logistics", "Final Mile": named things of the asked kind
        elif kind == "company" and not (is_fund or is_index or is_person) and not (toks & _NOT_COMPANY) \
                and not any(name.text.lower() == s for s in SECTORS + COUNTRIES) and len(name.text) > 2 \
                and (sentence_words & (set(marks) | {"company", "companies", "provider", "maker", "firm", "stock",
                                                      "shares", "specializing", "contender", "option", "pick",
                                                      "lender", "bank", "producer", "miner", "operator", "reit",
                                                      "owner", "developer", "group", "brand", "retailer", "name",
                                                      "names", "including", "such", "like", "rose", "fell", "jumped",
                                                      "gained", "climbed", "slid", "dropped", "rallied", "led"})
                     or re.search(rf"{re.escape(name.text)}\s*\((?:NYSE|NASDAQ|Nasdaq|TSX|LSE)?:?\s*[A-Z]{{1,5}}\)", text)):
            items.append(name.text)
    return list(dict.fromkeys(items))


# --- the answerer ----------------------------------------------------------------------------------


class ExtractiveAnswerer:
    """Drafts answers from the evidence's own sentences; deterministic, offline, nothing invented."""

    mode = "extractive"
    live = False  # nothing worth streaming before verification

    def __init__(self, embed: EmbeddingCache, lexicon: Lexicon, *,
                 embed_query: Callable[[str], np.ndarray] | None = None, policy: Policy = POLICY) -> None:
        self.embed = embed
        self.lexicon = lexicon
        self.embed_query = embed_query or (lambda q: np.asarray(embed.embeddings.embed_query(q), dtype=np.float32))
        self.policy = policy

    # --- scoring ---------------------------------------------------------------------------------------

    def features(self, q: Question, units: list[Unit], passages: list[Document],
                 query: str | None = None) -> tuple[np.ndarray, np.ndarray]:
        """The FEATURES of each unit (rows) for answering `q`, and the unit vectors."""
        qvec = self.embed_query(query or q.normalized.text)
        asked = sorted({u.asked for u in units if u.asked})
        headings = sorted({u.heading for u in units if u.heading})
        vecs = self.embed([u.text for u in units] + asked + headings)
        unit_vecs = vecs[: len(units)]
        sims = unit_vecs @ qvec
        qsims = dict(zip(asked, vecs[len(units):len(units) + len(asked)] @ qvec))
        hsims = dict(zip(headings, vecs[len(units) + len(asked):] @ qvec))
        terms = q.normalized.terms if query is None else self.lexicon.terms(query)
        wants_figure = bool(_FIGURE_QUESTION.search(q.text)) or q.metric is not None
        named = [forms for forms in (self.lexicon.name_forms(n.text) for n in q.names if n.text not in q.unknown) if forms]
        sources = q.sources
        dated = {a.source for a in q.dated}
        X = np.zeros((len(units), len(FEATURES)), dtype=np.float32)
        for i, (u, sim) in enumerate(zip(units, sims)):
            meta = passages[u.n - 1].metadata
            words = set(tokenize(f"{u.text} {u.context}"))
            headed = f"{u.heading}. {u.text}"  # cue words count in the section heading too
            X[i] = (
                float(sim),
                self.lexicon.coverage(terms, f"{u.text} {u.context}" if u.context else u.text),
                float(meta.get("dense_score", 0.0) or 0.0),
                1.0 / float(meta.get("rank", u.n) or u.n),
                1.0 if wants_figure and _NUMBER.search(u.text) else 0.0,
                float(qsims.get(u.asked, 0.0)) if u.asked else 0.0,
                # (a sentence under a heading of risks or drivers — "Risks", "What drove the quarter" — is one)
                (cue_share(headed, RISK_WORDS) - 2 * cue_share(u.text, RISK_REMOVED_WORDS)
                 if q.risk else 0.0),
                # (a sentence under a heading of risks — "What could derail the rally" — is not a driver, though
                # it is worth weighing for a "should I…" question)
                (cue_share(headed, DRIVER_WORDS)
                 - (2 * cue_share(u.heading, RISK_WORDS) if q.type == POINTS else 0.0)
                 if q.type in (POINTS, ADVICE) and not q.risk else 0.0),
                1.0 if u.bullet or _ENUMERATED.match(u.text) or _NUMBERED.match(u.heading) else 0.0,
                float(hsims.get(u.heading, 0.0)),
                cue_share(u.text, CAUSAL_WORDS) if q.type == EXPLANATION else 0.0,
                sum(any(f <= words for f in forms) for forms in named) / len(named) if named else 0.0,
                1.0 if (sources and u.source in sources) or u.source in dated else 0.0,
                figure_near(terms, u.text, self.lexicon.idf) if wants_figure else 0.0,
                cue_share(headed, ADVICE_WORDS) if q.type == ADVICE else 0.0,
            )
        return X, unit_vecs

    def score(self, q: Question, units: list[Unit], passages: list[Document],
              query: str | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Each unit's probability of answering `q` (logistic over FEATURES, weights in chat.policy), and the unit
        vectors."""
        X, vecs = self.features(q, units, passages, query)
        z = self.policy.intercept + X @ np.asarray(self.policy.weights, dtype=np.float32)
        return (1.0 / (1.0 + np.exp(-z))).astype(np.float32), vecs

    def units(self, q: Question, passages: list[Document], numbers: list[int] | None = None) -> list[Unit]:
        """The sentences of the passages (only of `numbers` when given) that may answer `q`: a question that
        names things the corpus knows is answered only from passages that name enough of them."""
        # A comparison's sides are filtered by side (chat.extractive.comparison), not by all of its names.
        named = [] if numbers is not None else [self.lexicon.name_forms(n.text) for n in q.names
                                                if n.text not in q.unknown]
        named = [forms for forms in named if forms]
        out = []
        for n, doc in enumerate(passages, 1):
            if numbers is not None and n not in numbers:
                continue
            if named:
                words = set(tokenize(" ".join([doc.page_content, doc.metadata.get("title", ""),
                                               doc.metadata.get("publisher", "")])))
                share = sum(any(form <= words for form in forms) for forms in named) / len(named)
                if share < self.policy.name_share:
                    continue
            out.extend(passage_units(n, doc))
        return out

    # --- drafts by type ----------------------------------------------------------------------------------

    def draft(self, q: Question, evidence: Evidence) -> Draft:
        if not evidence.passages:
            return Draft([])
        if q.type == SUMMARY and evidence.articles:
            return self.summary(q, evidence)
        if q.type == COMPARISON and evidence.sides and not (q.sides and self._faq_answers(q, evidence)):
            return self.comparison(q, evidence)
        if q.type == LIST and q.list_kind:
            draft = self.listing(q, evidence)
            if draft.claims or draft.unlisted:
                return draft
        if q.type in (POINTS, ADVICE, SUMMARY) and not (q.type != SUMMARY and self._faq_answers(q, evidence)):
            return self.points(q, evidence)
        # (An article that asks this very question in its FAQ answers it there, in one paragraph: the facts path
        # takes that paragraph whole.)
        return self.facts(q, evidence)

    def stream(self, q: Question, evidence: Evidence) -> Iterator[str]:
        """The draft as text with [n] markers (what a generative answerer would have written)."""
        for claim in self.draft(q, evidence).claims:
            yield f"{claim.text} [{claim.n}] "

    def _faq_answers(self, q: Question, evidence: Evidence) -> bool:
        """Whether an article asks this very question in its FAQ (its answer paragraph is then the answer)."""
        return self._faq_match(q, self.units(q, evidence.passages)) is not None

    def _faq_match(self, q: Question, units: list[Unit]) -> str | None:
        """The FAQ question of these units closest to `q`, when it is this very question (cosine ≥ faq_match)."""
        asked = sorted({u.asked for u in units if u.asked})
        if not asked:
            return None
        sims = self.embed(asked) @ self.embed_query(q.normalized.text)
        best = int(np.argmax(sims))
        return asked[best] if float(sims[best]) >= self.policy.faq_match else None

    def facts(self, q: Question, evidence: Evidence) -> Draft:
        """The best sentence and those nearly as likely to answer, the next sentence when it completes a figure or
        name the question asks about, and the best sentence of another article that also answers. A question
        that asks two things ("What are its net assets, and what's its expense ratio?") is answered part by part."""
        parts = split_parts(q.text) if q.two_part else []
        if len(parts) < 2 or self._faq_answers(q, evidence):
            return self._facts(q, evidence)  # (an article that asks the whole question answers both parts)
        subject = " ".join(n.text for n in q.names)
        claims: list[Claim] = []
        for part in parts:
            text = part if not subject or subject.lower() in part.lower() else f"{part} ({subject})"
            sub = dataclasses.replace(q, text=text, normalized=self.lexicon.normalize(text), two_part=False,
                                      type=EXPLANATION if _EXPLAIN_PART.match(part) else FACT)
            for claim in self._facts(sub, evidence).claims:
                if claim.text not in {c.text for c in claims}:
                    claims.append(claim)
        claims.sort(key=lambda c: (c.n or 0))
        return Draft(claims[: self.policy.max_sentences + 2])

    def _facts(self, q: Question, evidence: Evidence, numbers: list[int] | None = None) -> Draft:
        p = self.policy
        units = self.units(q, evidence.passages, numbers)
        if not units:
            return Draft([])
        scores, vecs = self.score(q, units, evidence.passages)
        top = int(np.argmax(scores))
        best = float(scores[top])
        if best < p.min_probability:
            return Draft([])
        max_sentences = p.max_sentences
        match = self._faq_match(q, units)
        if match is not None:
            # The article asks this very question in its FAQ: its answer paragraph is the answer, whole, whether
            # or not its sentences score best on their own.
            top = max((i for i, u in enumerate(units) if u.asked == match), key=lambda i: scores[i])
            same = [i for i, u in enumerate(units) if (u.n, u.paragraph) == (units[top].n, units[top].paragraph)]
            scores[same] = np.maximum(scores[same], best)
            max_sentences = max(max_sentences, len(same))
        chosen: list[int] = []
        words = 0

        def take(i: int) -> None:
            nonlocal words
            if any(float(vecs[i] @ vecs[j]) > p.duplicate_cosine for j in chosen):
                return  # the same fact twice (overlapping chunks, both articles) reads badly
            length = len(units[i].text.split())
            if chosen and words + length > p.max_words:
                return
            chosen.append(i)
            words += length

        ratio = p.explanation_ratio if q.type == EXPLANATION else p.fact_ratio
        order = [int(i) for i in np.argsort(-scores)]
        for i in order:
            if len(chosen) >= max_sentences or scores[i] < max(p.min_probability, ratio * best):
                break
            take(i)
        # The sentence right after the best one, when it holds a figure or name of the question that none of
        # the chosen ones has: "... trades at 15.6 times 2026 earnings." + "In stark contrast, the S&P 500
        # trades at 22.6 times." (a plain word such as "compared" is not enough).
        wanted = {t.token for t in q.normalized.terms if t.token[0].isdigit()} | {t for n in q.names for t in n.tokens}
        have = set().union(*(set(tokenize(units[i].text)) for i in chosen)) if chosen else set()
        for i, u in enumerate(units):
            if ((u.n, u.paragraph, u.position) == (units[top].n, units[top].paragraph, units[top].position + 1)
                    and i not in chosen and len(chosen) < max_sentences and (set(tokenize(u.text)) & wanted) - have):
                take(i)
        # The sentence after the best one goes on with its point ("… gives less weight to shelter." + "She
        # expects the index to rise 0.3% on core."), when it is itself likely enough, or when it goes on with
        # the best one's quotation ('"…," said Achterberg.' + '"Now both are buying at once."').
        for i, u in enumerate(units):
            if ((u.n, u.paragraph, u.position) == (units[top].n, units[top].paragraph, units[top].position + 1)
                    and i not in chosen and len(chosen) < max_sentences
                    and (scores[i] >= p.next_ratio * best or _continues_quote(units[top].text, u.text))):
                take(i)
        # The best sentence of each other article that also speaks to the question, so that a question both
        # articles answer is not answered from one of them only.
        covered = {units[i].source for i in chosen}
        for i in order:
            if len(chosen) >= max_sentences or scores[i] < max(p.min_probability, p.cross_ratio * best):
                break
            if units[i].source not in covered:
                take(i)
                covered.add(units[i].source)
        chosen.sort(key=lambda i: (units[i].n, units[i].position))
        return Draft([Claim(units[i].text, units[i].n, score=float(scores[i])) for i in chosen])

    def listing(self, q: Question, evidence: Evidence) -> Draft:
        """One bullet per sentence that names things of the asked kind, the names first."""
        p = self.policy
        units = self.units(q, evidence.passages)
        if not units:
            return Draft([])
        scores, vecs = self.score(q, units, evidence.passages)
        exclude = {n.tokens for n in q.names}
        names = self.lexicon.refresh().names
        items = [[u.table] if u.table and u.table[:1].isupper() and not re.search(r"\d", u.table)
                 else list_items(u.text, q.list_kind or "", exclude, names) for u in units]
        # People the question names: "Peter Roy", or "Pryce" when the articles call someone "Dana Pryce".
        persons = {span.text for u in units for span in name_spans(u.text, title_case_ok=True) if person_like(span.text)}
        surnames = {name.split()[-1] for name in persons}
        # (also when typed in lowercase: "which companies does peter roy like?")
        people = [n for n in q.subjects if n.text not in q.unknown and (
            (n in q.names and (person_like(n.text) or n.text in surnames))
            or _title(n.text) in persons or _title(n.text) in surnames)]
        if people:
            # "Which firm does Samuel Rines work for?": only what is said with him, and any organisation named
            # beside him is an answer ("WisdomTree macro strategist Samuel Rines"); "Peter Roy, a portfolio
            # manager cited by Barron's" names no firm of his.
            about = set()
            for i, u in enumerate(units):
                if any(set(n.tokens) <= set(tokenize(u.text)) for n in people) or (
                        i and i - 1 in about and (units[i - 1].n, units[i - 1].paragraph) == (u.n, u.paragraph)
                        and re.match(r"^(?:He|She|His|Her|They|Their)\b", u.text)):
                    about.add(i)  # said with the person, or the next sentence about them ("He likes …")
            employer = bool(re.search(r"\b(?:firm|company|employer|bank|house|shop|outfit|work(?:s|ed)? (?:for|at))\b",
                                      q.text, re.I))

            def with_person(i: int, u: Unit, found: list[str]) -> list[str]:
                if i not in about:
                    return []
                if not employer:
                    if q.list_kind != "company":
                        return found
                    # what a person points to needs no "company" cue: "He pointed to Procter & Gamble, …"
                    own = {t for n in people for t in n.tokens}
                    named = [x for x in list_items(u.text, "named", exclude, names) if not set(tokenize(x)) & own]
                    # ...and the firm the person works at ("Alder Point Capital") is not one of their picks
                    return [x for x in dict.fromkeys(found + named)
                            if not set(tokenize(x)) & (_ORG_WORDS - {"co", "group", "inc", "corp"})]
                if q.list_kind not in ("company", "institution", "named"):
                    return found
                own = {t for n in people for t in n.tokens}
                spans = {n.text for n in name_spans(u.text, title_case_ok=True) if " " not in n.text}
                beside = [x for x in list_items(u.text, "named", exclude, names, frozenset(spans)) + found
                          if not set(tokenize(x)) & own and not set(tokenize(x)) & _NOT_COMPANY]
                return list(dict.fromkeys(x for x in beside if len(x) > 2))
            items = [with_person(i, u, x) for i, (x, u) in enumerate(zip(items, units))]
        if q.list_kind == "person":
            # "Which BOJ board members dissented?" asks for people in that role, not anyone quoted.
            roles = _asked_roles(q.text)
            if roles:
                items = [x if set(tokenize(u.text)) & roles else [] for x, u in zip(items, units)]
        holding = [i for i in range(len(units)) if items[i]]
        if not holding:
            # No name of the asked kind anywhere in the evidence: a list of other sentences would not answer.
            return Draft([], unlisted=_asked_noun(q) if q.list_kind in ("person", "company", "fund") else "")
        # "Which people does the AInvest piece quote?" asks for every name of the kind in the article; "Which
        # sectors is the Russell 2000 weighted toward?" for those of the sentences that answer it.
        every = bool(q.articles) and not _topic_words(q)
        if re.search(r"\btables?\b", q.text, re.I) and any(units[i].table for i in holding):
            # "Which REITs appear in Keystone's yield table?": the rows of the table, all of them.
            holding = [i for i in holding if units[i].table]
            every = True
        best = max(float(scores[i]) for i in holding)
        if best < p.min_probability and not every:
            return Draft([])
        chosen: list[int] = []
        seen: list[set[str]] = []
        limit = p.list_max_sentences if not all(units[i].table for i in holding) else 2 * p.list_max_sentences
        for i in sorted(holding, key=lambda i: -scores[i]):
            if (scores[i] < p.list_ratio * best and not every) or len(chosen) >= limit:
                break
            # A name already listed, or a shorter way of writing one ("Russell 2000 ETF" after "iShares Russell
            # 2000 ETF"), adds nothing. (Table rows read alike by design: only their names tell them apart.)
            fresh = [x for x in items[i] if not any(set(tokenize(x)) <= old or old <= set(tokenize(x)) for old in seen)]
            if not fresh or (not units[i].table and any(float(vecs[i] @ vecs[j]) > p.duplicate_cosine for j in chosen)):
                continue
            seen.extend(set(tokenize(x)) for x in fresh)
            items[i] = fresh
            chosen.append(i)
        chosen.sort(key=lambda i: (units[i].source, units[i].order))
        noun = _asked_noun(q)
        where = (" and ".join(a.label for a in q.articles) + (" articles" if len(q.articles) > 1 else " article")
                 if q.articles else "The articles")
        lead = f"{'The ' if q.articles else ''}{where} name{'s' if len(q.articles) == 1 else ''} these {noun}:"
        return Draft([Claim(units[i].text, units[i].n, bullet=True, label=", ".join(items[i]), score=float(scores[i]))
                      for i in chosen], lead=lead)

    def points(self, q: Question, evidence: Evidence) -> Draft:
        """Distinct relevant sentences across passages (MMR), as bullets."""
        p = self.policy
        units = self.units(q, evidence.passages)
        if not units:
            return Draft([])
        scores, vecs = self.score(q, units, evidence.passages)
        top = int(np.argmax(scores))
        best = float(scores[top])
        if best < p.min_probability:
            return Draft([])
        # The points of a list the article makes: when the best sentence is one item of a bullet list or of a
        # "First, … Second, …" run, its siblings are points too.
        if units[top].bullet or _ENUMERATED.match(units[top].text):
            for i, u in enumerate(units):
                if (u.source == units[top].source and u.heading == units[top].heading
                        and (u.bullet or _ENUMERATED.match(u.text)) and abs(u.order[1] - units[top].order[1]) <= 12):
                    scores[i] = max(scores[i], p.sibling_ratio * best)
        # Points come from the articles that speak to the question: an article whose three best sentences are
        # far less likely than the best article's is left out (unless the question asks what all the articles say).
        if not q.all_articles:
            strength: dict[str, float] = {}
            for src in {u.source for u in units}:
                mine = sorted((float(scores[i]) for i, u in enumerate(units) if u.source == src), reverse=True)[:3]
                strength[src] = sum(mine) / 3
            strongest = max(strength.values())
            for i, u in enumerate(units):
                if strength[u.source] < min(p.points_cross_ratio, 1.0) * strongest:
                    scores[i] = 0.0
        pool = [int(i) for i in np.argsort(-scores) if scores[i] >= max(p.min_probability, p.points_ratio * best)]
        chosen: list[int] = []
        while pool and len(chosen) < p.points_max:
            i = pool.pop(0)
            if any(float(vecs[i] @ vecs[j]) > p.points_redundancy for j in chosen):
                continue
            chosen.append(i)
        picked = set(chosen)
        chosen = complete_runs(units, scores, chosen, self.policy.points_max, asked_count(q.text))
        chosen = elaborate(units, chosen, p.points_max + p.elaborations)
        lead = "From the articles:" if len(chosen) > 1 else ""
        return Draft([Claim(units[i].text, units[i].n, bullet=len(chosen) > 1, score=float(scores[i]),
                            follows=i not in picked) for i in chosen], lead=lead)

    def comparison(self, q: Question, evidence: Evidence) -> Draft:
        """Each side's answer, grouped under the side: an article's own answer to the question when articles are
        compared, otherwise the best sentences that name the side."""
        if not q.sides:
            return self._article_comparison(q, evidence)
        p = self.policy
        claims: list[Claim] = []
        used: set[str] = set()
        gaps: list[str] = []
        covered: list[str] = []
        terms_of = {label: self.lexicon.terms(label) for label, _ in evidence.sides}
        for k, (label, numbers) in enumerate(evidence.sides):
            units = self.units(q, evidence.passages, numbers)
            query = evidence.side_queries[k] if k < len(evidence.side_queries) else (evidence.query or None)
            # A side is named by its words or their synonyms ("lenders" by "banks").
            # A side that is a name ("Realty Income") must be named whole; "income investors" is not it.
            side_terms = terms_of.get(label, [])
            whole = bool(name_spans(label, title_case_ok=True)) and label[:1].isupper()
            if side_terms:
                hits = [sum(term_named(t, set(tokenize(f"{u.text} {u.context}"))) for t in side_terms) for u in units]
                named = [u for u, h in zip(units, hits) if (1 if whole else 2) * h >= len(side_terms)]
                # No sentence names the side at all: the passages say nothing on it (a gap, not another side's
                # sentences under its label). A sentence that shares only its commonest word does not name it
                # either ("oil prices" is not named by "prices"), nor can any when the articles never use one of
                # its words in any form.
                rarest = max(side_terms, key=lambda t: self.lexicon.idf(t.token))
                if any(not any(self.lexicon.knows(f) for f in t.forms | t.synonyms) for t in side_terms):
                    units = []
                else:
                    units = named or [u for u, h in zip(units, hits)
                                      if h and rarest.forms & set(tokenize(f"{u.text} {u.context}"))]
            if not units:
                gaps.append(label)
                continue
            # A sentence on what is compared ("P/E multiples", "sector makeup") before any other about the side,
            # and one that gives the figure asked for ("15.6 times 2026 earnings" is a P/E) before those.
            dimension = self.lexicon.terms(dimension_of(q)) if tokenize(dimension_of(q)) else []
            if dimension:
                on_it = [u for u in units if self.lexicon.coverage(dimension, u.text) > 0]
                units = on_it or units
            metrics = metrics_of(q.text)
            if metrics:
                giving = [u for u in units if any(metric_present(m, u.text) and extract_numbers(u.text)
                                                  for m in metrics)]
                units = giving or units
            scores, vecs = self.score(q, units, evidence.passages, query)
            # A sentence another side already gave (one that names both) is not this side's own answer.
            fresh = [i for i in range(len(units)) if units[i].text not in used]
            best = max((float(scores[i]) for i in fresh), default=0.0)
            if best < p.min_probability:
                if not fresh:
                    covered.append(label)  # what this side says is in a sentence another side gave
                continue
            # A sentence nearly as likely that names the other side too compares them itself ("trades at a 31%
            # discount to the S&P 500 (15.6x vs. 22.6x)" for "the S&P SmallCap 600 vs the SPX"): it comes first.
            others = [terms for other, terms in terms_of.items() if other != label and terms]

            def names_another(i: int) -> bool:  # (called only in this iteration of the loop)
                words = set(tokenize(units[i].text))  # noqa: B023
                return any(all(term_named(t, words) for t in terms) for terms in others)  # noqa: B023

            both = [i for i in fresh if scores[i] >= p.side_ratio * best and names_another(i)]
            if both:
                scores[both] = best + 1e-3
                best += 1e-3
            taken: list[int] = []
            for i in sorted(fresh, key=lambda i: -scores[i]):
                if len(taken) >= p.side_sentences or scores[i] < p.side_ratio * best:
                    break
                if any(float(vecs[i] @ vecs[j]) > p.duplicate_cosine for j in taken):
                    continue
                taken.append(int(i))
            taken.sort(key=lambda i: units[i].order)
            for i in taken:
                used.add(units[i].text)
                claims.append(Claim(units[i].text, units[i].n, bullet=True, group=label, score=float(scores[i])))
        if covered and len({c.group for c in claims}) == 1:
            # One side's sentences speak for both ("trades at a 31% discount to the S&P 500 (15.6x vs. 22.6x)"):
            # a plain answer, not one side's heading over the other's figures.
            claims = [dataclasses.replace(c, group="", bullet=len(claims) > 1) for c in claims]
        return _with_gaps(Draft(claims, lead="From the articles:" if covered and len(claims) > 1 else ""), gaps)

    def _article_comparison(self, q: Question, evidence: Evidence) -> Draft:
        """Article against article ("Do the two articles agree on how cheap small caps are?"): each article's answer
        to the question itself, chosen as a fact or why / how question is (its best sentences and the next one that
        completes them), under the article."""
        inner = dataclasses.replace(q, type=EXPLANATION if _ASKS_HOW.search(q.text) else FACT, sides=[],
                                    two_part=False)
        claims: list[Claim] = []
        used: set[str] = set()
        gaps: list[str] = []
        for label, numbers in evidence.sides:
            side = self._facts(inner, evidence, numbers).claims
            if not side:
                gaps.append(label)
            for c in side:
                if c.text not in used:
                    used.add(c.text)
                    claims.append(dataclasses.replace(c, bullet=True, group=label))
        return _with_gaps(Draft(claims), gaps)

    def summary(self, q: Question, evidence: Evidence) -> Draft:
        """Each article's key points: its own takeaway bullets, or its most central sentences, in reading order."""
        p = self.policy
        claims: list[Claim] = []
        sides = evidence.sides or [(article_label(evidence.articles[0]), list(range(1, len(evidence.passages) + 1)))]
        per_article = p.summary_sentences if len(sides) == 1 else max(2, p.summary_sentences - 1)
        for (label, numbers), article in zip(sides, evidence.articles):
            units: list[Unit] = []
            seen: set[str] = set()
            for n in numbers:
                for u in passage_units(n, evidence.passages[n - 1]):
                    if u.text not in seen:  # chunks overlap: a sentence can sit in two of them
                        seen.add(u.text)
                        units.append(u)
            units.sort(key=lambda u: u.order)
            if not units:
                continue
            chosen = self._takeaways(units) or self._central(units, article.title, per_article)
            for u in chosen[:max(per_article, len(chosen) if len(chosen) <= 5 else per_article)]:
                claims.append(Claim(u.text, u.n, bullet=True, group=label if len(sides) > 1 else "", score=1.0))
        if len(sides) == 1 and evidence.articles:
            art = evidence.articles[0]
            lead = f"Key points of “{art.title}” ({article_label(art)}):"
        else:
            lead = "Key points of each article:"
        return Draft(claims, lead=lead)

    @staticmethod
    def _takeaways(units: list[Unit]) -> list[Unit]:
        """The bullets an article opens with (or lists under a "Key takeaways" heading), when there are 3–6."""
        headed = [u for u in units if u.bullet and _TAKEAWAYS.search(u.heading)]
        if 3 <= len({u.paragraph for u in headed} | {u.position for u in headed}) and len(headed) <= 6:
            return headed
        opening: list[Unit] = []
        for u in units[:12]:
            if u.bullet:
                opening.append(u)
            elif opening:
                break
            elif len(u.text.split()) > 25:
                break  # prose came first: no opening bullets
        labelled = [u for u in opening if _LABELLED.match(u.text)]
        return opening if 3 <= len(opening) <= 6 and len(labelled) * 2 >= len(opening) else []

    def _central(self, units: list[Unit], title: str, k: int) -> list[Unit]:
        """The k sentences that best stand for the article: LexRank centrality over sentence embeddings, plus
        priors for the lead, for the first sentences of each section (news puts the point of a section first),
        for figures and for closeness to the title; at most one per section beyond the lead, in reading order."""
        p = self.policy
        vecs = self.embed([u.text for u in units])
        sim = np.clip(vecs @ vecs.T, 0.0, 1.0)
        np.fill_diagonal(sim, 0.0)
        rows = sim.sum(axis=1, keepdims=True)
        walk = np.divide(sim, rows, out=np.full_like(sim, 1.0 / len(units)), where=rows > 0)
        rank = np.full(len(units), 1.0 / len(units))
        for _ in range(50):
            new = 0.15 / len(units) + 0.85 * walk.T @ rank
            done = np.abs(new - rank).sum() < 1e-6
            rank = new
            if done:
                break
        rank = rank / rank.max()
        position = np.arange(len(units)) / max(1, len(units) - 1)
        first_heading = units[0].heading
        in_section: dict[str, int] = {}
        section_first = np.zeros(len(units))
        for i, u in enumerate(units):
            j = in_section.get(u.heading, 0)
            in_section[u.heading] = j + 1
            section_first[i] = 1.0 if j == 0 else (0.5 if j == 1 else 0.0)
        figures = np.array([1.0 if _NUMBER.search(u.text) else 0.0 for u in units])
        title_sim = vecs @ self.embed_query(title) if title else np.zeros(len(units))
        score = (rank + p.summary_lead_weight * (1 - position) + p.summary_section_weight * section_first
                 + p.summary_figure_weight * figures + p.summary_title_weight * title_sim)
        chosen: list[int] = []
        per_section: dict[str, int] = {}
        for i in np.argsort(-score):
            if len(chosen) >= k:
                break
            limit = 2 if units[i].heading == first_heading else 1
            if per_section.get(units[i].heading, 0) >= limit:
                continue
            if any(float(vecs[i] @ vecs[j]) > p.points_redundancy for j in chosen):
                continue
            chosen.append(int(i))
            per_section[units[i].heading] = per_section.get(units[i].heading, 0) + 1
        return [units[i] for i in sorted(chosen)]


def _with_gaps(draft: Draft, gaps: list[str]) -> Draft:
    """A comparison's draft with a note for each side the passages say nothing on (none when nothing was found at
    all: that is a refusal, not a comparison)."""
    draft.gaps = [f"{g}: nothing on this in the passages found." for g in gaps] if draft.claims else []
    return draft


def elaborate(units: list[Unit], chosen: list[int], limit: int) -> list[int]:
    """A point made in a short sentence with no figure ("Equal weighting is not free.", "Some strategists worry
    that gold has risen too far, too fast.") is a topic sentence: the article makes the point in the sentence after
    it, in the same paragraph. That sentence follows it in the answer (as long as there is room)."""
    at = {(u.n, u.paragraph, u.position): j for j, u in enumerate(units)}
    out = list(chosen)
    texts = {units[j].text for j in out}
    for i in chosen:
        u = units[i]
        if len(out) >= limit:
            break
        if _NUMBER.search(u.text) or len(u.text.split()) > TOPIC_SENTENCE_WORDS or u.item >= 0:
            continue
        nxt = at.get((u.n, u.paragraph, u.position + 1))
        if nxt is not None and units[nxt].text not in texts:
            out.insert(out.index(i) + 1, nxt)
            texts.add(units[nxt].text)
    return out


# A sentence this short, with no figure, states a point that the next sentence makes.
TOPIC_SENTENCE_WORDS = 14


def bullet_runs(units: list[Unit], chosen: list[int], limit: int, count: int | None = None) -> list[list[int]]:
    """The bulleted lists of the article that a points answer should give whole: each as the first sentence of
    each item, in order. A list is given whole when its lead-in ("Management pointed to three factors:") was
    chosen, when two of its items and more than half of them were (two picks from a long list of takeaways on
    mixed matters do not make the list an answer), or when it has as many items as the question asks for
    ("What three factors…") and one of them was chosen."""
    lists: dict[tuple[int, int], dict[int, int]] = {}  # (passage, paragraph) → item line → first sentence
    for j, u in enumerate(units):
        if u.item >= 0:
            items = lists.setdefault((u.n, u.paragraph), {})
            if u.item not in items or units[items[u.item]].position > u.position:
                items[u.item] = j
    runs: list[list[int]] = []
    picked = set(chosen)
    for (n, para), items in lists.items():
        members = [items[k] for k in sorted(items)]
        if not 2 <= len(members) <= limit:
            continue
        # (the lead-in is the last sentence of the paragraph before the list)
        lead = max((j for j, u in enumerate(units) if u.n == n and u.paragraph == para - 1 and u.item < 0),
                   key=lambda j: units[j].position, default=None)
        lead_in = lead in picked and units[lead].text.rstrip().endswith(":")
        hits = sum(1 for j, u in enumerate(units) if j in picked and (u.n, u.paragraph) == (n, para) and u.item >= 0)
        if lead_in or (hits >= 2 and 2 * hits > len(members)) or (hits and count == len(members)):
            texts = {units[j].text for run in runs for j in run}
            if not any(units[j].text in texts for j in members):  # overlapping chunks hold the same list twice
                runs.append(members)
    return runs


def asked_count(text: str) -> int | None:
    """How many things a question asks for ("What three factors…", "the 2 risks") or None."""
    m = re.search(r"\b(two|three|four|five|six|[2-6])\s+(?:main\s+|key\s+|big\s+|biggest\s+)?[a-z]+s\b", text, re.I)
    return int(NUMBER_WORDS.get(m.group(1).lower(), m.group(1))) if m else None


def complete_runs(units: list[Unit], scores: np.ndarray, chosen: list[int], limit: int,
                  count: int | None = None) -> list[int]:
    """An article that counts its points ("Three forces are behind the move. First, … Second, … Third, …") or
    lists them as bullets has made the list itself: when a chosen point is one item of such a run (see
    bullet_runs for lists), the whole run is the answer's core, in the article's order, and the other points fill
    what room is left."""
    runs: list[list[int]] = bullet_runs(units, chosen, limit, count)
    for i in chosen:
        if not _ORDINAL.match(units[i].text) or any(i in run for run in runs):
            continue
        run = sorted({j for j, u in enumerate(units) if u.source == units[i].source and _ORDINAL.match(u.text)
                      and abs(u.order[0] - units[i].order[0]) <= 1}, key=lambda j: units[j].order)
        seen, members = set(), []
        for j in run:  # overlapping chunks hold the same sentence twice
            if units[j].text not in seen:
                seen.add(units[j].text)
                members.append(j)
        if 2 <= len(members) <= limit:
            runs.append(members)
    if not runs:
        return chosen
    in_runs = {j for run in runs for j in run}
    texts = {units[j].text for j in in_runs}
    rest = [i for i in chosen if i not in in_runs and units[i].text not in texts]
    room = max(0, limit - len(in_runs))
    out: list[int] = []
    placed: set[int] = set()
    keep = set(sorted(rest, key=lambda i: -scores[i])[:room])
    for i in chosen:
        run = next((r for r in runs if i in r), None)
        if run is not None and id(run) not in placed:
            placed.add(id(run))
            out.extend(run)
        elif run is None and i in keep:
            out.append(i)
    for run in runs:  # a run met only through a sibling that the redundancy check left out
        if id(run) not in placed:
            out.extend(run)
    return out


_PART_SPLIT = re.compile(r"\?\s+|,?\s+(?:and|also|plus|but)\s+(?=(?:what|how|which|who|whom|when|where|why|is|are|"
                         r"was|were|does|do|did|has|have|can|could|will|would|should)\b)", re.I)
_WHY_HOW = r"(?:why|how (?:does|do|did|come|is|are|was|were|can|could|would|will))"
_EXPLAIN_PART = re.compile(rf"^\s*{_WHY_HOW}\b", re.I)  # a part of a two-part question that asks why / how
# A comparison of articles that asks why / how ("Do the two articles see rate cuts helping the same way?")
_ASKS_HOW = re.compile(rf"\b(?:{_WHY_HOW}|explain\w*|(?:see|view) .{{1,40}} the same way)\b", re.I)


def _continues_quote(first: str, second: str) -> bool:
    """Whether `second` carries on a quotation that `first` opened or attributed."""
    opened = first.count('"') % 2 == 1 or first.count("“") > first.count("”")
    attributed = bool(re.search(r"[\"”],?\s+(?:said|says|added|wrote|noted|told)\b", first))
    return opened or (attributed and second[:1] in "\"“")


def split_parts(text: str) -> list[str]:
    """The questions a two-part question asks, each with at least two words of its own."""
    parts = [p.strip(" ,;") for p in _PART_SPLIT.split(text) if p and p.strip(" ,;?")]
    return [p for p in parts if len(tokenize(p)) >= 1] if len(parts) >= 2 else [text]


def _title(name: str) -> str:
    """A name typed in lowercase written as a name ("peter roy" → "Peter Roy")."""
    return " ".join(w[:1].upper() + w[1:] for w in name.split()) if name.islower() else name


def person_like(name: str) -> bool:
    """Two to four capitalised words, none of them an organisation's: "Peter Roy", "Samuel Rines"."""
    parts = name.split()
    return (2 <= len(parts) <= 4 and all(p[:1].isupper() and p[1:].islower() for p in parts if p.isalpha())
            and not (set(tokenize(name)) & _ORG_WORDS) and not re.search(r"[\d&]", name))


def _asked_roles(text: str) -> set[str]:
    """Stems of the role words a person-list question asks for ("analysts" → analyst, strategist, economist…)."""
    out: set[str] = set()
    for word in tokenize(text):
        for role, words in ROLES.items():
            if word == tokenize(role)[0]:
                out.update(t for w in words for t in tokenize(w))
    return out


def _topic_words(q: Question) -> set[str]:
    """What a list question asks about besides the kind of thing and the article ("weighted", "ripe takeover")."""
    kind_words = {t for spec in LIST_KINDS.values() for w in spec["asks"] for t in tokenize(w)}
    framing = {stem(w) for w in (
        "named name names quoted quotes quote cited cites cite mention mentions mentioned highlighted highlights "
        "highlight single out feature features featured discuss discusses discussed individual specific list all "
        "every any other one two three four five six seven eight nine ten several few main key top interview "
        "interviews interviewed appear appears").split()}
    own = {t for a in q.articles for t in tokenize(f"{a.publisher} {a.title}")}
    topic = topic_of(split_parts(q.text)[0], q.articles) if q.two_part else q.topic
    return {t for t in tokenize(topic) if t not in kind_words | framing | own}


def _asked_noun(q: Question) -> str:
    """The plural noun the question used for what it lists ("ETFs", "stocks", "sectors")."""
    kind = q.list_kind or ""
    asks = LIST_KINDS.get(kind, {}).get("asks", ())
    for phrase in sorted((a for a in asks if " " in a), key=len, reverse=True):  # "central banks", "business lines"
        m = re.search(rf"\b{re.escape(phrase)}\b", q.text, re.I)
        if m:
            return m.group() if m.group().endswith("s") else m.group() + "s"
    for word in re.findall(r"[A-Za-z&]+", q.text):
        if word.lower() in asks and word.lower() not in ("who", "whom", "name", "names", "quoted", "sources"):
            if word.lower() in ("people", "staff", "media", "personnel"):
                return word
            if word.endswith("y") and word[-2:-1].lower() not in "aeiou":
                return word[:-1] + "ies"  # company → companies
            w = word if word.isupper() or word[-1] == "s" else word + ("s" if not word.endswith("y") else "")
            return w if not w.endswith("ys") or w.lower().endswith(("eys", "ays", "oys")) else w[:-2] + "ies"
    return {"fund": "funds", "index": "indices", "person": "people", "sector": "sectors", "country": "countries",
            "company": "companies"}.get(kind, "names")


def metric_stated(metric: str, passage: str, name_tokens: set[str]) -> bool:
    """Whether a passage gives a detail of a named thing: a sentence that names it (or the next one, when it
    goes on about it: "It…", "The fund…") holds a form of the detail."""
    rows = [text for _, (_, text) in table_rows(passage)]
    sentences = split_sentences("\n".join(line for line in passage.splitlines() if not line.lstrip().startswith("|")))
    sentences += rows
    figure = metric in FIGURE_METRICS

    def gives(sentence: str) -> bool:
        # a figure, not the number in a name ("Russell 2000")
        return metric_present(metric, sentence) and (not figure or bool(extract_numbers(sentence)))

    for i, sentence in enumerate(sentences):
        if name_tokens <= set(tokenize(sentence)):
            if gives(sentence):
                return True
            follow = sentences[i + 1] if i + 1 < len(sentences) else ""
            if re.match(r"^(?:It|Its|The (?:fund|company|firm|stock|ETF|bank|group|index)|This|That|They|Their)\b",
                        follow) and gives(follow):
                return True
    return False


def metric_present(metric: str, text: str) -> bool:
    """Whether a text gives any form of a detail from glossary.METRICS: all the (stemmed) words of one of its
    forms, in any order ("15.6 times 2026 earnings" gives a price-to-earnings ratio: "times earnings")."""
    words = set(tokenize(text))
    for form in (metric,) + METRICS.get(metric, ()):
        toks = set(tokenize(form))
        if toks and toks <= words:
            return True
    return False
