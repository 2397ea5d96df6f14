"""The contract every consumer reads: `Answer` (with its `Citation`s, `Retrieved` passages and kept
`SentenceInfo`s), and the `Draft` an answerer hands to verification.

    answer = assistant.ask("Which ETFs does CoinMela name?")
    answer.text, answer.citations[0].highlight, answer.question_type, answer.refusal_reason, answer.relevance

The UI, the widget, the HTTP API and the evaluation read these fields; none of them re-parses `text`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

# Why an answer is a refusal (Answer.refusal_reason).
NOT_COVERED = "not_covered"  # nothing in the articles answers it
PARTLY_COVERED = "partly_covered"  # the articles name what it asks about, but not the detail it asks for
NOT_ENGLISH = "not_english"  # the question is not in English; the articles are
TIMED_OUT = "timed_out"  # the model wrote nothing that holds before its time budget ran out
UNVERIFIED = "unverified"  # passages on it were found, but nothing the model wrote held up against them
REFUSAL_REASONS = (NOT_COVERED, PARTLY_COVERED, NOT_ENGLISH, TIMED_OUT, UNVERIFIED)


@dataclass
class Citation:
    n: int  # the number shown in the answer text
    source: str  # corpus-relative path
    title: str
    publisher: str
    published: str
    url: str
    section: str
    quote: str  # the cited passage text
    highlight: str  # the sentence of the passage that best supports the answer
    chunk_id: str
    start_char: int
    end_char: int
    support: float  # 0..1, from verification (best support among the sentences citing it)


@dataclass
class Retrieved:
    source: str
    chunk_id: str
    score: float
    dense_score: float
    title: str
    section: str


@dataclass
class SentenceInfo:
    text: str
    citations: list[int]
    support: float  # how well the cited passage supports the sentence (0..1)
    supported: bool
    missing_numbers: list[str] = field(default_factory=list)
    # Why a dropped sentence was dropped: one of chat.claims.DROP_REASONS ("" for a kept one).
    reason: str = ""
    unsupported_words: list[str] = field(default_factory=list)  # content words its cited passages lack
    relevance: float = 0.0  # how well it addresses the question (kept sentences)


@dataclass
class Answer:
    question: str
    text: str
    refused: bool
    citations: list[Citation]
    retrieved: list[Retrieved]
    latency_ms: float
    mode: str  # "extractive" | "generative"
    standalone_question: str = ""
    sentences: list[SentenceInfo] = field(default_factory=list)  # the kept answer sentences
    dropped: list[SentenceInfo] = field(default_factory=list)  # sentences removed by verification
    suggestions: list[str] = field(default_factory=list)  # offered with a refusal
    question_type: str = ""  # fact, explanation, list, summary, comparison, points, advice
    refusal_reason: str | None = None  # one of REFUSAL_REASONS when refused
    # How well the answer addresses the question (0..1), separate from citation support: a quote can be in its
    # source (support 1.0) and still not answer what was asked.
    relevance: float = 0.0
    notes: list[str] = field(default_factory=list)  # what the answer adds that is not from the articles

    @property
    def relevance_label(self) -> str:
        """ "direct", "partial" or "weak" (thresholds: chat.policy.Policy)."""
        from chat.policy import POLICY

        return POLICY.relevance_label(self.relevance)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Answer:
        """Inverse of `to_dict` (the UI keeps answers as JSON in its session state)."""
        return cls(
            question=d["question"],
            text=d["answer"],
            refused=d["refused"],
            citations=[Citation(**c) for c in d["citations"]],
            retrieved=[Retrieved(**r) for r in d["retrieved"]],
            latency_ms=d["latency_ms"],
            mode=d["mode"],
            standalone_question=d.get("standalone_question", ""),
            sentences=[SentenceInfo(**s) for s in d.get("sentences", [])],
            dropped=[SentenceInfo(**s) for s in d.get("dropped", [])],
            suggestions=d.get("suggestions", []),
            question_type=d.get("question_type", ""),
            refusal_reason=d.get("refusal_reason"),
            relevance=d.get("relevance", 0.0),
            notes=d.get("notes", []),
        )

    def to_dict(self) -> dict[str, Any]:
        """The public JSON shape (CLI --json, HTTP API, eval results)."""
        return {
            "question": self.question,
            "answer": self.text,
            "refused": self.refused,
            "refusal_reason": self.refusal_reason,
            "question_type": self.question_type,
            "relevance": round(self.relevance, 3),
            "relevance_label": self.relevance_label,
            "citations": [asdict(c) for c in self.citations],
            "retrieved": [asdict(r) for r in self.retrieved],
            "latency_ms": round(self.latency_ms, 1),
            "mode": self.mode,
            "standalone_question": self.standalone_question,
            "sentences": [asdict(s) for s in self.sentences],
            "dropped": [asdict(s) for s in self.dropped],
            "suggestions": self.suggestions,
            "notes": self.notes,
        }


# --- what an answerer produces ---------------------------------------------------------------------


@dataclass
class Claim:
    """One statement of a draft answer, citing one passage (1-based `n` over the passages it was given)."""

    text: str
    n: int | None  # None: the answerer cited nothing (verification may attach it to a passage)
    bullet: bool = False
    group: str = ""  # the heading it sits under ("AInvest (2026-01-12)", a comparison side)
    label: str = ""  # a list item's name, shown before the sentence ("Innodata")
    score: float = 0.0  # the answerer's confidence that it answers the question (0..1)
    relevance: float = 0.0  # how well it addresses the question, scored alike for both answerers (chat.policy)
    cited: list[int] = field(default_factory=list)  # every passage a generated sentence cited
    # It carries on from a claim before it: another item of a list the article makes, or the sentence that makes
    # the point of a short topic sentence. It is about what that claim is about.
    follows: bool = False


@dataclass
class Draft:
    """An answer before verification: framing text of our own (no figures, nothing from the articles) and claims."""

    claims: list[Claim]
    lead: str = ""  # e.g. "The CoinMela article names these ETFs:"
    notes: list[str] = field(default_factory=list)  # e.g. "This is not investment advice."
    gaps: list[str] = field(default_factory=list)  # parts of the question the articles do not answer
    raw: str = ""  # a generated answer's text, as the model wrote it
    # Why generation stopped early: "" (it finished), "repetition", "tokens" (the cap) or "time" (the budget).
    stopped: str = ""
    unlisted: str = ""  # a list question whose kind of names the evidence does not hold ("board members")
