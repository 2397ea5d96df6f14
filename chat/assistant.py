"""Question (+ history) → `Answer`: the orchestration of the answering core.

    python app.py ask "Which ETFs does the CoinMela piece name?" [--json]

    text ─► questions.analyze (type, named articles, sides, names, spelling) ─► refusal.before_search
         ─► evidence.gather (per type) ─► refusal.after_search ─► answerer.draft (extractive | generative)
         ─► verify.verify_claims ─► refusal.after_answer ─► cite ─► Answer

Two answerers share one contract (a `Draft` of claims citing numbered passages) and the same server-side
verification. The `Answer` is what the UI, widget, HTTP API and batch evaluation all consume.
"""

from __future__ import annotations

import dataclasses
import logging
import re
import time
import unicodedata
from collections.abc import Callable, Iterator
from typing import Any, Protocol

import numpy as np
from langchain_core.documents import Document

from chat import claims, verify as check
from chat.embeddings import EmbeddingCache
from chat.evidence import Evidence, gather, risk_text
from chat.generative import INSTRUCTION_WORDS, NOT_FOUND_TOKEN, Stop, parse_generated
from chat.injection import is_injection
from chat.lexicon import Lexicon
from chat.policy import POLICY, Policy
from chat.questions import (
    ADVICE,
    COMPARISON,
    EXPLANATION,
    LIST,
    POINTS,
    SUMMARY,
    Question,
    analyze,
)
from chat.refusal import (
    ADVICE_NOTE,
    REFUSAL,
    TIMED_OUT_TEXT,
    UNVERIFIED_TEXT,
    Decision,
    RefusalPolicy,
)
from chat.retrieval import HybridRetriever, PassageMetadata
from chat.schema import (
    NOT_COVERED,
    TIMED_OUT,
    UNVERIFIED,
    Answer,
    Citation,
    Claim,
    Draft,
    Retrieved,
    SentenceInfo,
    unique,
)
from chat.sentences import FIGURE_QUESTION
from chat.sides import dimension_of
from chat.text import split_sentences, tokenize
from chat.wording import rewrite_followup
from ingest.records import ChunkMetadata

log = logging.getLogger(__name__)

__all__ = ["Answer", "Assistant", "QuestionError", "REFUSAL", "clean_question"]

# fmt: off
# Said under an answer whose generation was stopped before the model finished.
CUT_NOTES = {
    "tokens": "The model reached its length limit; this answer may be incomplete.",
    "time": "The model ran out of time; this answer may be incomplete.",
}
# fmt: on


# The fields a citation repeats from its passage's record in the index (section is where its highlighted sentence
# sits): a field added to both `Citation` and `ChunkMetadata` is carried over with no other change.
CITED_FIELDS = tuple(f for f in Citation.model_fields if f in ChunkMetadata.__annotations__ and f != "section")


class QuestionError(ValueError):
    """A question that cannot be asked (empty, too long); the message is shown to the user."""


def clean_question(question: Any, max_chars: int) -> str:
    if not isinstance(question, str):
        raise QuestionError("the question must be a string")
    # Control and format characters carry nothing a reader sees; they only confuse tokenizers.
    text = "".join(ch if ch in "\n\t" or unicodedata.category(ch)[0] != "C" else " " for ch in question)
    text = re.sub(r"\s+", " ", text).strip()
    if not text:
        raise QuestionError("the question is empty")
    if len(text) > max_chars:
        raise QuestionError(f"the question is too long ({len(text)} characters; the limit is {max_chars})")
    return text


class Answerer(Protocol):
    mode: str
    live: bool  # True: pieces are worth streaming to the user before verification

    def stream(self, q: Question, evidence: Evidence) -> Iterator[str]:
        """Yield the answer text (with [n] markers over the evidence's passages, 1-based) in pieces."""

    def draft(self, q: Question, evidence: Evidence) -> Draft:
        """The whole answer as claims citing the evidence's passages."""


class Assistant:
    """The one entry point: `ask` for an `Answer`, `stream` for text pieces followed by the `Answer`."""

    def __init__(
        self,
        retriever: HybridRetriever,
        answerer: Answerer,
        embed: EmbeddingCache,
        *,
        lexicon: Lexicon | None = None,
        min_relevance: float = 0.3,
        min_support: float = 0.5,
        max_question_chars: int = 1000,
        suggestions: list[str] | None = None,
        condense: Callable[[str, list[dict[str, str]]], str] | None = None,
        policy: Policy = POLICY,
    ) -> None:
        self.retriever = retriever
        self.lexicon = lexicon or retriever.lexicon
        self.answerer = answerer
        self.embed = embed  # verification's sentence and passage vectors (shared with the extractive answerer)
        self.min_support = min_support
        self.max_question_chars = max_question_chars
        self.suggestions = suggestions or []
        self.condense = condense
        self.policy = policy
        self.refusals = RefusalPolicy(self.lexicon, min_relevance=min_relevance, policy=policy)

    @property
    def mode(self) -> str:
        return self.answerer.mode

    def ask(self, question: str, history: list[dict[str, str]] | None = None) -> Answer:
        answer = None
        for item in self.stream(question, history):
            if isinstance(item, Answer):
                answer = item
        assert answer is not None
        return answer

    def standalone(self, question: str, history: list[dict[str, str]]) -> str:
        if not history:
            return question
        if self.condense is not None:
            try:
                return self.condense(question, history)
            except Exception:  # noqa: BLE001 - a failed rewrite must not fail the question
                log.warning("condensing the follow-up failed; using the deterministic rewrite", exc_info=True)
        return rewrite_followup(question, history)

    def stream(self, question: str, history: list[dict[str, str]] | None = None) -> Iterator[str | Answer]:
        started = time.perf_counter()
        question = clean_question(question, self.max_question_chars)
        history = [m for m in (history or []) if isinstance(m, dict) and isinstance(m.get("content"), str)]
        query = self.standalone(question, history)
        q = analyze(query, self.lexicon)
        evidence = Evidence([])

        def finish(
            *,
            refused: bool,
            reason: str | None = None,
            citations: list[Citation] | None = None,
            kept: list[SentenceInfo] | None = None,
            dropped: list[SentenceInfo] | None = None,
            relevance: float = 0.0,
            lead: str = "",
            notes: list[str] | None = None,
        ) -> Answer:
            if refused:
                log.info("refused (%s, %s question): %r", reason, q.type, question)
            retrieved = [Retrieved.model_validate(d.metadata) for d in evidence.passages]
            return Answer(
                question=question,
                refused=refused,
                citations=citations or [],
                retrieved=retrieved,
                latency_ms=(time.perf_counter() - started) * 1e3,
                mode=self.mode,
                standalone_question=query,
                sentences=kept or [],
                dropped=dropped or [],
                suggestions=self.suggestions if refused else [],
                question_type=q.type,
                refusal_reason=reason if refused else None,
                relevance=relevance,
                lead=lead,
                notes=notes or [],
            )

        def refuse(decision: Decision, dropped: list[SentenceInfo] | None = None) -> Iterator[str | Answer]:
            if decision.claims:  # partly covered: one cited sentence saying what the articles do name
                citations, kept = self._cite(decision.claims, evidence.passages, verified=False)
                answer = finish(refused=True, reason=decision.reason, citations=citations, kept=kept, dropped=dropped)
            else:
                answer = finish(refused=True, reason=decision.reason, dropped=dropped, notes=[decision.text])
            yield answer.text
            yield answer

        decision = self.refusals.before_search(q)
        if decision:
            yield from refuse(decision)
            return
        evidence = gather(q, self.retriever, self.policy)
        decision = self.refusals.after_search(q, evidence)
        if decision:
            yield from refuse(decision)
            return

        # Retrieval needs the standalone question; an extractive answer is best scored against what was asked
        # ("and what about the dollar?"), unless the question has no content of its own ("why?").
        scored = q
        if query != question and not self.answerer.live and tokenize(question):
            scored = dataclasses.replace(q, text=question, normalized=self.lexicon.normalize(question))
        if self.answerer.live:
            raw: list[str] = []
            shown = 0
            stop: Stop | None = None
            for piece in self.answerer.stream(scored, evidence):
                if isinstance(piece, Stop):
                    stop = piece
                    break
                raw.append(piece)
                draft_text = "".join(raw)
                # The "not in the articles" token is held back until it can be ruled out.
                if len(draft_text.lstrip()) >= len(NOT_FOUND_TOKEN) and NOT_FOUND_TOKEN not in draft_text:
                    yield draft_text[shown:]
                    shown = len(draft_text)
            written = "".join(raw)
            if shown < len(written) and NOT_FOUND_TOKEN not in written:
                yield written[shown:]
            if stop is not None:
                log.info("generation stopped early (%s) after %d characters", stop.reason, len(written))
                written = written[: stop.keep]
            text = written.strip()
            if not text or NOT_FOUND_TOKEN in text:
                if stop is not None and stop.reason == "time" and NOT_FOUND_TOKEN not in text:
                    yield from refuse(Decision(TIMED_OUT, TIMED_OUT_TEXT))
                    return
                yield from refuse(self.refusals.near_miss(q, evidence) or Decision("not_covered", REFUSAL))
                return
            draft = parse_generated(text, truncated=stop is not None and stop.reason != "repetition")
            draft.stopped = stop.reason if stop else ""
        else:
            draft = self.answerer.draft(scored, evidence)

        kept, dropped, verification = self._check(scored, evidence, draft)
        if draft.stopped in ("tokens", "time") and kept:
            draft.notes.append(CUT_NOTES[draft.stopped])
        decision = self.refusals.after_answer(q, evidence, kept, draft)
        if decision and decision.reason == NOT_COVERED and draft.claims and self.answerer.live:
            # The passages were relevant (after_search) and the model wrote something, none of which held or
            # answered the question: saying "the articles don't cover that" would blame the articles for the model.
            decision = (
                Decision(TIMED_OUT, TIMED_OUT_TEXT)
                if draft.stopped == "time"
                else Decision(UNVERIFIED, UNVERIFIED_TEXT)
            )
        if decision:
            yield from refuse(self.refusals.near_miss(q, evidence) or decision, dropped)
            return
        draft.gaps += self.refusals.gaps(q, evidence)
        if q.type == ADVICE:  # whichever answerer wrote it
            draft.notes.append(ADVICE_NOTE)
        citations, sentences = self._cite(kept, evidence.passages, support=verification)
        answer = finish(
            refused=False,
            citations=citations,
            kept=sentences,
            dropped=dropped,
            relevance=self._relevance(q, evidence, kept),
            lead=draft.lead,
            notes=draft.gaps + draft.notes,
        )
        if not self.answerer.live:
            # An extractive answer is complete at once: stream the verified text, not the unnumbered draft.
            yield from re.findall(r"[^\n]*\n|[^\n]+$", answer.text)
        yield answer

    # --- checking, scoring and composing -------------------------------------------------------------

    def _check(
        self, q: Question, evidence: Evidence, draft: Draft
    ) -> tuple[list[Claim], list[SentenceInfo], check.Verification]:
        """The draft's claims that hold: each is in its cited passage, figures included (chat.verify); is no
        planted instruction; is a complete sentence, no echo, no duplicate, no unsupported content (chat.claims);
        and addresses the question. The others are returned as dropped, each with the rule that dropped it."""
        passages = [d.page_content for d in evidence.passages]
        verification = check.verify_claims(draft.claims, passages, embed=self.embed, min_support=self.min_support)
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
            lexicon=self.lexicon,
            embed=self.embed,
            titles=titles,
            policy=self.policy,
            truncated=draft.stopped in ("tokens", "time"),  # its last words may be cut
            instructions=INSTRUCTION_WORDS if self.answerer.live else frozenset(),
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
        kept = self._score(q, kept, evidence.passages)
        floor = self.policy.min_claim_relevance if q.type not in (SUMMARY, LIST) else float("-inf")
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
            log.info(
                "verification dropped %d sentence(s): %s", len(dropped), [(d.reason, d.text[:80]) for d in dropped]
            )
        return kept, dropped, verification

    def _score(self, q: Question, claims: list[Claim], passages: list[Document] | None = None) -> list[Claim]:
        """How well each kept claim addresses the question, the same way for both answerers: MiniLM cosine
        and word coverage (chat.policy weights), plus the figure bonus when a figure is asked for. A point of a
        several-points, advice or explanation answer is also read under the heading it sits under in its passage
        ("Risks: Cocoa prices have climbed about 40%…" answers "What could go wrong?"): the better of the two."""
        if not claims:
            return claims
        p = self.policy
        if passages and q.type in (POINTS, ADVICE, EXPLANATION):
            headed = []
            for c in claims:
                doc = passages[c.n - 1] if c.n and c.n <= len(passages) else None
                heading = (
                    section_at(doc.page_content, c.text, str(doc.metadata.get("section", "") or "")) if doc else ""
                )
                headed.append(f"{heading}: {c.text}" if heading else "")
            if any(headed):
                plain = self._score(q, claims)
                under = self._score(q, [dataclasses.replace(c, text=h) for c, h in zip(claims, headed) if h])
                it = iter(under)
                return [
                    dataclasses.replace(c, relevance=max(c.relevance, next(it).relevance) if h else c.relevance)
                    for c, h in zip(plain, headed)
                ]
        # Against the question, and for a comparison against what it compares ("AInvest vs CoinMela: which P/E
        # figures does each give?" is about P/E figures, not publishers): the better of the two.
        asked = [q.normalized]
        if q.type == COMPARISON and tokenize(dimension_of(q)):
            asked.append(self.lexicon.normalize(dimension_of(q)))
        if q.risk and q.type == POINTS:
            # and for "what could go wrong…" against its topic in the words risks are written in (what the evidence
            # was searched with): "they also include zombie companies" is a risk of small caps, though it shares no
            # word with "what could go wrong piling into small caps right now?"
            asked.append(self.lexicon.normalize(risk_text(q)))
        vecs = self.embed([c.text for c in claims])
        wants_figure = bool(FIGURE_QUESTION.search(q.text)) or q.metric is not None
        best = np.full(len(claims), -1.0)
        for norm in asked:
            sims = vecs @ self.retriever.embed_query(norm.text)
            for i, (c, sim) in enumerate(zip(claims, sims)):
                s = p.answer_cosine * float(sim) + p.answer_coverage * self.lexicon.coverage(norm.terms, c.text)
                if wants_figure and re.search(r"\d", c.text):
                    s += p.figure_bonus
                best[i] = max(best[i], s)
        return [dataclasses.replace(c, relevance=float(s)) for c, s in zip(claims, best)]

    def _relevance(self, q: Question, evidence: Evidence, kept: list[Claim]) -> float:
        """How well the answer addresses the question (0..1): a summary of an article the question named does by
        construction; otherwise the best claim's score, scaled so that the FAQ's direct answers reach ~0.8."""
        if q.type == SUMMARY and evidence.articles:
            return 1.0 if (q.articles or q.all_articles) else self.policy.relevance_direct
        if q.type == LIST and q.articles and any(c.label for c in kept):
            return max(self.policy.relevance_direct, max(c.relevance for c in kept))  # names of the kind asked, found
        best = max(c.relevance for c in kept)
        return float(np.clip(best, 0.0, 1.0))

    def _cite(
        self,
        claims: list[Claim],
        passages: list[Document],
        *,
        support: check.Verification | None = None,
        verified: bool = True,
    ) -> tuple[list[Citation], list[SentenceInfo]]:
        """Citations renumbered [1]…[m] in order of first use, and the kept sentences citing them by those numbers
        (with the group, label and bullet the answer is laid out by)."""
        renumber: dict[int, int] = {}
        for c in claims:
            for k in c.cited or [c.n]:
                if k:
                    renumber.setdefault(k, len(renumber) + 1)
        supports = {}
        if support is not None:
            for s in support.sentences:
                if s.supported:
                    supports[s.text] = s.support
        citations = []
        for old, new in renumber.items():
            doc = passages[old - 1]
            m: PassageMetadata = doc.metadata  # type: ignore[assignment] - LangChain types it as a plain dict
            citing = [c for c in claims if old in (c.cited or [c.n])]
            best = max(citing, key=lambda c: supports.get(c.text, 0.0))
            highlight = best_sentence(best.text, doc.page_content)
            record = {f: m[f] for f in CITED_FIELDS if f in m}  # type: ignore[literal-required]
            citations.append(
                Citation(
                    **record,
                    n=new,
                    section=section_at(doc.page_content, highlight, m.get("section", "")),
                    quote=doc.page_content,
                    highlight=highlight,
                    support=round(max(supports.get(c.text, 1.0 if not verified else 0.0) for c in citing), 3),
                )
            )
        sentences = [
            SentenceInfo(
                text=c.text,
                citations=unique([renumber[k] for k in (c.cited or [c.n]) if k in renumber]),
                support=round(supports.get(c.text, 1.0 if not verified else 0.0), 3),
                relevance=round(c.relevance, 3),
                group=c.group,
                label=c.label,
                bullet=c.bullet,
            )
            for c in claims
        ]
        return citations, sentences


_GOES_ON = re.compile(r"^(?:[\"“‘']|(?:It|Its|It's|He|She|His|Her|They|Their|This|These|That|Those|But|And|So|Now)\b)")


def _continues(previous: Claim, claim: Claim) -> bool:
    """`claim` goes on from `previous`: same passage, and it opens with a quotation mark or a pronoun."""
    return bool(set(previous.cited or [previous.n]) & set(claim.cited or [claim.n])) and bool(
        _GOES_ON.match(claim.text)
    )


def section_at(passage: str, sentence: str, default: str) -> str:
    """The heading the cited sentence sits under: a chunk can start in one section and cite from the next."""
    pos = passage.find(sentence)
    headings = re.findall(r"(?m)^#{1,6}\s+(.+?)\s*$", passage[:pos] if pos >= 0 else "")
    return headings[-1] if headings else default


def best_sentence(sentence: str, passage: str) -> str:
    """The passage sentence that shares most with the answer sentence (what the UI highlights)."""
    candidates = [re.sub(r"^(?:[QA]:|[-*•])\s+", "", c) for c in split_sentences(passage)] or [passage]
    return max(candidates, key=lambda c: check.lexical_support(sentence, c))
