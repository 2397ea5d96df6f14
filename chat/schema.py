"""The contract every consumer reads: `Answer` (with its `Citation`s, `Retrieved` passages, kept `SentenceInfo`s
and the `Block`s they are laid out in), and the `Claim`/`Draft` an answerer hands to verification.

    answer = assistant.ask("Which ETFs does CoinMela name?")
    answer.text, answer.citations[0].highlight, answer.question_type, answer.refusal_reason, answer.relevance
    answer.render(cite=lambda numbers: ..., escape=html.escape)   # the same layout, in another markup

The public types are pydantic models: each field has a description, the HTTP API declares them as its response
models (so the OpenAPI page documents them), and `to_dict`/`from_dict` are their JSON form. The answer's text is
rendered from its structure (lead line, group headings, items, cited sentences, notes), never stored apart from it:
the UI, the widget, the HTTP API and the evaluation read the structure and none of them parses `[n]` out of text.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import quote, urlencode

from pydantic import BaseModel, Field, computed_field, field_serializer

# Why an answer is a refusal (Answer.refusal_reason).
NOT_COVERED = "not_covered"  # nothing in the articles answers it
PARTLY_COVERED = "partly_covered"  # the articles name what it asks about, but not the detail it asks for
NOT_ENGLISH = "not_english"  # the question is not in English; the articles are
TIMED_OUT = "timed_out"  # the model wrote nothing that holds before its time budget ran out
UNVERIFIED = "unverified"  # passages on it were found, but nothing the model wrote held up against them
REFUSAL_REASONS = (NOT_COVERED, PARTLY_COVERED, NOT_ENGLISH, TIMED_OUT, UNVERIFIED)
RefusalReason = Literal["not_covered", "partly_covered", "not_english", "timed_out", "unverified"]


class Citation(BaseModel):
    """One numbered source of an answer: the passage an `[n]` points at, and the article it comes from."""

    n: int = Field(description="The number shown in the answer, as `[n]` (1, 2, … in order of first use).")
    source: str = Field(description="The article's file, relative to the corpus folder.")
    title: str = Field("", description="The article's title.")
    publisher: str = Field("", description="Who published the article.")
    author: str = Field("", description="Who wrote the article, when known.")
    published: str = Field("", description="Publication date, ISO (YYYY-MM-DD) when known.")
    url: str = Field("", description="The article's original address, when known.")
    section: str = Field("", description="The heading the supporting sentence sits under.")
    quote: str = Field(description="The cited passage: one chunk of the article's cleaned text, as indexed.")
    highlight: str = Field(description="The sentence of the passage that best supports the answer.")
    chunk_id: str = Field(description="The passage's id in the index.")
    start_char: int = Field(0, description="Where the passage starts in the article's cleaned text.")
    end_char: int = Field(0, description="Where the passage ends in the article's cleaned text.")
    support: float = Field(description="How well the passage supports the sentences citing it (0..1, verification).")

    @computed_field(
        description="The passage in this server's article viewer: a path (`/articles/<source>?chunk=…&hl=a-b#cited`) "
        "that opens the article scrolled to the passage, the supporting sentence highlighted."
    )
    @property
    def article_link(self) -> str:
        query = {"chunk": self.chunk_id}
        at = self.quote.find(self.highlight) if self.highlight else -1
        if at >= 0:
            query["hl"] = f"{self.start_char + at}-{self.start_char + at + len(self.highlight)}"
        return f"{article_path(self.source)}?{urlencode(query)}#cited"


class QuestionError(ValueError):
    """A question that cannot be asked (empty, too long); the message is shown to the user."""


def clean_question(question: Any, max_chars: int) -> str:
    """The question as it will be asked (control characters and runs of spaces made one space), or QuestionError."""
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


def article_path(source: str) -> str:
    """Where this server shows an indexed article (chat/web/articles.py)."""
    return f"/articles/{quote(source)}"


class ArticleInfo(BaseModel):
    """One indexed article, as the library lists it."""

    source: str = Field(description="The article's file, relative to the corpus folder: its id in every route.")
    title: str = Field("", description="The article's title.")
    publisher: str = Field("", description="Who published the article.")
    author: str = Field("", description="Who wrote the article, when known.")
    published: str = Field("", description="Publication date, ISO (YYYY-MM-DD) when known.")
    url: str = Field("", description="The article's original address, when known.")
    chunks: int = Field(0, description="How many passages of it are indexed.")
    ingested: str = Field("", description="When it was last ingested (ISO 8601, UTC), when the index recorded it.")


class ArticlePassage(BaseModel):
    """Where one indexed passage sits in its article's text."""

    chunk_id: str = Field(description="The passage's id in the index (`Citation.chunk_id`).")
    section: str = Field("", description="The heading the passage starts under.")
    start_char: int = Field(description="Where the passage starts in `ArticleText.text`.")
    end_char: int = Field(description="Where the passage ends in `ArticleText.text`.")


class ArticleText(ArticleInfo):
    """An article's cleaned text as indexed, put together from its passages, with where each passage sits."""

    text: str = Field(description="The article's cleaned text (what was split into passages).")
    passages: list[ArticlePassage] = Field(default_factory=list, description="Its passages, in reading order.")


class Retrieved(BaseModel):
    """A passage retrieval returned for the question, cited or not."""

    source: str = Field(description="The article's file, relative to the corpus folder.")
    chunk_id: str = Field(description="The passage's id in the index.")
    score: float = Field(description="Fused hybrid score (dense + BM25, reciprocal-rank fusion).")
    dense_score: float = Field(description="Cosine similarity of the passage to the question.")
    title: str = Field("", description="The article's title.")
    section: str = Field("", description="The heading the passage starts under.")


class SentenceInfo(BaseModel):
    """One sentence of the answer (kept) or of the draft verification removed (dropped)."""

    text: str = Field(description="The sentence, as quoted or written, without markers.")
    citations: list[int] = Field(default_factory=list, description="The `Citation.n` it cites, in order.")
    support: float = Field(0.0, description="How well its cited passages support it (0..1).")
    supported: bool = Field(True, description="It held up against its passages and was kept.")
    missing_numbers: list[str] = Field(default_factory=list, description="Figures its passages do not contain.")
    reason: str = Field("", description="Why it was dropped: one of chat.claims.DROP_REASONS (empty when kept).")
    unsupported_words: list[str] = Field(default_factory=list, description="Content words its passages lack.")
    relevance: float = Field(0.0, description="How well it addresses the question (0..1; kept sentences).")
    group: str = Field("", description="The heading it sits under: an article, a comparison side.")
    label: str = Field("", description="A list item's name, shown before the sentence ('Innodata').")
    bullet: bool = Field(False, description="It is an item of a list (shown as a bullet).")


BlockKind = Literal["lead", "heading", "text", "item", "note"]


class Piece(BaseModel):
    """One cited sentence as shown inside a block."""

    sentence: int = Field(description="Its index in `Answer.sentences`.")
    text: str = Field(description="The sentence as shown (with its full stop).")
    citations: list[int] = Field(default_factory=list, description="The `Citation.n` it cites, each once.")


class Block(BaseModel):
    """A piece of the answer's layout. `lead`, `heading` and `note` are the answer's own words (no citations);
    `text` (a run of prose) and `item` (a bullet) are made of cited sentences."""

    kind: BlockKind = Field(description="lead | heading | text | item | note.")
    text: str = Field("", description="The words of a lead line, heading or note.")
    label: str = Field("", description="An item's name, shown before its sentence ('Innodata — …').")
    pieces: list[Piece] = Field(default_factory=list, description="The sentences of a text or item block.")


def markers(numbers: list[int]) -> str:
    """`[1][3]`: the plain-text citation markers."""
    return "".join(f"[{n}]" for n in numbers)


def finished(sentence: str) -> str:
    """A sentence as shown: stripped, with a full stop when it ends in a word, a figure or a closing bracket."""
    text = sentence.strip()
    if text and text[-1].isascii() and (text[-1].isalnum() or text[-1] in "%)$"):
        text += "."
    return text


class Answer(BaseModel):
    """An answer to one question: what to show, what it cites, and how it was arrived at."""

    question: str = Field(description="The question as asked (cleaned of control characters).")
    refused: bool = Field(description="The articles do not answer it: `notes` says so, `refusal_reason` says why.")
    refusal_reason: RefusalReason | None = Field(None, description="Why it was refused (None when answered).")
    question_type: str = Field(
        "", description="fact, explanation, list, summary, comparison, points or advice (chat.question_types)."
    )
    # How well the answer addresses the question (0..1), apart from citation support: a quote can be in its source
    # (support 1.0) and still not answer what was asked.
    relevance: float = Field(0.0, description="How well the answer addresses the question (0..1).")
    lead: str = Field("", description="A line introducing a list ('The CoinMela article names these ETFs:').")
    sentences: list[SentenceInfo] = Field(default_factory=list, description="The answer's sentences, in order.")
    notes: list[str] = Field(
        default_factory=list,
        description="The answer's own words after its sentences: parts of the question the articles leave open, "
        "'not investment advice', a cut-short warning; a refusal's message.",
    )
    citations: list[Citation] = Field(default_factory=list, description="The passages the sentences cite, by n.")
    retrieved: list[Retrieved] = Field(default_factory=list, description="What retrieval returned, best first.")
    latency_ms: float = Field(0.0, description="Time to answer, in milliseconds.")
    mode: str = Field("extractive", description="extractive | generative: who wrote the sentences.")
    standalone_question: str = Field("", description="The question rewritten to stand alone (follow-ups).")
    dropped: list[SentenceInfo] = Field(default_factory=list, description="Sentences verification removed, and why.")
    suggestions: list[str] = Field(default_factory=list, description="Questions offered with a refusal.")

    @field_serializer("relevance")
    def _round3(self, value: float) -> float:
        return round(value, 3)

    @field_serializer("latency_ms")
    def _round1(self, value: float) -> float:
        return round(value, 1)

    @computed_field(alias="answer", description="The answer as plain text, `[n]` marking what each sentence cites.")
    @property
    def text(self) -> str:
        return self.render()

    @computed_field(description='"direct", "partial" or "weak": how well it addresses the question.')
    @property
    def relevance_label(self) -> str:
        from chat.policy import POLICY

        return POLICY.relevance_label(self.relevance)

    @computed_field(description="The answer's layout: what a client needs to show it without reading `answer`.")
    @property
    def blocks(self) -> list[Block]:
        out: list[Block] = []
        if self.lead and self.bulleted:
            out.append(Block(kind="lead", text=self.lead))
        group = None
        prose: Block | None = None
        for i, s in enumerate(self.sentences):
            if s.group and s.group != group:
                out.append(Block(kind="heading", text=s.group))
                group, prose = s.group, None
            piece = Piece(sentence=i, text=finished(s.text), citations=unique(s.citations))
            if s.bullet:
                label = s.label if s.label and not piece.text.lower().startswith(s.label.lower()) else ""
                out.append(Block(kind="item", label=label, pieces=[piece]))
                prose = None
            else:
                if prose is None:
                    prose = Block(kind="text")
                    out.append(prose)
                prose.pieces.append(piece)
        out.extend(Block(kind="note", text=n) for n in self.notes)
        return out

    @property
    def bulleted(self) -> bool:
        """Laid out as lines (a lead, headings and bullets) rather than as one paragraph."""
        return any(s.bullet for s in self.sentences)

    def render(
        self,
        cite: Callable[[list[int]], str] = markers,
        escape: Callable[[str], str] = lambda s: s,
        *,
        merge: bool = False,
        gap: str = " ",
    ) -> str:
        """The answer laid out as text: "Sentence. [1] Sentence. [2]" for prose; a lead line, "Group:" headings and
        "- label — sentence [n]" bullets for lists; notes last, a paragraph each. `cite` formats a sentence's
        citation numbers and `escape` every piece of text, so that one layout serves plain text (the default) and
        markup (the chat window). With `merge`, a run of prose sentences citing the same passages shows the
        markers once, at its end; `gap` goes between a sentence and its markers."""
        lines: list[str] = []
        notes: list[str] = []
        for block in self.blocks:
            if block.kind == "note":
                notes.append(escape(block.text))
            elif block.kind == "lead":
                lines.append(escape(block.text))
            elif block.kind == "heading":
                lines.append(("" if not lines else "\n") + escape(block.text) + ":")
            elif block.kind == "item":
                piece = block.pieces[0]
                label = f"{escape(block.label)} — " if block.label else ""
                lines.append(f"- {label}{escape(piece.text)}{gap}{cite(piece.citations)}".rstrip())
            else:
                parts = []
                for j, piece in enumerate(block.pieces):
                    numbers = piece.citations
                    if merge and j + 1 < len(block.pieces) and block.pieces[j + 1].citations == numbers:
                        numbers = []
                    parts.append(f"{escape(piece.text)}{gap}{cite(numbers) if numbers else ''}".rstrip())
                lines.append(" ".join(parts))
        body = "\n".join(lines) if self.bulleted else " ".join(lines)
        return "\n\n".join([body] + notes) if body else "\n\n".join(notes)

    @property
    def plain_text(self) -> str:
        """The answer's words without markers, whitespace tidied: what key facts are looked for in."""
        out = re.sub(r"\s+", " ", self.render(cite=lambda numbers: ""))
        return re.sub(r"\s+([.,;:!?])", r"\1", out).strip()

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Answer:
        """Inverse of `to_dict` (the UI keeps answers as JSON in its session state; the eval reads them back)."""
        return cls.model_validate(d)

    def to_dict(self) -> dict[str, Any]:
        """The public JSON shape (CLI --json, HTTP API, eval results): the text as `answer`."""
        return self.model_dump(mode="json", by_alias=True)


def unique(numbers: list[int]) -> list[int]:
    """Numbers in order, each once."""
    return list(dict.fromkeys(numbers))


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
