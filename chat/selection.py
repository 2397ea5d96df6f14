"""Choosing and completing the sentences of an answer (a short topic sentence with the one that completes it, bullet
runs, lists an article counts out), and reading what the question asks for (its parts, a count, roles, a metric
an article states)."""

from __future__ import annotations

import re

import numpy as np

from chat.figures import extract_numbers
from chat.glossary import (
    FIGURE_METRICS,
    LIST_KINDS,
    METRICS,
    ROLES,
)
from chat.questions import (
    Question,
    topic_of,
)
from chat.schema import Draft
from chat.sentences import DIGIT, ORDINAL, ORG_WORDS, Unit, table_rows
from chat.text import NUMBER_WORDS, split_sentences, stem, tokenize


def with_gaps(draft: Draft, gaps: list[str]) -> Draft:
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
        if DIGIT.search(u.text) or len(u.text.split()) > TOPIC_SENTENCE_WORDS or u.item >= 0:
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
        lead = max(
            (j for j, u in enumerate(units) if u.n == n and u.paragraph == para - 1 and u.item < 0),
            key=lambda j: units[j].position,
            default=None,
        )
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


def complete_runs(
    units: list[Unit], scores: np.ndarray, chosen: list[int], limit: int, count: int | None = None
) -> list[int]:
    """An article that counts its points ("Three forces are behind the move. First, … Second, … Third, …") or
    lists them as bullets has made the list itself: when a chosen point is one item of such a run (see
    bullet_runs for lists), the whole run is the answer's core, in the article's order, and the other points fill
    what room is left."""
    runs: list[list[int]] = bullet_runs(units, chosen, limit, count)
    for i in chosen:
        if not ORDINAL.match(units[i].text) or any(i in run for run in runs):
            continue
        run = sorted(
            {
                j
                for j, u in enumerate(units)
                if u.source == units[i].source and ORDINAL.match(u.text) and abs(u.order[0] - units[i].order[0]) <= 1
            },
            key=lambda j: units[j].order,
        )
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


_PART_SPLIT = re.compile(
    r"\?\s+|,?\s+(?:and|also|plus|but)\s+(?=(?:what|how|which|who|whom|when|where|why|is|are|"
    r"was|were|does|do|did|has|have|can|could|will|would|should)\b)",
    re.I,
)
_WHY_HOW = r"(?:why|how (?:does|do|did|come|is|are|was|were|can|could|would|will))"
EXPLAIN_PART = re.compile(rf"^\s*{_WHY_HOW}\b", re.I)  # a part of a two-part question that asks why / how
# A comparison of articles that asks why / how ("Do the two articles see rate cuts helping the same way?")
ASKS_HOW = re.compile(rf"\b(?:{_WHY_HOW}|explain\w*|(?:see|view) .{{1,40}} the same way)\b", re.I)


def continues_quote(first: str, second: str) -> bool:
    """Whether `second` carries on a quotation that `first` opened or attributed."""
    opened = first.count('"') % 2 == 1 or first.count("“") > first.count("”")
    attributed = bool(re.search(r"[\"”],?\s+(?:said|says|added|wrote|noted|told)\b", first))
    return opened or (attributed and second[:1] in '"“')


def split_parts(text: str) -> list[str]:
    """The questions a two-part question asks, each with at least two words of its own."""
    parts = [p.strip(" ,;") for p in _PART_SPLIT.split(text) if p and p.strip(" ,;?")]
    return [p for p in parts if len(tokenize(p)) >= 1] if len(parts) >= 2 else [text]


def title_case(name: str) -> str:
    """A name typed in lowercase written as a name ("peter roy" → "Peter Roy")."""
    return " ".join(w[:1].upper() + w[1:] for w in name.split()) if name.islower() else name


def person_like(name: str) -> bool:
    """Two to four capitalised words, none of them an organisation's: "Peter Roy", "Samuel Rines"."""
    parts = name.split()
    return (
        2 <= len(parts) <= 4
        and all(p[:1].isupper() and p[1:].islower() for p in parts if p.isalpha())
        and not (set(tokenize(name)) & ORG_WORDS)
        and not re.search(r"[\d&]", name)
    )


def asked_roles(text: str) -> set[str]:
    """Stems of the role words a person-list question asks for ("analysts" → analyst, strategist, economist…)."""
    out: set[str] = set()
    for word in tokenize(text):
        for role, words in ROLES.items():
            if word == tokenize(role)[0]:
                out.update(t for w in words for t in tokenize(w))
    return out


def topic_words(q: Question) -> set[str]:
    """What a list question asks about besides the kind of thing and the article ("weighted", "ripe takeover")."""
    kind_words = {t for spec in LIST_KINDS.values() for w in spec["asks"] for t in tokenize(w)}
    framing = {
        stem(w)
        for w in (
            "named name names quoted quotes quote cited cites cite mention mentions mentioned highlighted highlights "
            "highlight single out feature features featured discuss discusses discussed individual specific list all "
            "every any other one two three four five six seven eight nine ten several few main key top interview "
            "interviews interviewed appear appears"
        ).split()
    }
    own = {t for a in q.articles for t in tokenize(f"{a.publisher} {a.title}")}
    topic = topic_of(split_parts(q.text)[0], q.articles) if q.two_part else q.topic
    return {t for t in tokenize(topic) if t not in kind_words | framing | own}


def asked_noun(q: Question) -> str:
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
    return {
        "fund": "funds",
        "index": "indices",
        "person": "people",
        "sector": "sectors",
        "country": "countries",
        "company": "companies",
    }.get(kind, "names")


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
            if re.match(
                r"^(?:It|Its|The (?:fund|company|firm|stock|ETF|bank|group|index)|This|That|They|Their)\b", follow
            ) and gives(follow):
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
