"""An answer's citations: the passages its kept claims cite, renumbered [1]…[m] in order of first use, each with
the sentence the UI highlights and the heading it sits under; and the kept sentences citing them by those numbers.

    citations, sentences = cite(kept, evidence.passages, support=verification)   # → Answer.citations, .sentences

chat.assistant builds every `Answer` (and a partly-covered refusal's one cited sentence) with it.
"""

from __future__ import annotations

import re

from langchain_core.documents import Document

from chat.retrieval import PassageMetadata
from chat.schema import Citation, Claim, SentenceInfo, unique
from chat.text import split_sentences
from chat.verify import Verification, lexical_support
from ingest.records import ChunkMetadata

__all__ = ["CITED_FIELDS", "best_sentence", "cite", "section_at"]

# The fields a citation repeats from its passage's record in the index (section is where its highlighted sentence
# sits): a field added to both `Citation` and `ChunkMetadata` is carried over with no other change.
CITED_FIELDS = tuple(f for f in Citation.model_fields if f in ChunkMetadata.__annotations__ and f != "section")


def cite(
    claims: list[Claim],
    passages: list[Document],
    *,
    support: Verification | None = None,
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


def section_at(passage: str, sentence: str, default: str) -> str:
    """The heading the cited sentence sits under: a chunk can start in one section and cite from the next."""
    pos = passage.find(sentence)
    headings = re.findall(r"(?m)^#{1,6}\s+(.+?)\s*$", passage[:pos] if pos >= 0 else "")
    return headings[-1] if headings else default


def best_sentence(sentence: str, passage: str) -> str:
    """The passage sentence that shares most with the answer sentence (what the UI highlights)."""
    candidates = [re.sub(r"^(?:[QA]:|[-*•])\s+", "", c) for c in split_sentences(passage)] or [passage]
    return max(candidates, key=lambda c: lexical_support(sentence, c))
