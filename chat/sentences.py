"""A passage's sentences as units (with their heading, bullet, table row, FAQ question and the names a pronoun
refers to), the FEATURES the extractive scorer reads of each, and the names of a kind a sentence lists."""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from langchain_core.documents import Document

from chat.glossary import (
    COUNTRIES,
    LIST_KINDS,
    SECTORS,
)
from chat.injection import is_injection
from chat.text import STOPWORDS, name_spans, normalize, split_sentences, tokenize

FIGURE_QUESTION = re.compile(
    r"\b(?:how (?:much|many|big|large|high|low|long|far|fast|cheap|expensive)|what (?:percentage|percent|share|"
    r"level|rate|price|multiple|ratio|yield|number|amount|figure|size|value|return|margin|growth)|by how much|"
    r"what (?:was|is|were|are) the (?:\w+ ){0,3}(?:rate|price|level|yield|ratio|multiple|return|growth|margin|size|"
    r"value|amount|number|share|percentage|target|estimate|forecast|discount|premium|gap|spread|count))\b",
    re.I,
)
DIGIT = re.compile(r"\d")
TAKEAWAYS = re.compile(
    r"\b(?:key (?:takeaways?|points|facts)|takeaways|highlights|at a glance|in brief|summary|"
    r"tl;?dr|what (?:you need|to know)|the bottom line|quick take)\b",
    re.I,
)
LABELLED = re.compile(r"^(?P<label>[A-Z][\w&'’/ .-]{1,40}?):\s+(?P<rest>\S.*)$")
ENUMERATED = re.compile(
    r"^(?:First|Second|Third|Fourth|Fifth|Finally|Lastly|Another|Also|Additionally|In addition|"
    r"Moreover|Furthermore|On top of that|Beyond that|Next|Then|Meanwhile|A (?:second|third|final))"
    r"\b",
    re.I,
)
NUMBERED = re.compile(r"^\s*\d{1,2}[.)]\s")
# The items of a list an article counts out in prose.
ORDINAL = re.compile(r"^(?:First|Firstly|Second|Secondly|Third|Thirdly|Fourth|Fifth|Finally|Lastly)\b,?")
# fmt: off
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
# fmt: on


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
_SPEAKER = re.compile(
    r"(?:[,.!?]['\"”’]\s+|\b(?:according to)\s+)(?P<a>[A-Z][\w'’-]+(?:\s+[A-Z][\w'’-]+){0,2})"
    r"(?=\s+(?:said|says|added|adds|noted|notes|wrote|writes|argued|argues|explained|warned|told)\b|[,.])"
    r"|\b(?:said|says|added|noted|wrote|argued|explained|warned)\s+(?P<b>[A-Z][\w'’-]+(?:\s+[A-Z][\w'’-]+){0,2})"
)
_QUOTE = re.compile(r"[\"“”]")
# A sentence that opens like this speaks of what the sentence before it named.
_ANAPHOR = re.compile(
    r"^(?:It|Its|It's|He|She|His|Her|They|Their|Them|This|These|That|Those|The (?:company|firm|"
    r"group|stock|shares|fund|bank|index|lender|insurer|carmaker|automaker|central bank|ETF|REIT|"
    r"trust|economist|analyst|strategist|chain|retailer|producer|kingdom|country|agency)(?:'s|’s)?)\b"
)


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


# The rules by which `passage_units` reads a passage, as far as the texts it yields go: bump it when they change, so
# that ingest derives every passage's stored sentence vectors again (a reader that finds other texts than were
# stored ignores the stored vectors in any case: ingest.records.texts_key).
SCORED_TEXTS_VERSION = "1"


def scored_texts(text: str, metadata: Mapping[str, Any]) -> list[str]:
    """Every text the extractive answerer embeds for a passage: its sentences (units), and the FAQ questions and
    headings they sit under; each once, in order. Ingest stores their vectors with the passage (app.py wires this
    function into the indexer), so that a question embeds only itself."""
    units = passage_units(1, Document(page_content=text, metadata=dict(metadata)))
    asked = [u.asked for u in units if u.asked]
    headings = [u.heading for u in units if u.heading]
    return list(dict.fromkeys([u.text for u in units] + asked + headings))


def passage_units(n: int, doc: Document) -> list[Unit]:
    """Answerable sentences of a passage: no headings, no questions, no fragments; FAQ answers know their Q."""
    m = doc.metadata
    units = _units_of(
        doc.page_content, str(m.get("section", "") or ""), str(m.get("source", "")), int(m.get("chunk_index", 0) or 0)
    )
    return [dataclasses.replace(u, n=n) for u in units]


# A question reads the same passages several times (units for each answer part, summaries, the stored vectors'
# texts): a passage's units are kept for the last passages read. A pure function of the passage.
@functools.lru_cache(maxsize=4096)
def _units_of(text: str, section: str, source: str, chunk: int) -> tuple[Unit, ...]:
    return tuple(
        _read_units(
            1, Document(page_content=text, metadata={"section": section, "source": source, "chunk_index": chunk})
        )
    )


def _read_units(n: int, doc: Document) -> list[Unit]:
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
                units.append(
                    Unit(n, para_no, len(units), text, asked, False, heading, source, (chunk, len(units)), table=label)
                )
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
                if (
                    len(sentence.split()) >= 5
                    and not sentence.endswith("?")
                    and not is_injection(sentence)
                    and len(re.findall(r"\b[a-z]{3,}\b", sentence)) >= 3
                ):
                    units.append(
                        Unit(
                            n,
                            para_no,
                            len(units),
                            sentence,
                            asked,
                            bullet,
                            heading,
                            source,
                            (chunk, len(units)),
                            context=context,
                            item=line_no if bullet else -1,
                        )
                    )
        asked = ""
    return units


def _phrase_in(phrase: str, text: str) -> bool:
    return phrase in text and _phrase_pattern(phrase).search(text) is not None  # the substring test first: cheap


@functools.lru_cache(maxsize=2048)  # the cue words and phrases: a fixed, small set
def _phrase_pattern(phrase: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![\w-]){re.escape(phrase)}(?![\w-])")


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
        near = set(tokens[max(0, i - window) : i + window + 1])
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
# fmt: off
_GENERIC = {"etf", "etfs", "fund", "funds", "index", "indic", "exchang", "trade", "trust", "stock", "share",
            "compani", "firm", "sector", "market", "ai", "ipo", "the", "us", "u.s", "ceo", "new", "york"}
NOT_COMPANY = {"feder", "reserv", "fed", "treasuri", "congress", "senat", "white", "hous", "governor", "central",
                "bank", "ministri", "govern", "depart", "offic", "commiss", "sec", "imf", "opec", "magnific", "seven",
                "wall", "street", "journal", "barron", "reuter", "bloomberg", "cnbc", "presid", "chairman"}
ORG_WORDS = NOT_COMPANY | {"etf", "fund", "index", "inc", "corp", "group", "capit", "advisor", "partner", "research",
                             "asset", "manag", "secur", "invest", "llc", "ltd", "plc", "co", "associ", "market"}


# Capitalised words that open sentences and name nothing ("Another option is Innodata").
_OPENERS = {"another", "additionally", "alternatively", "however", "meanwhile", "although", "though", "still", "yet",
            "instead", "overall", "moreover", "furthermore", "nonetheless", "similarly", "likewise", "indeed", "today",
            "yesterday", "last", "next", "first", "second", "third", "finally", "one", "two", "three", "several",
            "many", "most", "some", "such", "these", "those", "this", "that", "each", "every", "both", "shares",
            "investors", "analysts", "traders", "companies", "stocks", "its", "their", "while", "when", "since",
            "after", "before", "despite", "unlike", "like", "according", "as", "in", "on", "at", "for", "with"}
# fmt: on


def list_items(
    text: str,
    kind: str,
    exclude: set[tuple[str, ...]],
    names: frozenset[str] = frozenset(),
    names_ok: frozenset[str] = frozenset(),
) -> list[str]:
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
            if (
                low not in names
                and not camel
                and (not rest or low in _OPENERS or low.endswith("ly") or low in STOPWORDS)
            ):
                if not rest:
                    continue  # "Alternatively", "Another": capitalised only because a sentence starts there
                name = dataclasses.replace(name, text=rest, tokens=tuple(tokenize(rest)), start=len(first) + 1)
        after = text[name.start + len(name.text) : name.start + len(name.text) + 2] if name.start >= 0 else ""
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
        if (
            tuple(name.tokens) in exclude
            or not (toks - _GENERIC)
            or any(set(e) == toks for e in exclude if e)
            or name.text in _EXCHANGES
            or (re.fullmatch(r"[A-Z]{1,5}", name.text) and kind != "fund")
            or (re.search(r"\d", name.text) and kind not in ("fund", "index"))
        ):
            continue
        words = set(re.findall(r"[a-z&]+", name.text.lower()))
        is_fund = bool(words & {"etf", "fund", "trust", "spdr"}) or (
            words & {"ishares", "vanguard", "invesco"} and len(words) > 1
        )
        is_index = not is_fund and bool(
            words
            & {
                "index",
                "russell",
                "s&p",
                "nasdaq",
                "dow",
                "nikkei",
                "topix",
                "ftse",
                "msci",
                "stoxx",
                "dax",
                "kospi",
                "composite",
            }
        )
        parts = name.text.split()
        is_person = (
            not is_fund
            and not is_index
            and 2 <= len(parts) <= 4
            and all(p[:1].isupper() and p[1:].islower() for p in parts if p.isalpha())
            and not (toks & ORG_WORDS)
            and bool(sentence_words & set(LIST_KINDS["person"]["marks"]))
        )
        if kind == "fund" and is_fund:
            items.append(name.text)
        elif kind == "index" and is_index:
            items.append(name.text)
        elif kind == "person" and is_person:
            items.append(name.text)
        elif kind == "institution" and not is_person and (words & marks):
            items.append(name.text)
        elif (
            kind == "named"
            and not (is_person or is_index)
            and not (toks & NOT_COMPANY)
            and (len(parts) >= 2 or (parts and parts[0] in names_ok))
        ):
            items.append(name.text)  # "Contract Logistics", "Final Mile": named things of the asked kind
        elif (
            kind == "company"
            and not (is_fund or is_index or is_person)
            and not (toks & NOT_COMPANY)
            and not any(name.text.lower() == s for s in SECTORS + COUNTRIES)
            and len(name.text) > 2
            and (
                sentence_words
                & (
                    set(marks)
                    | {
                        "company",
                        "companies",
                        "provider",
                        "maker",
                        "firm",
                        "stock",
                        "shares",
                        "specializing",
                        "contender",
                        "option",
                        "pick",
                        "lender",
                        "bank",
                        "producer",
                        "miner",
                        "operator",
                        "reit",
                        "owner",
                        "developer",
                        "group",
                        "brand",
                        "retailer",
                        "name",
                        "names",
                        "including",
                        "such",
                        "like",
                        "rose",
                        "fell",
                        "jumped",
                        "gained",
                        "climbed",
                        "slid",
                        "dropped",
                        "rallied",
                        "led",
                    }
                )
                or re.search(rf"{re.escape(name.text)}\s*\((?:NYSE|NASDAQ|Nasdaq|TSX|LSE)?:?\s*[A-Z]{{1,5}}\)", text)
            )
        ):
            items.append(name.text)
    return list(dict.fromkeys(items))
