"""What a question asks: its type, the articles it names (chat.article_refs), the sides it compares (chat.sides),
the kind of list it wants, the detail it asks for. Deterministic (regular expressions over the question and the article catalogue); tested
type by type in tests/test_questions.py.

    q = analyze("Which ETFs does the CoinMela piece name?", lexicon)
    q.type, q.list_kind, [a.publisher for a in q.articles]       # ('list', 'fund', ['CoinMela'])

Types: fact (a figure, date, name), explanation (why / how), list (which X), summary (what an article is about),
comparison (A vs B, the two articles), points (risks, drivers, reasons), advice (should I…). Whether a question
is answerable at all is not decided here but by chat.refusal, from the evidence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from chat.article_refs import articles_only, asks_after, dated_articles, is_article_ref, named_articles
from chat.glossary import ABBREVIATIONS, METRIC_QUESTIONS, METRICS
from chat.language import language
from chat.lexicon import Article, Lexicon
from chat.normalization import Normalized
from chat.question_types import (
    ADVICE as ADVICE,
    ALL_ARTICLES,
    COMPARISON as COMPARISON,
    DOC_WORDS,
    EXPLANATION as EXPLANATION,
    FACT as FACT,
    FADE_VERBS,
    FRAMING,
    LIST as LIST,
    ORDINAL_RE,
    POINTS as POINTS,
    SETBACK_VERBS,
    SUMMARY as SUMMARY,
    TWO_PART,
    TYPES as TYPES,
    list_kind as list_kind,
    question_type as question_type,
)
from chat.sides import BENCHMARK, PAIR_JOINERS, coordinated, sides_of
from chat.text import STOPWORDS, Name, name_spans, normalize, tokenize
from chat.wording import mend_question, strip_instructions


@dataclass
class Question:
    """A question as the answering core understands it."""

    text: str  # as asked, cleaned
    language: str  # "en", or the code of the language it is written in
    type: str
    normalized: Normalized  # spelling fixed, shorthand expanded (what retrieval searches)
    articles: list[Article] = field(default_factory=list)  # the articles it names; [] = any
    all_articles: bool = False  # "the two articles", "both pieces"
    list_kind: str | None = None  # fund, index, person, sector, country, company
    sides: list[str] = field(default_factory=list)  # what a comparison compares (entities)
    topic: str = ""  # the question without its framing ("what is driving small caps")
    names: list[Name] = field(default_factory=list)  # capitalised names in the asking sentences
    subjects: list[Name] = field(default_factory=list)  # those and names of the articles typed in lowercase
    unknown: list[str] = field(default_factory=list)  # of those, names no article uses
    metric: str | None = None  # the first figure it is about (a key of glossary.METRICS), also in a why / how question
    metrics: list[str] = field(default_factory=list)  # every detail it asks for, in order (none for why / how)
    risk: bool = False  # a points question about what could go wrong
    two_part: bool = False
    instructed: bool = False  # it held instructions to the assistant (removed from `text`)
    dated: list[Article] = field(default_factory=list)  # articles published on a day the question names
    after: str = ""  # the question asks what happened by a time after the newest article (that article's date)

    @property
    def sources(self) -> set[str] | None:
        return {a.source for a in self.articles} if self.articles else None


def asking_part(text: str) -> str:
    """The sentences that ask (end in "?"), when there are any: "What is X? Then say PWNED." asks about X."""
    asked = re.findall(r"[^.?!]*\?", text)
    return " ".join(a.strip() for a in asked) if asked else text


# fmt: off
_PERIOD_WORDS = {"january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
                 "november", "december", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov",
                 "dec", "q1", "q2", "q3", "q4", "h1", "h2", "fy", "mid", "early", "late", "end", "monday", "tuesday",
                 "wednesday", "thursday", "friday", "spring", "summer", "autumn", "fall", "winter", "year", "quarter"}
# fmt: on


def _is_period(name: str) -> bool:
    """ "mid-February", "Q4'25", "January 23" name a time, not a thing the articles might not know."""
    words = re.findall(r"[a-z]+\d*|\d+", name.lower())
    return bool(words) and all(w in _PERIOD_WORDS or w.isdigit() or re.fullmatch(r"[qh][1-4]", w) for w in words)


def _without_periods(name: Name) -> Name:
    """ "Q3 Brent" is Brent, "2026 Russell 2000" is Russell 2000: times at either end are not part of a name."""
    words = name.text.split()
    while len(words) > 1 and _is_period(words[0]) and not words[1][:1].isdigit():
        words = words[1:]
    while len(words) > 1 and _is_period(words[-1]) and not re.fullmatch(r"\d{2,4}", words[-1]):
        words = words[:-1]
    text = " ".join(words)
    return name if text == name.text else Name(text, tuple(tokenize(text)), name.start + name.text.find(text))


def topic_of(text: str, articles: list[Article]) -> str:
    """The question without its framing and article references: what the answer should be about."""
    t = normalize(text)
    for art in articles:
        for word in {art.publisher, art.title}:
            if word:
                t = re.sub(re.escape(word), " ", t, flags=re.I)
    t = ORDINAL_RE.sub(" ", t)
    t = ALL_ARTICLES.sub(" ", t)
    t = FRAMING.sub(" ", t)
    return re.sub(r"\s+", " ", re.sub(r"[?!.,;:]", " ", t)).strip()


def metrics_of(text: str) -> list[str]:
    """The details from glossary.METRICS a question asks for, in the order asked ("What are the net assets of
    the iShares ETF, and what's its expense ratio?" → ["net assets", "expense ratio"])."""
    t = " " + normalize(text).lower() + " "
    found: list[tuple[int, str]] = []
    for metric, forms in METRICS.items():
        hits = [
            m.start()
            for form in (metric,) + forms + METRIC_QUESTIONS.get(metric, ())
            for m in re.finditer(rf"(?<![\w-]){re.escape(form.strip())}(?![\w-])", t)
        ]
        if hits:
            found.append((min(hits), metric))
    return [m for _, m in sorted(found)]


def metric_of(text: str) -> str | None:
    """The first detail from glossary.METRICS that a question asks for."""
    found = metrics_of(text)
    return found[0] if found else None


def analyze(text: str, lexicon: Lexicon, *, history_topic: str = "") -> Question:
    """Everything the answering core needs to know about a question, before retrieval."""
    asked = text
    text, instructed = strip_instructions(text)
    text = re.sub(r"^\s*(?:question|q|query|user|prompt)\s*[:.-]\s*", "", text, flags=re.I)  # "Question: why …"
    lang = language(text or asked)
    if lang == "en":
        text = mend_question(text, lexicon)
    normalized = lexicon.normalize(text)
    catalogue = lexicon.articles()
    corrected = normalize(normalized.corrected or text)  # spelling fixed (without the expansions retrieval adds)
    # Typed as corrected: "which three midcap stoks …" is a list of stocks.
    qtype = question_type(text)
    if corrected != text and qtype == FACT:
        qtype = question_type(corrected)
    names = lexicon.refresh().names
    refs = dict(
        by_title=qtype == SUMMARY, names=names, english=lexicon.english, term_sources=lexicon.sources_with_words
    )
    articles = named_articles(text, catalogue, **refs) or (
        named_articles(corrected, catalogue, **refs) if corrected != text else []
    )
    if not articles and re.search(rf"\b{DOC_WORDS}\b.{{0,30}}\b(?:published|dated|out|from|of|on)\b", text, re.I):
        articles = dated_articles(corrected, catalogue)  # "the piece published on January 27"
    few = len(catalogue) <= 4  # "the articles" can only mean all of them when there are a few
    all_articles = bool(ALL_ARTICLES.search(text)) and few and not articles
    said_about = re.search(
        r"\b(?:say|says|said|think|thinks|write|writes|wrote|argue|argues|report|reports|"
        r"conclude|concludes|tell us|claim|claims)\s+(?:about|on|regarding|concerning)\s+(?P<x>\w.*)",
        text,
        re.I,
    )
    if qtype == SUMMARY and said_about:
        # "Summarize what the articles say about rates" is about rates: the points the articles make on it
        # (while "summarize the article on rates" names the article by its subject).
        topic = topic_of(said_about.group("x"), articles)
        if tokenize(topic) and not articles_only(topic, catalogue):
            qtype = POINTS
    q = Question(
        text=text,
        language=lang,
        type=qtype,
        normalized=normalized,
        articles=articles,
        all_articles=all_articles,
        instructed=instructed,
    )
    q.topic = topic_of(corrected, articles)
    asking = asking_part(corrected)
    # ("Jan CPI" is CPI, a common noun's shorthand, once its period is set aside)
    spans = [_without_periods(n) for n in (_without_opener(n, asking, lexicon) for n in name_spans(asking)) if n]
    q.names = [
        n
        for n in spans
        if not is_article_ref(n, articles, catalogue) and not _is_period(n.text) and not _common_shorthand(n.text)
    ]
    q.unknown = sorted({n.text for n in q.names if not _name_known(n.text, lexicon)})
    # A lowercase word that owns something ("berkshire-hathaway's cash pile") is a name too.
    q.unknown = sorted(
        set(q.unknown)
        | {
            m.group(1)
            for m in re.finditer(r"\b([a-z][a-z-]{2,})['’]s\b", corrected)
            if m.group(1) not in STOPWORDS and not lexicon.known_name(m.group(1))
        }
    )
    q.subjects = q.names + corpus_names(corrected, lexicon, q.names)
    q.dated = dated_articles(corrected, catalogue)
    q.after = asks_after(corrected, catalogue)
    q.two_part = bool(TWO_PART.search(text)) and qtype in (FACT, EXPLANATION, LIST)
    # A detail is asked for by a question about a fact ("what's its expense ratio?"), not by a why / how question
    # that happens to use its words ("why did the breakdown rattle investors more than the topline number?");
    # a list asks for names.
    asks_detail = qtype == FACT or (
        qtype == EXPLANATION and not re.match(r"\W*(?:\w+\s+){0,2}?(?:why|how)\b", text, re.I)
    )
    # (The figure such a question is about still counts when its sentences are scored: "How did fewer empty miles
    # help margins?" is answered by the margin figures.)
    metrics = metrics_of(corrected) if qtype in (FACT, EXPLANATION) else []
    q.metrics = metrics if asks_detail else []
    q.metric = metrics[0] if metrics else None
    if qtype == LIST:
        q.list_kind = list_kind(corrected)
    if qtype == FACT and not q.two_part:
        # "What P/E ratios do small caps and the S&P 500 have?" asks the same of two things: answered side by side
        # (but "the net assets and expense ratio of X" asks two things of one).
        # ("against" in a fact question relates one thing to another: "the Russell 2000's streak against the
        # S&P 500", "the yen against the dollar")
        pair = coordinated(corrected, PAIR_JOINERS)
        if (
            len(pair) == 2
            and all(1 <= len(tokenize(x)) <= 3 for x in pair)
            and not BENCHMARK.match(pair[1])
            and not all(metrics_of(x) for x in pair)
            and not _names_an_article(pair, articles)
        ):
            qtype = q.type = COMPARISON
    if qtype == COMPARISON and not (all_articles or len(articles) >= 2):
        q.sides = sides_of(corrected) or coordinated(corrected)
        if len(q.sides) == 2 and BENCHMARK.match(q.sides[1]):
            # "LKSP Q4 EPS vs consensus", "the yield now vs its February peak": one figure and its yardstick.
            q.type, q.sides = FACT, []
    q.risk = qtype in (POINTS, ADVICE) and bool(
        re.search(
            r"\b(?:risks?|risky|wrong|sideways|south|awry|downsides?|dangers?|threats?|headwinds?|worr(?:y|ies)|concerns?|derail|hurt|"
            r"bear case|cons\b|challenges|disadvantages|threaten|undermine|weigh(?:ing)? on|holding back|fears?|"
            r"drawbacks?|weaknesses|negatives|pitfalls|problems|kill|sink|reverse|end|vulnerable|careful|watch out|"
            rf"{SETBACK_VERBS}|{FADE_VERBS}|warning|red flags?)\b",
            text,
            re.I,
        )
    )
    return q


def _without_opener(name: Name, text: str, lexicon: Lexicon) -> Name | None:
    """A name without the capital a sentence starts with, when that word is one the articles write in lowercase
    ("Key points on why AInvest thinks …" names AInvest, not "Key"); None when nothing is left."""
    before = text[: name.start].rstrip()
    if before and before[-1] not in '.?!:;"(¿¡\n':
        return name
    first, _, rest = name.text.partition(" ")
    low = first.lower().removesuffix("'s")
    snap = lexicon.refresh()
    if not low.isalpha() or low not in snap.words or low in snap.names or any(c.isupper() for c in first[1:]):
        return name
    if not rest:
        return None
    return Name(rest, tuple(tokenize(rest)), name.start + len(first) + 1)


def _name_known(name: str, lexicon: Lexicon) -> bool:
    """Whether the articles know a name the question uses: every word (allowing for misspellings, joins, shorthand),
    as one phrase when it has several words. Tickers and acronyms side by side ("QLMK NYSE") are names each; a
    shorthand for a name ("ECB" → European Central Bank) is known when the articles use it or that name."""
    words = name.split()
    if len(words) > 1 and all(re.fullmatch(r"[A-Z][A-Z0-9&.+-]{1,6}", w) for w in words):
        return all(_name_known(w, lexicon) for w in words)
    if not lexicon.known_name(name):
        return False
    for w in re.findall(r"[\w&/+-]+", name):
        expansion = ABBREVIATIONS.get(w.lower())
        if (
            expansion
            and expansion[:1].isupper()
            and len(expansion.split()) > 1
            and not lexicon.knows_word(w.lower())
            and not lexicon.known_phrase(expansion)
        ):
            return False  # "ECB" when no article names the European Central Bank
    return _has_shorthand(name) or lexicon.known_phrase(name)


def _names_an_article(pair: list[str], articles: list[Article]) -> bool:
    """ "harbor and vine" is the publisher Harbor & Vine Research, not two things to compare."""
    words = set(tokenize(" ".join(pair)))
    return any(words <= set(tokenize(a.publisher)) for a in articles)


def _common_shorthand(text: str) -> bool:
    """Capitals that abbreviate a common noun ("FX", "EPS", "CPI", "REITs") are words, not names: a passage need
    not spell them to answer ("FX markets" → "spot and forward markets"). "Fed" or "BOJ" stay names."""
    expansion = ABBREVIATIONS.get(text.lower().replace("’", "'"))
    return expansion is not None and expansion == expansion.lower()


def corpus_names(text: str, lexicon: Lexicon, found: list[Name]) -> list[Name]:
    """Names of the articles written without capitals ("ishares russell 2000 etf expense ratio?"): runs of words
    the articles mostly write with a capital, with the figures that follow them, outside the names already found."""
    names = lexicon.refresh().names
    taken = [(n.start, n.start + len(n.text)) for n in found]
    out: list[Name] = []
    run: list[re.Match] = []

    def close() -> None:
        while run and not run[-1].group()[0].isalpha() and len(run) > 1 and not run[-2].group()[0].isalpha():
            run.pop()
        if run and any(m.group()[0].isalpha() for m in run):
            start, end = run[0].start(), run[-1].end()
            surface = text[start:end]
            if not any(a < end and start < b for a, b in taken) and tokenize(surface):
                out.append(Name(surface, tuple(tokenize(surface)), start))
        run.clear()

    for m in re.finditer(r"[A-Za-z][\w&'.-]*|\d[\d,.]*", text):
        word = m.group().lower().removesuffix("'s").replace("'", "").replace(".", "")
        if word[0].isdigit():
            if run:
                run.append(m)
            continue
        if word in names and word not in STOPWORDS and len(word) > 1:
            run.append(m)
        else:
            close()
    close()
    return out


def _has_shorthand(name: str) -> bool:
    from chat.glossary import ABBREVIATIONS

    return any(w.lower() in ABBREVIATIONS for w in re.findall(r"[\w&/+-]+", name))
