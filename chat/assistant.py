"""Question (+ history) → `Answer`: the orchestration of the answering core.

    python app.py ask "Which ETFs does the CoinMela piece name?" [--json]

    text ─► questions.analyze (type, named articles, sides, names, spelling) ─► refusal.before_search
         ─► evidence.gather (per type) ─► refusal.after_search ─► answerer.draft (extractive | generative)
         ─► vetting.vet (verify.verify_claims, claims.screen, relevance) ─► refusal.after_answer
         ─► citing.cite ─► Answer

Two answerers share one contract (a `Draft` of claims citing numbered passages) and the same server-side
verification. The `Answer` is what the UI, widget, HTTP API and batch evaluation all consume.
"""

from __future__ import annotations

import dataclasses
import logging
import re
import time
from collections.abc import Callable, Iterator
from typing import Protocol

import numpy as np
from langchain_core.documents import Document

from chat.citing import cite
from chat.embeddings import EmbeddingCache
from chat.evidence import Evidence, gather
from chat.generative import NOT_FOUND_TOKEN, Stop, parse_generated
from chat.lexicon import Lexicon
from chat.library import article_text, library
from chat.policy import POLICY, Policy
from chat.questions import ADVICE, LIST, SUMMARY, Question, analyze
from chat.refusal import (
    ADVICE_NOTE,
    REFUSAL,
    TIMED_OUT_TEXT,
    UNVERIFIED_TEXT,
    Decision,
    RefusalPolicy,
)
from chat.retrieval import HybridRetriever
from chat.schema import (
    NOT_COVERED,
    TIMED_OUT,
    UNVERIFIED,
    Answer,
    ArticleInfo,
    ArticleText,
    Citation,
    Claim,
    Draft,
    QuestionError,
    Retrieved,
    SentenceInfo,
    clean_question,
)
from chat.text import tokenize
from chat.vetting import score_claims, vet
from chat.wording import rewrite_followup

log = logging.getLogger(__name__)

__all__ = ["Answer", "Assistant", "QuestionError", "REFUSAL", "clean_question"]

# fmt: off
# Said under an answer whose generation was stopped before the model finished.
CUT_NOTES = {
    "tokens": "The model reached its length limit; this answer may be incomplete.",
    "time": "The model ran out of time; this answer may be incomplete.",
}
# fmt: on


# Asked once as a server starts (Assistant.warm_up): a question of every corpus's kind, answered or refused alike.
WARM_UP_QUESTION = "What are the main points of the articles about the market?"


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
        self._warming = False

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

    def library(self) -> list[ArticleInfo]:
        """The indexed articles, oldest first (chat.library)."""
        return library(self.lexicon)

    def article(self, source: str) -> ArticleText | None:
        """One indexed article's cleaned text with where each passage sits, or None when it is not indexed."""
        return article_text(self.lexicon, source)

    def warm_up(self, question: str = WARM_UP_QUESTION) -> None:
        """Do now what the first question would otherwise pay for: load the embedding model, build the lexical
        index, and answer one question end to end (each code path run once). Its answer is thrown away."""
        self.lexicon.refresh()
        self._warming = True  # not a user's question: not logged as one
        try:
            self.ask(question)
        finally:
            self._warming = False

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
            retrieved = [Retrieved.model_validate(d.metadata) for d in evidence.passages]
            answer = Answer(
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
            # One line per question (never its text): what kind, how it ended, how long, what it cites.
            log.log(
                logging.DEBUG if self._warming else logging.INFO,
                "%s question %s in %.0f ms, %d source%s",
                q.type,
                f"refused ({reason})" if refused else "answered",
                answer.latency_ms,
                len(answer.citations),
                "" if len(answer.citations) == 1 else "s",
            )
            return answer

        def refuse(decision: Decision, dropped: list[SentenceInfo] | None = None) -> Iterator[str | Answer]:
            if decision.claims:  # partly covered: one cited sentence saying what the articles do name
                citations, kept = cite(decision.claims, evidence.passages, verified=False)
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
        self.embed.prefetch(evidence.passages)  # their sentences' vectors, stored at ingest: nothing to embed
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

        kept, dropped, verification = vet(
            scored,
            evidence,
            draft,
            embed=self.embed,
            lexicon=self.lexicon,
            policy=self.policy,
            min_support=self.min_support,
            live=self.answerer.live,
            relevance=self._score,
        )
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
        citations, sentences = cite(kept, evidence.passages, support=verification)
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

    # --- scoring ---------------------------------------------------------------------------------------

    def _score(self, q: Question, claims: list[Claim], passages: list[Document] | None = None) -> list[Claim]:
        """How well each claim addresses the question (chat.vetting.score_claims), with this assistant's embedder,
        lexicon and policy; benchmarks/fit_claims.py measures reference sentences through it."""
        return score_claims(
            q,
            claims,
            passages,
            embed=self.embed,
            embed_query=self.retriever.embed_query,
            lexicon=self.lexicon,
            policy=self.policy,
        )

    def _relevance(self, q: Question, evidence: Evidence, kept: list[Claim]) -> float:
        """How well the answer addresses the question (0..1): a summary of an article the question named does by
        construction; otherwise the best claim's score, scaled so that the FAQ's direct answers reach ~0.8."""
        if q.type == SUMMARY and evidence.articles:
            return 1.0 if (q.articles or q.all_articles) else self.policy.relevance_direct
        if q.type == LIST and q.articles and any(c.label for c in kept):
            return max(self.policy.relevance_direct, max(c.relevance for c in kept))  # names of the kind asked, found
        best = max(c.relevance for c in kept)
        return float(np.clip(best, 0.0, 1.0))
