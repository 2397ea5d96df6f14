"""What a question asks: its type, the articles it names, the sides it compares, the kind of list it wants, the
detail it asks for. Deterministic (regular expressions over the question and the article catalogue); tested
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
    ORDINALS,
    POINTS as POINTS,
    SETBACK_VERBS,
    SIDE_PATTERNS,
    SUMMARY as SUMMARY,
    TWO_PART,
    TYPES as TYPES,
    list_kind as list_kind,
    question_type as question_type,
)
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


def _squash(text: str) -> list[str]:
    """Words of a text and every two and three neighbours joined: "A-Invest", "Coin Mela" → "ainvest", "coinmela"."""
    words = re.findall(r"[a-z0-9&]+", normalize(text).lower())
    return (
        words + [a + b for a, b in zip(words, words[1:])] + [a + b + c for a, b, c in zip(words, words[1:], words[2:])]
    )


def named_articles(
    text: str, catalogue: list[Article], *, by_title: bool, names: frozenset[str] | None = None
) -> list[Article]:
    """Articles the question names: by publisher (any spelling), by position ("the second article") or, for a
    summary, by words of its title that no other title has ("the article about the resurgence")."""
    found: list[Article] = []
    pieces = set(_squash(text))
    words = set(re.findall(r"[a-z0-9&]+", normalize(text).lower()))
    for art in catalogue:
        key = re.sub(r"[^a-z0-9&]", "", art.publisher.lower())
        # "Bayline" names "Bayline Financial News": the publisher's own word, not "Financial" or "News".
        # ("The Small-Cap Report" is not named by "small": only a word the articles use as a name counts)
        own = [
            w
            for w in re.findall(r"[a-z0-9&]+", art.publisher.lower())
            if w not in _MEDIA_WORDS and len(w) >= 4 and (names is None or w in names)
        ]
        # "Harbor & Vine Research" is also "harbor and vine", "harbor&vine", "harborvine".
        # (only for a name of two words or more: one word is the `own` rule's, which needs it to be a name)
        core_words = [w for w in re.findall(r"[a-z0-9&]+", art.publisher.lower()) if w not in _MEDIA_WORDS]
        core = "".join(core_words)
        plain = [w for w in core_words if w != "&"]
        cores = (
            {core, core.replace("&", "and"), core.replace("&", "")}
            if len(core) >= 6 and len(plain) >= 2 and (names is None or all(w in names for w in plain))
            else set()
        )
        if len(key) >= 3 and (
            key in pieces
            or key.removeprefix("the") in pieces
            or (len(key) >= 6 and any(len(p) >= len(key) - 1 and _close(p, key) for p in pieces))
            or (own and own[0] in words)
            or cores & pieces
        ):
            found.append(art)
    for m in ORDINAL_RE.finditer(text):
        i = ORDINALS[m.group(1).lower()]
        if -len(catalogue) <= i < len(catalogue) and catalogue[i] not in found:
            found.append(catalogue[i])
    if not found and by_title and len(catalogue) > 1:
        words = set(tokenize(text))
        unique = []
        for art in catalogue:
            own = set(tokenize(art.title)) - set().union(*(set(tokenize(o.title)) for o in catalogue if o is not art))
            own = {w for w in own if not w[0].isdigit() and len(w) > 3}
            if own & words:
                unique.append(art)
        if len(unique) == 1:
            found = unique
    return found


# fmt: off
# Words publishers share, which name none of them alone.
_MEDIA_WORDS = {"the", "financial", "finance", "news", "daily", "markets", "market", "review", "post", "times",
                "journal", "capital", "letter", "research", "weekly", "report", "insider", "wire", "media", "group",
                "press", "herald", "gazette", "tribune", "today", "online", "digital", "money", "investor", "investing",
                "economic", "economics", "business", "street", "global", "world", "international", "asia", "europe"}
# fmt: on


def _close(a: str, b: str) -> bool:
    from rapidfuzz.distance import DamerauLevenshtein

    return DamerauLevenshtein.distance(a, b) <= 1


def sides_of(text: str) -> list[str]:
    """The two things a comparison compares, when it names them ("growth vs value ETFs" → growth, value ETFs)."""
    t = normalize(text).strip()
    for pattern in SIDE_PATTERNS:
        m = pattern.search(t)
        if m:
            a, b = (
                re.sub(r"^(?:the|a|an)\s+", "", s.strip(" ,;:'\"?"), flags=re.I) for s in (m.group("a"), m.group("b"))
            )
            a, b = (
                re.split(r"\s+[-–—]\s+|,|\s+(?:which|that|who|where|when)\b", x, maxsplit=1, flags=re.I)[0].strip()
                for x in (a, b)
            )
            a, b = _possessor(a), _possessor(b)
            a, b = _last_phrase(a), _first_phrase(b)
            a, b = _mend_sides(a, b)
            if a and b and tokenize(a) and tokenize(b) and a.lower() != b.lower():
                return [a, b]
    return []


def _possessor(side: str) -> str:
    """What a side is when it is written as something of it: "the yen's move after the BoJ hike" compares the yen
    ("move after the hike" is what is compared), "the Korean won's slide in January" the Korean won."""
    m = re.match(r"^(?:the\s+)?(?P<who>[\w&.-]+(?:\s+[\w&.-]+){0,3}?)['’]s?\s+\w", side, re.I)
    if m and "'" in side[m.start("who") : m.end("who") + 2] and tokenize(m.group("who")):
        return m.group("who")
    return re.sub(r"['’]s?$", "", side)  # "… against Globex's" (its margin)


def _mend_sides(a: str, b: str) -> tuple[str, str]:
    """Sides as a reader means them: no leading years or punctuation ("2026, little companies"), and "big ones"
    borrows the noun of the other side ("big companies")."""
    a, b = (re.sub(r"^(?:\d{4}\s*,?\s*|[\s,;:?!.]+)+|[\s,;:?!.]+$", "", x) for x in (a, b))
    for x, y in ((a, b), (b, a)):
        if re.search(r"\bones?$", y, re.I) and x.split():
            noun = x.split()[-1]
            if y is b:
                b = re.sub(r"\bones?$", noun, b, flags=re.I)
            else:
                a = re.sub(r"\bones?$", noun, a, flags=re.I)
    return a, b


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


_BENCHMARK = re.compile(
    r"^(?:(?:its|their|his|her|the)\s+)?(?:\w+\s+){0,2}?(?:consensus|estimates?|expectations?|forecasts?|"
    r"guidance|last year|a year (?:ago|earlier)|prior year|previous (?:year|quarter)|peers?|average|benchmark|"
    r"peak|high|low|record|target|plan|street|wall street)\b|^(?:its|their|his|her)\b",
    re.I,
)


_MONTH_NUMBER = {
    m: i for i, m in enumerate(("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1)
}
_DAY_RE = re.compile(r"\b(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+(\d{1,2})(?!\d)", re.I)


def dated_articles(text: str, catalogue: list[Article]) -> list[Article]:
    """Articles published on a day the question names ("what pushed yields up on Feb 11?"): news of that day."""
    days = {(_MONTH_NUMBER[m.group(1).lower()[:3]], int(m.group(2))) for m in _DAY_RE.finditer(text)}
    out = []
    for art in catalogue:
        m = re.match(r"\d{4}-(\d{2})-(\d{2})", art.published or "")
        if m and (int(m.group(1)), int(m.group(2))) in days:
            out.append(art)
    return out


def _last_phrase(text: str) -> str:
    """The noun phrase a side ends with: at most three content words back ("How does X affect small caps" →
    "small caps")."""
    words = text.split()
    while len(words) > 1 and not tokenize(words[-1]):
        words.pop()  # "what P/E is the S&P SmallCap 600 on vs the SPX": the side ends before "on"
    out: list[str] = []
    for w in reversed(words):
        if not tokenize(w) or len(out) == 3 or w.lower() in _VERBS:
            break
        out.insert(0, w)
    return " ".join(out) or text


def _first_phrase(text: str) -> str:
    words = text.split()
    out: list[str] = []
    for w in words:
        if not tokenize(w) or len(out) == 3 or w.lower() in _VERBS:
            break
        out.append(w)
    return " ".join(out) or text


# fmt: off
# Verbs that end a side's noun phrase ("how does the dollar affect small caps").
_VERBS = {"hit", "hits", "affect", "affects", "hurt", "hurts", "help", "helps", "compare", "compares", "differ", "differs", "impact",
          "impacts", "perform", "performed", "trade", "trades", "traded", "do", "does", "did", "fare", "fared",
          "stack", "look", "looks", "react", "reacted", "move", "moved", "beat", "beats", "lag", "lags", "yield",
          "yields", "rally", "rallied", "rise", "rose", "fall", "fell", "get", "gets", "has", "have", "had", "last",
          "lasted"}
# fmt: on


def _without_periods(name: Name) -> Name:
    """ "Q3 Brent" is Brent, "2026 Russell 2000" is Russell 2000: times at either end are not part of a name."""
    words = name.text.split()
    while len(words) > 1 and _is_period(words[0]) and not words[1][:1].isdigit():
        words = words[1:]
    while len(words) > 1 and _is_period(words[-1]) and not re.fullmatch(r"\d{2,4}", words[-1]):
        words = words[:-1]
    text = " ".join(words)
    return name if text == name.text else Name(text, tuple(tokenize(text)), name.start + name.text.find(text))


_OUTCOME = re.compile(r"\b(?:did|was|were|ended|closed|finished|happened|turned out|wound up|end up|ending)\b", re.I)
_PERIOD_END = re.compile(
    r"\b(?:(?:close|end|final days?|last day) of|by|at year-end|in|during|over|finish(?:ed)?|"
    r"end(?:ed)?|close[d]?) (?:the )?(?:year )?(?P<year>20\d\d)\b",
    re.I,
)


def asks_after(text: str, catalogue: list[Article]) -> str:
    """The newest article's date when the question asks how things turned out by a time after it ("Where did
    small caps end up by the close of 2026?" of articles from January 2026): no article can know."""
    dates = sorted(a.published[:10] for a in catalogue if re.match(r"\d{4}-\d{2}-\d{2}", a.published or ""))
    if not dates or not _OUTCOME.search(text):
        return ""
    for m in _PERIOD_END.finditer(text):
        year = int(m.group("year"))
        ends = "by" in m.group(0).lower() or re.search(r"close|end|final|last|year-end|finish", m.group(0), re.I)
        if (year > int(dates[-1][:4])) or (ends and f"{year}-12-31" > dates[-1] and year == int(dates[-1][:4])):
            return dates[-1]
    return ""


# fmt: off
# Words after which "A and B" is the set that defines one thing ("core prices, excluding food and energy").
_SET_WORDS = {"excluding", "including", "ex", "except", "without", "besides", "minus", "stripping", "strips",
              "strip", "outside"}
# fmt: on


_PAIR_JOINERS = ("and", "or", "vs", "vs.", "versus")
_JOINERS = _PAIR_JOINERS + ("against",)


def coordinated(topic: str, joiners: tuple[str, ...] = _JOINERS) -> list[str]:
    """The two things joined by "and" / "or" in a comparison's topic ("how lenders and carmakers traded" →
    lenders, carmakers): up to three content words on each side, up to a verb."""
    found = _coordinated(topic, joiners)
    return list(_mend_sides(*found)) if found else []


def _coordinated(topic: str, joiners: tuple[str, ...]) -> list[str]:
    words = topic.split()
    for i, w in enumerate(words):
        if w.lower() in joiners and 0 < i < len(words) - 1:
            before, after = [], []
            for x in reversed(words[:i]):
                if x.lower() in _SET_WORDS:
                    return []  # "prices excluding food and fuel": one thing, defined by a set
                if not tokenize(x) or len(before) == 3 or x.lower() in _VERBS:
                    break
                before.insert(0, x)
            for x in words[i + 1 :]:
                if not after and x.lower() in ("the", "a", "an", "its", "their"):
                    continue
                if not tokenize(x) or len(after) == 3 or (after and x.lower() in _VERBS):
                    break
                after.append(x)
            if before and after:
                return [" ".join(before), " ".join(after)]
    return []


def dimension_of(q: Question) -> str:
    """What a comparison compares its sides on: the topic without the sides and the articles ("R2K vs SPX: what
    P/E multiples does each article cite?" → "P/E multiples")."""
    t = q.topic
    for side in q.sides:
        for word in side.split():
            t = re.sub(rf"(?<![\w&]){re.escape(word)}(?![\w&])", " ", t, flags=re.I)
    for art in q.articles or []:
        for word in re.findall(r"[\w&]+", art.publisher):
            t = re.sub(rf"(?<![\w&]){re.escape(word)}(?![\w&])", " ", t, flags=re.I)
    t = re.sub(
        r"\b(?:each|both|cite|cites|put|puts|say|says|give|gives|one|ones|which|whose|how|did|does|do|where|"
        r"when|what|overlap|overlaps|further|go|goes|differ|differs|different|difference|differences|agree|"
        r"agrees|disagree|same|similar|contrast|compare|compared|comparison|explaining|explain|explains|view|"
        r"views|take|takes|page|emphasis|emphasize|emphasise|stress|stresses)\b",
        " ",
        t,
        flags=re.I,
    )
    return re.sub(r"\s+", " ", t).strip()


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
    articles = named_articles(text, catalogue, by_title=qtype == SUMMARY, names=names) or (
        named_articles(corrected, catalogue, by_title=qtype == SUMMARY, names=names) if corrected != text else []
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
        if not _is_article_ref(n, articles, catalogue) and not _is_period(n.text) and not _common_shorthand(n.text)
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
        pair = coordinated(corrected, _PAIR_JOINERS)
        if (
            len(pair) == 2
            and all(1 <= len(tokenize(x)) <= 3 for x in pair)
            and not _BENCHMARK.match(pair[1])
            and not all(metrics_of(x) for x in pair)
            and not _names_an_article(pair, articles)
        ):
            qtype = q.type = COMPARISON
    if qtype == COMPARISON and not (all_articles or len(articles) >= 2):
        q.sides = sides_of(corrected) or coordinated(corrected)
        if len(q.sides) == 2 and _BENCHMARK.match(q.sides[1]):
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


def articles_only(topic: str, catalogue: list[Article]) -> bool:
    toks = set(tokenize(topic))
    return bool(toks) and all(any(t in tokenize(a.publisher + " " + a.title) for a in catalogue) for t in toks)


def _is_article_ref(name: Name, articles: list[Article], catalogue: list[Article]) -> bool:
    """A name that is an article's publisher ("The Sterling Review", "Coin Mela") is a reference, not a subject."""
    squashed = re.sub(r"[^a-z0-9&]", "", name.text.lower()).removeprefix("the")
    return len(squashed) >= 3 and any(
        squashed == re.sub(r"[^a-z0-9&]", "", a.publisher.lower()).removeprefix("the") for a in catalogue
    )
