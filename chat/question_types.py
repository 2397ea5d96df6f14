"""A question's type from its wording (fact, explanation, list, summary, comparison, points, advice) and the kind
of list it asks for; the wording patterns chat.questions also reads (articles, sides, two-part questions).
Deterministic regular expressions; tested in tests/test_questions.py."""

from __future__ import annotations

import re

from chat.glossary import LIST_KINDS
from chat.text import STOPWORDS, normalize

# fmt: off
FACT, EXPLANATION, LIST, SUMMARY, COMPARISON, POINTS, ADVICE = (
    "fact", "explanation", "list", "summary", "comparison", "points", "advice")
# fmt: on
TYPES = (FACT, EXPLANATION, LIST, SUMMARY, COMPARISON, POINTS, ADVICE)

DOC_WORDS = r"(?:article|piece|story|report|post|write-?up|text|source|one|publication|coverage)s?"
_SUMMARY = re.compile(
    r"\b(?:summar(?:y|ise|ize|ies|ised|ized)|sum (?:it |this |that |them )?up|gist|tl;?\s?dr|nutshell|recap|overview"
    r"|(?:key|main|major|central|core|big|top|important)\s+(?:points?|takeaways?|messages?|findings?|ideas?|themes?"
    r"|arguments?|claims?|thesis|conclusions?|insights?|highlights?)"
    r"|takeaways?|highlights|in (?:a|one|two|three|brief|short) (?:few )?(?:words?|sentences?|lines?)|cliff ?notes"
    r"|(?:short|quick|brief|condensed|cliffs?) version|rundown|run-down|the upshot|(?:brief|catch) me up|bring me up to speed"
    r"|walk me through (?:the|this|that)\s+(?:\w+\s+){0,3}(?:article|piece|story|report|post)"
    rf"|break (?:it |this |that )?down|(?:argument|thesis|case|storyline|narrative|message) (?:of|in|made (?:by|in)) (?:the|this|that|each) {DOC_WORDS}"
    rf"|what(?:'s| is| are| was)\s+(?:the|this|that|each|both|these|those)\s+(?:\w+\s+){{0,3}}{DOC_WORDS}\s+(?:about|saying|on)\s*[?.!]*$"
    rf"|what (?:does|do|did)\s+(?:the|this|that|each|both|these|those)\s+(?:\w+\s+){{0,3}}{DOC_WORDS}\s+"
    r"(?:say|cover|discuss|argue|claim|conclude|tell us)\s*(?:overall|in short|in general|in brief)?\s*[?.!]*$"
    rf"|what(?:'s| is| are| was) .{{0,80}}\b{DOC_WORDS}\b.{{0,60}}\babout\s*[?.!]*$)",
    re.I,
)
_COMPARISON = re.compile(
    r"\b(?:compares?|comparing|comparison|compared (?:with|to)|versus|vs\.?|differ(?:s|ed|ence|ences)?|"
    r"different from|agree(?:s|d|ment)?|overlap"
    r"|(?:quote|give|cite|use|report|see|share|have|reach) the same"
    r"|go(?:es)? further|in common|(?:same|different) (?:page|angle|emphasis)|each (?:say|emphasi[sz]e)"
    r"|disagree(?:s|d|ment)?|contrast(?:s|ed)?|consistent|contradict(?:s|ory)?|stack up|same (?:view|take|picture|"
    r"story|figures?|numbers?|conclusion)|similar(?:ities|ity|ly)?|side by side|line up|match up|square with"
    r"|(?:both|the two|the 2|each) (?:articles|pieces|stories|reports|sources|publications)\b.*\b(?:say|see|view|"
    r"describe|explain|report|put|think))\b",
    re.I,
)
_ADVICE = re.compile(
    r"\b(?:should (?:i|we|you|investors?|one|people|a (?:retail )?investor|retirees?|savers?)|shall i"
    r"|is (?:it|now|this) (?:a |the )?(?:good|bad|right|smart|wise|great|safe)\b"
    r"|(?:good|bad|right|smart|wise) (?:time|moment|idea) to|worth (?:buying|investing|it|owning|holding|a bet)"
    r"|would you (?:buy|recommend|invest|suggest)|do you (?:recommend|suggest|think (?:i|we) should)"
    r"|recommend(?:ation)?s? for me|good (?:buy|investment|bet|entry)|buy or sell|sell or (?:buy|hold)"
    r"|time to (?:buy|sell|invest|get in|get out|load up)|how should i|what should i|where should i"
    r"|put my (?:money|savings|cash)|make money|invest(?:ing)? my|my (?:portfolio|money|savings|401k|ira)"
    r"|(?:too late|too early) to\b|can i (?:buy|invest|profit)|is .{1,40} a (?:buy|sell)\b|hop on|jump (?:in|on)"
    r"|get (?:in|on board)|pile (?:in|into)|buy the dip|(?:add|allocate|rotate|switch) (?:to|into|some)\b.*\bmy\b"
    r"|overweight or underweight|bullish or bearish|load up on|go all in|good idea|bad idea|smart move|wise move"
    r"|thinking (?:of|about) (?:buying|selling|investing|getting)|(?:investor|retiree|saver|trader) here\b)",
    re.I,
)
# Verbs of a setback ("what could trip up / upend / dent the rally"): a several-points question, about risks.
SETBACK_VERBS = r"trip up|upend|undo|spoil|break|knock|sour|cut short|dent|rattle"
# Verbs of a move running out ("what could make the rally fizzle", "why might the crude rally peter out"): a question
# about why something might end asks for the risks to it, not for an explanation of a fact.
FADE_VERBS = (
    r"fizzle|fade|stall|end|collapse|reverse|falter|unravel|stop|crash|fail|slow|peter out|"
    r"run out of (?:steam|gas)|lose (?:steam|momentum)|roll over|come undone|cool off|wane"
)
_POINTS = re.compile(
    r"\b(?:risks?|risky|go (?:wrong|sideways|south|awry)|downsides?|dangers?|threats?|headwinds?|tailwinds?|drivers?|driving|drove|"
    r"drawbacks?|weaknesses|negatives|pitfalls|problems|what (?:could|might|can|would) (?:kill|sink|reverse|cap|"
    r"limit|slow)|warning signs?|red flags?|what (?:evidence|signs?|signals?|data)|evidence (?:that|suggests?|for)|"
    rf"what (?:could|might|would|can) make .{{1,40}}\b(?:{FADE_VERBS}|last|continue|work)|"
    rf"why (?:might|could|would|may) .{{1,60}}\b(?:{FADE_VERBS})|credit(?:ed|s)? (?:for|with)|attribute[sd]? (?:to|the)|"
    r"behind the|what(?:'s| is| are) behind|catalysts?|reasons|factors|pros\b|cons\b|benefits|advantages|disadvantages|challenges|concerns|"
    r"worries|arguments?|bull case|bear case|what (?:could|might|can|would) (?:derail|hurt|stop|end|threaten|"
    rf"undermine|go|hit|cool|{SETBACK_VERBS})|what(?:\s+is|\s+are|'s)\s+(?:fueling|fuelling|powering|propelling|pushing|supporting|holding back|"
    r"weighing on|lifting|boosting|buoying|underpinning|sustaining)|why (?:\w+\s+){0,6}(?:several|multiple|various)|(?:several|multiple|various|main|key|biggest)"
    r" (?:reasons|factors|drivers|risks|points|ways)|ways (?:to|that|in which)|what (?:can|could|might) "
    r"(?:cause|trigger|spark))\b",
    re.I,
)
_EXPLANATION = re.compile(
    r"^\s*(?:so\s+|ok(?:ay)?\s+|and\s+|but\s+)*(?:why\b|how (?:does|do|did|can|could|would|will|is|are|was|were|has|have|"
    r"come|so|exactly)\b|how's\b|explain|what (?:causes|caused|explains|makes|made|is meant|does .{1,60} mean)|"
    r"in what way|what(?:'s| is) the (?:reason|logic|rationale|mechanism|link|connection|impact|effect)|"
    r".*\b(?:mechanism|rationale|reasoning|how come|how so)\b|"
    r"what (?:effect|impact|role|difference) (?:does|do|did|would|could|will))",
    re.I,
)
_LIST = re.compile(
    r"^\s*(?:so\s+|ok(?:ay)?\s+|and\s+)*(?:which|what|name|list|enumerate|identify|give me|show me|tell me)\b"
    r"|\b(?:list|name|enumerate)\b|\bwho (?:is|are|was|were|gets?|got) (?:mentioned|quoted|cited|named|interviewed)"
    r"|^\s*who\b",
    re.I,
)
ALL_ARTICLES = re.compile(
    r"\b(?:both|the two|the 2|these two|those two|each|all (?:the|of the)?|the) "
    r"(?:articles|pieces|stories|reports|sources|publications|texts|documents|write-?ups)\b"
    r"|\b(?:both|each) (?:of them|article|piece|one|source)\b",
    re.I,
)
# fmt: off
ORDINALS = {
    "first": 0, "1st": 0, "earlier": 0, "older": 0, "oldest": 0, "earliest": 0,
    "second": 1, "2nd": 1, "third": 2, "3rd": 2, "fourth": 3, "4th": 3, "fifth": 4, "5th": 4,
    "last": -1, "latest": -1, "later": -1, "newer": -1, "newest": -1, "most recent": -1, "more recent": -1,
}
# fmt: on
ORDINAL_RE = re.compile(
    r"\b(" + "|".join(sorted(map(re.escape, ORDINALS), key=len, reverse=True)) + rf")\s+(?:\w+\s+)?{DOC_WORDS}\b", re.I
)
SIDE_PATTERNS = (
    re.compile(r"\bbetween\s+(?P<a>.+?)\s+and\s+(?P<b>.+?)(?:\s+(?:on|in|when|regarding|about|for)\b.*)?[?.!]*$", re.I),
    re.compile(
        r"\bcompare\s+(?!(?:with|to|against)\b)(?P<a>.+?)\s+(?:and|with|to|against|vs\.?|versus)\s+(?P<b>.+?)(?:\s+(?:on|in|when|regarding|for)\b.*)?[?.!]*$",
        re.I,
    ),
    re.compile(
        r"(?P<a>[\w&.' -]+?)\s+(?:vs\.?|versus)\s+(?P<b>[\w&.' -]+?)(?:[:,;]|\s+[-–—]\s|\s+(?:on|in|when|for)\b|[?.!]*$)",
        re.I,
    ),
    re.compile(
        r"\b(?:how (?:does|do|did|has|have)|do|does|did|are|is)\s+(?P<a>.+?)\s+(?:compare|stack up|differ|"
        r"measure up)\s+(?:with|to|against|from)\s+(?P<b>.+?)[?.!]*$",
        re.I,
    ),
    re.compile(
        r"\b(?:is|are|was|were)\s+(?P<a>.+?)\s+(?:\w+er|more \w+|less \w+|better|worse)\s+than\s+(?P<b>.+?)[?.!]*$",
        re.I,
    ),
    re.compile(
        r"(?P<a>[\w&.'’ -]+?)\s+compared (?:with|to)\s+(?P<b>[\w&.'’ -]+?)(?:[:,;]|\s+(?:on|in|when|for|going)\b|[?.!]*$)",
        re.I,
    ),
)
TWO_PART = re.compile(
    r"\?.+\?|\b(?:and|also|plus)\s+(?:what|how|which|who|when|where|why|is|are|does|do|did)\b"
    r"|\band (?:its|their|his|her)\s+\w+",
    re.I,
)
# Framing words dropped from the topic of a summary, comparison or points question.
FRAMING = re.compile(
    r"\b(?:do|does|did|can|could|would|will|please|you|me|us|i|give|tell|show|list|name|summari[sz]e|explain|"
    r"compare|what|which|how|who|why|is|are|was|were|the|a|an|of|in|on|about|regarding|say|says|said|agree|"
    r"disagree|differ|both|two|each|these|those|this|that|key|main|points?|takeaways?|gist|overview|articles?|"
    r"pieces?|stories|story|reports?|sources?|tl;?\s?dr|according|to|versus|vs|between|and)\b",
    re.I,
)
_ARTICLE_WORDS = re.compile(rf"\b{DOC_WORDS}\b", re.I)


def question_type(text: str) -> str:
    """The type of an English question (see the module docstring), by the first rule that matches."""
    t = normalize(text).strip()
    if _SUMMARY.search(t):
        return SUMMARY
    if _ADVICE.search(t):
        return ADVICE
    if _COMPARISON.search(t):
        return COMPARISON
    if _POINTS.search(t):
        return POINTS
    if _EXPLANATION.search(t):
        return EXPLANATION
    if _LIST.search(t) and list_kind(t):
        return LIST
    return FACT


def list_kind(text: str) -> str | None:
    """The kind of thing a list question asks for: the first kind word after which/what/list/name."""
    t = normalize(text).lower()
    if re.search(
        r"\bwho (?:is|are|was|were|gets?|got) (?:mentioned|quoted|cited|named|interviewed)|^\s*who (?:are|were) the\b",
        t,
    ):
        return "person"
    if re.search(r"\bwhat (?:kind|type|sort) of\b", t):
        return None  # "what kind of company is Amplitude" asks about one thing
    m = re.search(r"\b(?:which|what|list|name|enumerate|identify|mention|mentions|names)\b(?P<rest>.*)", t)
    if not m or re.match(r"\s+(?:does|do|did|can|could|would|will|should|has|have|had|might|may)\b", m.group("rest")):
        return None  # "what does the economist say" asks what was said, not for a list
    words = re.findall(r"[a-z&/'+-]+", m.group("rest"))[:8]
    # The noun phrase after "which": up to a verb or a function word ("which oil majors | and E&P names rallied").
    phrase: list[str] = []
    for k, w in enumerate(words):
        # An "-ed" word ends the phrase as a verb ("which oil majors rallied"), not as an adjective inside it
        # ("which cap weighted ETFs").
        verb_ed = w.endswith("ed") and len(w) > 4 and (k + 1 == len(words) or words[k + 1] in STOPWORDS)
        if phrase and (w in STOPWORDS or w in _LIST_VERBS or verb_ed):
            break
        phrase.append(w.removesuffix("'s"))

    def kind_of(word: str, before: str) -> str | None:
        if word in ("fund", "funds") and before in ("fed", "federal"):
            return None  # the fed funds rate is not a fund
        for kind, spec in LIST_KINDS.items():
            if word in spec["asks"] and not (
                kind == "country" and word in ("market", "markets") and "emerging" not in t
            ):
                return kind
        return None

    # Two-word kinds first ("central banks", "business lines"), then the head noun: the last kind word.
    for i in range(len(phrase) - 1):
        kind = kind_of(f"{phrase[i]} {phrase[i + 1]}", "")
        if kind:
            return kind
    for i in range(len(phrase) - 1, -1, -1):
        kind = kind_of(phrase[i], phrase[i - 1] if i else "")
        if kind:
            return kind
    return None


# fmt: off
# Verbs that end the noun phrase of a list question.
_LIST_VERBS = {"make", "makes", "appear", "appears", "rose", "fell", "say", "says", "get", "got", "trade", "trades", "pay",
               "pays", "hold", "holds", "offer", "offers", "highlight", "highlights", "single", "mention", "mentions",
               "name", "names", "quote", "quotes", "cite", "cites", "feature", "features", "lead", "led", "see", "sees",
               "expect", "expects", "benefit", "benefits", "stand", "stands", "look", "looks", "drive", "drove"}
# fmt: on
