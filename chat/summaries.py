"""Summaries: an article's own takeaway bullets when it opens with them (or lists them under a "Key takeaways"
heading), otherwise its most central sentences (LexRank over sentence embeddings, with lead, section, figure and
title priors from chat.policy), in reading order.

    draft = summary(answerer, q, evidence)   # each article's key points; called by ExtractiveAnswerer.draft
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from chat.evidence import Evidence, article_label
from chat.policy import Policy
from chat.questions import Question
from chat.schema import Claim, Draft
from chat.sentences import DIGIT, LABELLED, TAKEAWAYS, Unit, passage_units

if TYPE_CHECKING:
    from chat.extractive import ExtractiveAnswerer

__all__ = ["central", "summary", "takeaways"]


def takeaways(units: list[Unit]) -> list[Unit]:
    """The bullets an article opens with (or lists under a "Key takeaways" heading), when there are 3–6."""
    headed = [u for u in units if u.bullet and TAKEAWAYS.search(u.heading)]
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
    labelled = [u for u in opening if LABELLED.match(u.text)]
    return opening if 3 <= len(opening) <= 6 and len(labelled) * 2 >= len(opening) else []


def central(units: list[Unit], vecs: np.ndarray, title_sim: np.ndarray, k: int, p: Policy) -> list[Unit]:
    """The k sentences that best stand for the article: LexRank centrality over sentence embeddings, plus
    priors for the lead, for the first sentences of each section (news puts the point of a section first),
    for figures and for closeness to the title (`title_sim`: each unit's cosine to it); at most one per section
    beyond the lead, in reading order. `vecs`: the units' unit vectors."""
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
    figures = np.array([1.0 if DIGIT.search(u.text) else 0.0 for u in units])
    score = (
        rank
        + p.summary_lead_weight * (1 - position)
        + p.summary_section_weight * section_first
        + p.summary_figure_weight * figures
        + p.summary_title_weight * title_sim
    )
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


def summary(answerer: ExtractiveAnswerer, q: Question, evidence: Evidence) -> Draft:
    """Each article's key points: its own takeaway bullets, or its most central sentences, in reading order."""
    p = answerer.policy
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
        chosen = takeaways(units) or _central(answerer, units, article.title, per_article)
        for u in chosen[: max(per_article, len(chosen) if len(chosen) <= 5 else per_article)]:
            claims.append(Claim(u.text, u.n, bullet=True, group=label if len(sides) > 1 else "", score=1.0))
    if len(sides) == 1 and evidence.articles:
        art = evidence.articles[0]
        lead = f"Key points of “{art.title}” ({article_label(art)}):"
    else:
        lead = "Key points of each article:"
    return Draft(claims, lead=lead)


def _central(answerer: ExtractiveAnswerer, units: list[Unit], title: str, k: int) -> list[Unit]:
    """`central` over the answerer's sentence vectors, with each sentence's closeness to the title as its prior."""
    vecs = answerer.embed([u.text for u in units])
    title_sim = vecs @ answerer.embed_query(title) if title else np.zeros(len(units))
    return central(units, vecs, title_sim, k, answerer.policy)
