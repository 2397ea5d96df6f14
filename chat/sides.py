"""The two sides of a comparison question: "growth vs value ETFs" → growth, value ETFs; "how did lenders and
carmakers trade" → lenders, carmakers; and what the sides are compared on ("P/E multiples").

    from chat.sides import sides_of, coordinated
    sides_of("How do growth ETFs compare with value ETFs?")       # ['growth ETFs', 'value ETFs']
    coordinated("how lenders and carmakers traded")              # ['lenders', 'carmakers']

chat.questions.analyze sets `Question.sides` with these; chat.evidence retrieves each side on its own and the
comparison answer (chat.comparison) groups sentences under each. Tested in tests/test_questions.py.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from chat.question_types import SIDE_PATTERNS
from chat.text import normalize, tokenize

if TYPE_CHECKING:
    from chat.questions import Question

__all__ = ["BENCHMARK", "PAIR_JOINERS", "coordinated", "dimension_of", "sides_of"]


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


# A second side that is the first one's yardstick ("LKSP Q4 EPS vs consensus", "the yield now vs its February
# peak"): one figure, not two things to compare.
BENCHMARK = re.compile(
    r"^(?:(?:its|their|his|her|the)\s+)?(?:\w+\s+){0,2}?(?:consensus|estimates?|expectations?|forecasts?|"
    r"guidance|last year|a year (?:ago|earlier)|prior year|previous (?:year|quarter)|peers?|average|benchmark|"
    r"peak|high|low|record|target|plan|street|wall street)\b|^(?:its|their|his|her)\b",
    re.I,
)


# fmt: off
# Words after which "A and B" is the set that defines one thing ("core prices, excluding food and energy").
_SET_WORDS = {"excluding", "including", "ex", "except", "without", "besides", "minus", "stripping", "strips",
              "strip", "outside"}
# fmt: on


PAIR_JOINERS = ("and", "or", "vs", "vs.", "versus")
_JOINERS = PAIR_JOINERS + ("against",)


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
