"""A comparison answer, side by side: each side's best sentences grouped under the side ("growth vs value ETFs"),
or, when articles are compared ("Do the two articles agree…?"), each article's own answer to the question under
the article; a note for a side the passages say nothing on.

    draft = comparison(answerer, q, evidence)   # q.sides from chat.sides, evidence.sides from chat.evidence

Called by `ExtractiveAnswerer.draft` (chat.extractive) for a comparison question.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from chat.evidence import Evidence
from chat.figures import extract_numbers
from chat.questions import EXPLANATION, FACT, Question, metrics_of
from chat.schema import Claim, Draft
from chat.selection import ASKS_HOW, metric_present, with_gaps
from chat.sentences import term_named
from chat.sides import dimension_of
from chat.text import name_spans, tokenize

if TYPE_CHECKING:
    from chat.extractive import ExtractiveAnswerer

__all__ = ["comparison"]


def comparison(answerer: ExtractiveAnswerer, q: Question, evidence: Evidence) -> Draft:
    """Each side's answer, grouped under the side: an article's own answer to the question when articles are
    compared, otherwise the best sentences that name the side."""
    if not q.sides:
        return _article_comparison(answerer, q, evidence)
    p = answerer.policy
    claims: list[Claim] = []
    used: set[str] = set()
    gaps: list[str] = []
    covered: list[str] = []
    terms_of = {label: answerer.lexicon.terms(label) for label, _ in evidence.sides}
    for k, (label, numbers) in enumerate(evidence.sides):
        units = answerer.units(q, evidence.passages, numbers)
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
            rarest = max(side_terms, key=lambda t: answerer.lexicon.idf(t.token))
            if any(not any(answerer.lexicon.knows(f) for f in t.forms | t.synonyms) for t in side_terms):
                units = []
            else:
                units = named or [
                    u for u, h in zip(units, hits) if h and rarest.forms & set(tokenize(f"{u.text} {u.context}"))
                ]
        if not units:
            gaps.append(label)
            continue
        # A sentence on what is compared ("P/E multiples", "sector makeup") before any other about the side,
        # and one that gives the figure asked for ("15.6 times 2026 earnings" is a P/E) before those.
        dimension = answerer.lexicon.terms(dimension_of(q)) if tokenize(dimension_of(q)) else []
        if dimension:
            on_it = [u for u in units if answerer.lexicon.coverage(dimension, u.text) > 0]
            units = on_it or units
        metrics = metrics_of(q.text)
        if metrics:
            giving = [u for u in units if any(metric_present(m, u.text) and extract_numbers(u.text) for m in metrics)]
            units = giving or units
        scores, vecs = answerer.score(q, units, evidence.passages, query)
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
    return with_gaps(Draft(claims, lead="From the articles:" if covered and len(claims) > 1 else ""), gaps)


def _article_comparison(answerer: ExtractiveAnswerer, q: Question, evidence: Evidence) -> Draft:
    """Article against article ("Do the two articles agree on how cheap small caps are?"): each article's answer
    to the question itself, chosen as a fact or why / how question is (its best sentences and the next one that
    completes them), under the article."""
    inner = dataclasses.replace(q, type=EXPLANATION if ASKS_HOW.search(q.text) else FACT, sides=[], two_part=False)
    claims: list[Claim] = []
    used: set[str] = set()
    gaps: list[str] = []
    for label, numbers in evidence.sides:
        side = answerer.facts_in(inner, evidence, numbers).claims
        if not side:
            gaps.append(label)
        for c in side:
            if c.text not in used:
                used.add(c.text)
                claims.append(dataclasses.replace(c, bullet=True, group=label))
    return with_gaps(Draft(claims), gaps)
