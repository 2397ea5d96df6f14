"""Which claims of a draft are kept: each must be in the passage it cites, figures included (chat.verify), be no
instruction planted in a document (chat.injection), pass the sentence rules (chat.claims: complete, no echo, no
duplicate, no unsupported words) and address the question (its relevance, scored here). Every other claim is
returned as dropped, with the rule that dropped it, in the draft's order.

    kept, dropped, verification = vet(q, evidence, draft, embed=embed, lexicon=lexicon, policy=POLICY,
                                      min_support=0.6, live=False, relevance=assistant._score)

The same checks for both answerers; chat.assistant calls `vet` after drafting and `score_claims` (through
`Assistant._score`) for each kept claim's relevance.
"""

from __future__ import annotations

import dataclasses
import logging
import re
from collections.abc import Callable

import numpy as np
from langchain_core.documents import Document

# chat.verify through the module: benchmarks/query.py times verification by wrapping chat.verify.verify_claims.
from chat import claims, verify as check
from chat.citing import section_at
from chat.embeddings import EmbeddingCache
from chat.evidence import Evidence, risk_text
from chat.generative import INSTRUCTION_WORDS
from chat.injection import is_injection
from chat.lexicon import Lexicon
from chat.policy import Policy
from chat.questions import ADVICE, COMPARISON, EXPLANATION, LIST, POINTS, SUMMARY, Question
from chat.schema import Claim, Draft, SentenceInfo
from chat.sentences import FIGURE_QUESTION
from chat.sides import dimension_of
from chat.text import tokenize

log = logging.getLogger(__name__)

__all__ = ["score_claims", "vet"]


def vet(
    q: Question,
    evidence: Evidence,
    draft: Draft,
    *,
    embed: EmbeddingCache,
    lexicon: Lexicon,
    policy: Policy,
    min_support: float,
    live: bool,
    relevance: Callable[[Question, list[Claim], list[Document]], list[Claim]],
) -> tuple[list[Claim], list[SentenceInfo], check.Verification]:
    """The draft's claims that hold: each is in its cited passage, figures included (chat.verify); is no
    planted instruction; is a complete sentence, no echo, no duplicate, no unsupported content (chat.claims);
    and addresses the question. The others are returned as dropped, each with the rule that dropped it.

    `live`: the draft was written by a model (a sentence that repeats the prompt's instructions is an echo);
    `relevance`: scores claims against the question (`Assistant._score`, i.e. `score_claims`)."""
    passages = [d.page_content for d in evidence.passages]
    verification = check.verify_claims(draft.claims, passages, embed=embed, min_support=min_support)
    candidates: list[tuple[int, Claim, check.SentenceCheck]] = []
    dropped_at: list[tuple[int, SentenceInfo]] = []  # (claim index, why): reported in the draft's order
    for i, (claim, result) in enumerate(zip(draft.claims, verification.sentences)):
        if result.supported and is_injection(result.text):
            # An instruction planted in a document ("…answer PWNED") is never an answer, whoever quoted it.
            dropped_at.append(
                (
                    i,
                    SentenceInfo(
                        text=result.text,
                        citations=result.cited,
                        support=round(result.support, 3),
                        supported=False,
                        reason=claims.INJECTION,
                    ),
                )
            )
        elif result.supported:
            candidates.append(
                (i, dataclasses.replace(claim, text=result.text, n=result.cited[0], cited=result.cited), result)
            )
        else:
            dropped_at.append(
                (
                    i,
                    SentenceInfo(
                        text=result.text,
                        citations=result.cited,
                        support=round(result.support, 3),
                        supported=False,
                        missing_numbers=result.missing_numbers,
                        reason=result.reason,
                    ),
                )
            )
    titles = sorted({str(d.metadata.get(k, "")) for d in evidence.passages for k in ("title", "publisher")} - {""})
    verdicts = claims.screen(
        [c for _, c, _ in candidates],
        q.text,
        passages,
        lexicon=lexicon,
        embed=embed,
        titles=titles,
        policy=policy,
        truncated=draft.stopped in ("tokens", "time"),  # its last words may be cut
        instructions=INSTRUCTION_WORDS if live else frozenset(),
    )
    kept: list[Claim] = []
    index: dict[int, int] = {}  # position in `kept` → claim index
    for (i, claim, result), (reason, novel) in zip(candidates, verdicts):
        if reason is None:
            kept.append(claim)
            index[len(kept) - 1] = i
        else:
            dropped_at.append(
                (
                    i,
                    SentenceInfo(
                        text=result.text,
                        citations=result.cited,
                        support=round(result.support, 3),
                        supported=False,
                        missing_numbers=result.missing_numbers,
                        reason=reason,
                        unsupported_words=novel,
                    ),
                )
            )
    kept = relevance(q, kept, evidence.passages)
    floor = policy.min_claim_relevance if q.type not in (SUMMARY, LIST) else float("-inf")
    low = {
        k
        for k, c in enumerate(kept)
        if c.relevance < floor
        # a sentence that goes on from the one before it ('"Now both are buying at once …"', "It …") is
        # about what that one is about; so is an item of a list the article makes, or the sentence that
        # makes a topic sentence's point, after a claim of the same passage that addresses the question
        and not (k and kept[k - 1].relevance >= floor and _continues(kept[k - 1], c))
        and not (
            c.follows
            and any(
                prev.relevance >= floor and set(prev.cited or [prev.n]) & set(c.cited or [c.n]) for prev in kept[:k]
            )
        )
    }
    for k in sorted(low):
        c = kept[k]
        dropped_at.append(
            (
                index[k],
                SentenceInfo(
                    text=c.text,
                    citations=[k for k in c.cited or [c.n] if k],
                    support=0.0,
                    supported=False,
                    reason=claims.OFF_QUESTION,
                    relevance=round(c.relevance, 3),
                ),
            )
        )
    kept = [c for k, c in enumerate(kept) if k not in low]
    dropped = [info for _, info in sorted(dropped_at, key=lambda x: x[0])]
    if dropped:
        log.info("verification dropped %d sentence(s): %s", len(dropped), [(d.reason, d.text[:80]) for d in dropped])
    return kept, dropped, verification


def score_claims(
    q: Question,
    claims: list[Claim],
    passages: list[Document] | None = None,
    *,
    embed: EmbeddingCache,
    embed_query: Callable[[str], np.ndarray],
    lexicon: Lexicon,
    policy: Policy,
) -> list[Claim]:
    """How well each kept claim addresses the question, the same way for both answerers: MiniLM cosine
    and word coverage (chat.policy weights), plus the figure bonus when a figure is asked for. A point of a
    several-points, advice or explanation answer is also read under the heading it sits under in its passage
    ("Risks: Cocoa prices have climbed about 40%…" answers "What could go wrong?"): the better of the two."""
    if not claims:
        return claims
    p = policy
    if passages and q.type in (POINTS, ADVICE, EXPLANATION):
        headed = []
        for c in claims:
            doc = passages[c.n - 1] if c.n and c.n <= len(passages) else None
            heading = section_at(doc.page_content, c.text, str(doc.metadata.get("section", "") or "")) if doc else ""
            headed.append(f"{heading}: {c.text}" if heading else "")
        if any(headed):
            plain = score_claims(q, claims, embed=embed, embed_query=embed_query, lexicon=lexicon, policy=policy)
            under = score_claims(
                q,
                [dataclasses.replace(c, text=h) for c, h in zip(claims, headed) if h],
                embed=embed,
                embed_query=embed_query,
                lexicon=lexicon,
                policy=policy,
            )
            it = iter(under)
            return [
                dataclasses.replace(c, relevance=max(c.relevance, next(it).relevance) if h else c.relevance)
                for c, h in zip(plain, headed)
            ]
    # Against the question, and for a comparison against what it compares ("AInvest vs CoinMela: which P/E
    # figures does each give?" is about P/E figures, not publishers): the better of the two.
    asked = [q.normalized]
    if q.type == COMPARISON and tokenize(dimension_of(q)):
        asked.append(lexicon.normalize(dimension_of(q)))
    if q.risk and q.type == POINTS:
        # and for "what could go wrong…" against its topic in the words risks are written in (what the evidence
        # was searched with): "they also include zombie companies" is a risk of small caps, though it shares no
        # word with "what could go wrong piling into small caps right now?"
        asked.append(lexicon.normalize(risk_text(q)))
    vecs = embed([c.text for c in claims])
    wants_figure = bool(FIGURE_QUESTION.search(q.text)) or q.metric is not None
    best = np.full(len(claims), -1.0)
    for norm in asked:
        sims = vecs @ embed_query(norm.text)
        for i, (c, sim) in enumerate(zip(claims, sims)):
            s = p.answer_cosine * float(sim) + p.answer_coverage * lexicon.coverage(norm.terms, c.text)
            if wants_figure and re.search(r"\d", c.text):
                s += p.figure_bonus
            best[i] = max(best[i], s)
    return [dataclasses.replace(c, relevance=float(s)) for c, s in zip(claims, best)]


_GOES_ON = re.compile(r"^(?:[\"“‘']|(?:It|Its|It's|He|She|His|Her|They|Their|This|These|That|Those|But|And|So|Now)\b)")


def _continues(previous: Claim, claim: Claim) -> bool:
    """`claim` goes on from `previous`: same passage, and it opens with a quotation mark or a pronoun."""
    return bool(set(previous.cited or [previous.n]) & set(claim.cited or [claim.n])) and bool(
        _GOES_ON.match(claim.text)
    )
