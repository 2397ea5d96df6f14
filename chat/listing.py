"""A list answer ("Which ETFs does the CoinMela piece name?"): one cited bullet per sentence that names things of
the asked kind (funds, indices, companies, people and their role, sectors, countries, institutions, table rows),
the names first, under a line saying what is listed.

    draft = listing(answerer, q, evidence)   # answerer: the chat.extractive.ExtractiveAnswerer that scores sentences

Called by `ExtractiveAnswerer.draft` for a list question; an empty draft with `unlisted` set says the evidence
names nothing of the kind asked (chat.refusal words the reply).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from chat.evidence import Evidence
from chat.questions import Question
from chat.schema import Claim, Draft
from chat.selection import asked_noun, asked_roles, person_like, title_case, topic_words
from chat.sentences import NOT_COMPANY, ORG_WORDS, Unit, list_items
from chat.text import name_spans, tokenize

if TYPE_CHECKING:
    from chat.extractive import ExtractiveAnswerer

__all__ = ["listing"]


def listing(answerer: ExtractiveAnswerer, q: Question, evidence: Evidence) -> Draft:
    """One bullet per sentence that names things of the asked kind, the names first."""
    p = answerer.policy
    units = answerer.units(q, evidence.passages)
    if not units:
        return Draft([])
    scores, vecs = answerer.score(q, units, evidence.passages)
    exclude = {n.tokens for n in q.names}
    names = answerer.lexicon.refresh().names
    items = [
        [u.table]
        if u.table and u.table[:1].isupper() and not re.search(r"\d", u.table)
        else list_items(u.text, q.list_kind or "", exclude, names)
        for u in units
    ]
    # People the question names: "Peter Roy", or "Pryce" when the articles call someone "Dana Pryce".
    persons = {span.text for u in units for span in name_spans(u.text, title_case_ok=True) if person_like(span.text)}
    surnames = {name.split()[-1] for name in persons}
    # (also when typed in lowercase: "which companies does peter roy like?")
    people = [
        n
        for n in q.subjects
        if n.text not in q.unknown
        and (
            (n in q.names and (person_like(n.text) or n.text in surnames))
            or title_case(n.text) in persons
            or title_case(n.text) in surnames
        )
    ]
    if people:
        # "Which firm does Samuel Rines work for?": only what is said with him, and any organisation named
        # beside him is an answer ("WisdomTree macro strategist Samuel Rines"); "Peter Roy, a portfolio
        # manager cited by Barron's" names no firm of his.
        about = set()
        for i, u in enumerate(units):
            if any(set(n.tokens) <= set(tokenize(u.text)) for n in people) or (
                i
                and i - 1 in about
                and (units[i - 1].n, units[i - 1].paragraph) == (u.n, u.paragraph)
                and re.match(r"^(?:He|She|His|Her|They|Their)\b", u.text)
            ):
                about.add(i)  # said with the person, or the next sentence about them ("He likes …")
        employer = bool(
            re.search(r"\b(?:firm|company|employer|bank|house|shop|outfit|work(?:s|ed)? (?:for|at))\b", q.text, re.I)
        )

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
                return [
                    x
                    for x in dict.fromkeys(found + named)
                    if not set(tokenize(x)) & (ORG_WORDS - {"co", "group", "inc", "corp"})
                ]
            if q.list_kind not in ("company", "institution", "named"):
                return found
            own = {t for n in people for t in n.tokens}
            spans = {n.text for n in name_spans(u.text, title_case_ok=True) if " " not in n.text}
            beside = [
                x
                for x in list_items(u.text, "named", exclude, names, frozenset(spans)) + found
                if not set(tokenize(x)) & own and not set(tokenize(x)) & NOT_COMPANY
            ]
            return list(dict.fromkeys(x for x in beside if len(x) > 2))

        items = [with_person(i, u, x) for i, (x, u) in enumerate(zip(items, units))]
    if q.list_kind == "person":
        # "Which BOJ board members dissented?" asks for people in that role, not anyone quoted.
        roles = asked_roles(q.text)
        if roles:
            items = [x if set(tokenize(u.text)) & roles else [] for x, u in zip(items, units)]
    holding = [i for i in range(len(units)) if items[i]]
    if not holding:
        # No name of the asked kind anywhere in the evidence: a list of other sentences would not answer.
        return Draft([], unlisted=asked_noun(q) if q.list_kind in ("person", "company", "fund") else "")
    # "Which people does the AInvest piece quote?" asks for every name of the kind in the article; "Which
    # sectors is the Russell 2000 weighted toward?" for those of the sentences that answer it.
    every = bool(q.articles) and not topic_words(q)
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
    noun = asked_noun(q)
    where = (
        " and ".join(a.label for a in q.articles) + (" articles" if len(q.articles) > 1 else " article")
        if q.articles
        else "The articles"
    )
    lead = f"{'The ' if q.articles else ''}{where} name{'s' if len(q.articles) == 1 else ''} these {noun}:"
    return Draft(
        [
            Claim(units[i].text, units[i].n, bullet=True, label=", ".join(items[i]), score=float(scores[i]))
            for i in chosen
        ],
        lead=lead,
    )
