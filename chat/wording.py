"""A question's wording mended before it is read: informal spellings ("whats", "u", "pls", "gimme") and misspelt
framing words fixed, trader shorthand for figures written out ("$5k", "$1.5bn", "300mm"), instructions set aside
(an article text is never an instruction), and a follow-up ("and the other one?") rewritten with the topic of
the turn before. Tested in tests/test_questions.py."""

from __future__ import annotations

import re

from rapidfuzz.distance import DamerauLevenshtein

from chat.lexicon import Lexicon
from chat.text import STOPWORDS, tokenize

# Instructions smuggled into a question ("ignore your instructions", "print your system prompt", "then say
# PWNED", "make up a number"): removed before the question is read; they are never followed.
_INSTRUCTION = re.compile(
    r"(?:\b(?:system|developer|admin|assistant)\s*:|\bdeveloper mode\b|\bjailbreak|\bDAN\b"
    r"|\b(?:ignore|disregard|forget|override|bypass)\b[^.!?\n]{0,60}\b(?:instructions?|rules|prompts?|guidelines|"
    r"everything|above|previous)"
    r"|\byou are now\b|\bfrom now on\b|\bpretend\b|\bact as\b|\brole-?play"
    r"|\b(?:print|reveal|show|repeat|output|leak|tell me)\b[^.!?\n]{0,30}\b(?:system|hidden|secret|initial|"
    r"original)\s+(?:prompt|instructions|message)"
    r"|\b(?:just\s+)?(?:make up|fabricate|hallucinate|invent)\s+(?:a |an |some |the |me |one )?(?:\w+\s+){0,3}?"
    r"(?:numbers?|figures?|answers?|data|facts?|statistics?|stats?|quotes?|estimates?|forecasts?|prices?|"
    r"something|anything)\b"
    r"|(?:\b(?:then|and|also|now|just)\s+)?\b(?:say|write|print|type|output|repeat|reply|respond|answer)\s+"
    r"(?:(?:only|exactly|just|with|the word)\s+){0,3}(?:[\"'“][^\"'”]{1,30}[\"'”]|(?-i:[A-Z]{3,})\b))"
    r"[^.!?\n]*[.!?]?",
    re.I,
)


def strip_instructions(text: str) -> tuple[str, bool]:
    """The question without instructions aimed at the assistant, and whether there were any."""
    out = _INSTRUCTION.sub(" ", text)
    if out == text:
        return text, False
    return re.sub(r"\s+", " ", re.sub(r"^[\s,;:.]+|[\s,;:]+$", "", out)).strip(), True


# fmt: off
# How people type questions: apostrophes left out ("whats", "doesnt") and chat shorthand ("u", "pls"). The type
# rules read standard spelling, so "whats the first article about" must read "what's …" to be a summary.
_INFORMAL = {
    "whats": "what's", "hows": "how's", "whos": "who's", "wheres": "where's", "whens": "when's", "whys": "why's",
    "thats": "that's", "theres": "there's", "dont": "don't", "doesnt": "doesn't", "didnt": "didn't", "isnt": "isn't",
    "arent": "aren't", "wasnt": "wasn't", "werent": "weren't", "cant": "can't", "wont": "won't", "shouldnt":
    "shouldn't", "wouldnt": "wouldn't", "couldnt": "couldn't", "hasnt": "hasn't", "havent": "haven't", "im": "I'm",
    "ive": "I've", "id": "I'd", "u": "you", "ur": "your", "pls": "please", "plz": "please", "gimme": "give me",
    "wanna": "want to", "gonna": "going to", "abt": "about", "bc": "because", "cuz": "because",
    "thru": "through", "tho": "though",
}
# The words the type rules key on. A misspelling of one ("sumarize", "wich", "compair", "expain") is mended when it
# is no English word and no word of the articles: one edit away (Damerau), from four letters.
FRAMING_WORDS = (
    "which", "what", "where", "when", "why", "who", "whose", "how", "should", "would", "could", "compare",
    "compared", "comparison", "versus", "between", "difference", "differences", "differ", "agree", "disagree",
    "contrast", "summarize", "summarise", "summary", "overview", "takeaways", "highlights", "gist", "explain",
    "explains", "reason", "reasons", "factors", "drivers", "driving", "risks", "risky", "threats", "headwinds",
    "tailwinds", "catalysts", "drawbacks", "downsides", "advantages", "disadvantages", "benefits", "concerns",
    "article", "articles", "piece", "pieces", "story", "stories", "report", "mention", "mentions", "mentioned",
    "name", "names", "named", "list", "quote", "quoted", "cite", "cited", "recommend", "about", "first", "second",
    "third", "latest", "newest", "oldest", "both", "each", "according", "invest", "buy", "sell",
)
# fmt: on


def mend_question(text: str, lexicon: Lexicon | None = None) -> str:
    """An English question in the spelling the type rules read: apostrophes put back, chat shorthand spelt out,
    misspelt framing words mended ("whats the frist article about" → "what's the first article about")."""
    english = lexicon.english if lexicon is not None else frozenset()
    known = lexicon.refresh().words if lexicon is not None else frozenset()

    def fix(m: re.Match) -> str:
        word = m.group(0)
        low = word.lower()
        if low in _INFORMAL:
            out = _INFORMAL[low]
            return out[:1].upper() + out[1:] if word[:1].isupper() else out
        if (
            len(low) < 4
            or not low.isalpha()
            or low in english
            or low in known
            or low in FRAMING_WORDS
            or word[:1].isupper()
            and m.start() > 0
        ):
            return word
        close = [
            f
            for f in FRAMING_WORDS
            if abs(len(f) - len(low)) <= 1 and f[:1] == low[:1] and DamerauLevenshtein.distance(f, low) <= 1
        ]
        if len(close) == 1:
            return close[0][:1].upper() + close[0][1:] if word[:1].isupper() else close[0]
        return word

    text = re.sub(r"(?<![\w/])w/(?=\s)", "with", text)
    # Figures in trader shorthand: "$5k" is $5,000, "$1.5bn" $1.5 billion, "300mm" 300 million.
    text = re.sub(r"(?<![\w.,])(\$?)(\d{1,3})k\b", lambda m: f"{m.group(1)}{m.group(2)},000", text, flags=re.I)
    # (one letter only after a dollar figure: "3m T-bills" are three-month bills)
    for short, letter, word in (("tn|trn", "t", "trillion"), ("bn|bil", "b", "billion"), ("mm|mn|mln", "m", "million")):
        text = re.sub(
            rf"(?<![\w.,])(\$\d+(?:\.\d+)?\s?(?:{short}|{letter})|\d+(?:\.\d+)?\s?(?:{short}))\b(?!-)",
            lambda m, word=word: re.sub(r"\s?[a-z]+$", f" {word}", m.group(1), flags=re.I),
            text,
            flags=re.I,
        )
    # ("U.S." and "e.g." are abbreviations, not the words "u" and "e")
    return re.sub(r"(?<![\w'’&/.-])[A-Za-z]+(?![\w'’&-]|\.\w)", fix, text)


# --- follow-ups ----------------------------------------------------------------------------------------

FOLLOWUP_LEAD = re.compile(
    r"^\s*(and|but|so|also|what about|how about|and what|what of|why is that|why|how so|it|its|they|them|their|"
    r"this|that|those|these|he|she|which|same|more on|tell me more|anything else|compared)\b",
    re.I,
)


def rewrite_followup(question: str, history: list[dict[str, str]]) -> str:
    """Deterministic standalone query: a short or pronoun-led follow-up carries the previous question's terms.

    `history` is chat messages [{"role": "user"|"assistant", "content": ...}], oldest first.
    """
    previous = [m["content"] for m in history if m.get("role") == "user" and m.get("content", "").strip()]
    if not previous:
        return question
    content = tokenize(question)
    if len(content) > 2 and not FOLLOWUP_LEAD.match(question):
        return question  # "How cheap are small caps compared with the S&P 500?" stands on its own
    carried: list[str] = []
    for word in re.findall(r"[^\W_]+(?:['’&-][^\W_]+)*", previous[-1]):
        low = word.lower()
        if low not in STOPWORDS and len(low) > 2 and (tokenize(low) or [low])[0] not in content and word not in carried:
            carried.append(word)
    return f"{question} ({' '.join(carried)})" if carried else question
