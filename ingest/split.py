"""Documents → chunks sized for the embedder, split on heading, paragraph and sentence boundaries.

Sizes are counted in the embedding model's own word pieces (MiniLM reads 256, specials included), so no chunk
is ever cut off silently by the model. A heading always starts a piece, so it stays with its text, and every
chunk records the heading it sits under and its character offsets in the cleaned article, which is what a
citation points at. Chunk ids are stable: a hash of source, text and the occurrence of that text in the file,
so editing one paragraph leaves the ids (and stored embeddings) of the others untouched.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass

from langchain_text_splitters import RecursiveCharacterTextSplitter

HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$", re.M)
# Paragraphs, lines, sentences, clauses, words: the splitter tries them in this order.
SEPARATORS = ["\n\n", "\n", ". ", "? ", "! ", "; ", ", ", " ", ""]


@dataclass(frozen=True)
class Chunk:
    chunk_id: str
    index: int
    text: str  # exact slice of the cleaned article: text[start:end]
    start: int
    end: int
    section: str  # the heading the chunk sits under ("" before the first heading)
    embed_text: str  # what the model reads: heading + text, markdown marks removed


def chunk_id(source: str, text: str, occurrence: int) -> str:
    return hashlib.sha256(f"{source}\x00{occurrence}\x00{text}".encode()).hexdigest()[:32]


def plain(text: str) -> str:
    """Markdown heading marks and bullet dashes do not help the embedder; drop them."""
    return re.sub(r"^(#{1,6}|[-*•])\s+", "", text, flags=re.M)


class Splitter:
    """Splits each section (heading + body) on its own, so a heading is always the start of a chunk that holds
    the beginning of its text; then merges neighbours that fit together, so tiny sections are not orphaned."""

    def __init__(
        self, count_tokens: Callable[[str], int], *, max_tokens: int, chunk_tokens: int, overlap_tokens: int
    ) -> None:
        if chunk_tokens + 2 > max_tokens:
            raise ValueError(f"CHUNK_TOKENS={chunk_tokens} exceeds what the embedder reads ({max_tokens} word pieces)")
        if not 0 <= overlap_tokens < chunk_tokens:
            raise ValueError("CHUNK_OVERLAP must be at least 0 and smaller than CHUNK_TOKENS")
        # LangChain's recursive splitter measures the same pieces again as it merges them (about two calls per
        # distinct text): remember recent counts
        self.count_tokens = functools.lru_cache(maxsize=4096)(count_tokens)
        self.max_tokens = max_tokens
        self.chunk_tokens = chunk_tokens
        self.overlap_tokens = overlap_tokens

    def _tokens(self, text: str) -> int:
        return self.count_tokens(text) - 2  # [CLS]/[SEP] are counted once per chunk, not per piece

    def _pieces(self, body: str, budget: int) -> list[tuple[int, int]]:
        splitter = RecursiveCharacterTextSplitter(
            separators=SEPARATORS,
            keep_separator="end",
            chunk_size=max(budget, 16),
            chunk_overlap=min(self.overlap_tokens, max(budget, 16) // 2),
            length_function=self._tokens,
            strip_whitespace=True,
        )
        spans: list[tuple[int, int]] = []
        for piece in splitter.split_text(body):
            if not spans:
                start = body.find(piece)
            else:
                # The piece starts inside the previous one (overlap) or right after it. Taking the last fit in
                # that window keeps offsets exact even for repetitive text, where find() would match too early.
                prev_start, prev_end = spans[-1]
                gap = len(body[prev_end:]) - len(body[prev_end:].lstrip())
                start = body.rfind(piece, prev_start + 1, prev_end + gap + len(piece))
                if start < 0:  # cannot happen for stripped slices; never lose a chunk over an offset
                    start = body.find(piece, prev_start + 1)
            spans.append((start, start + len(piece)))
        return spans

    def _spans(self, text: str) -> list[tuple[int, int, str]]:
        """(start, end, section) of every piece, heading included in the first piece of its section."""
        marks = [(m.start(), m.end(), m.group(2).strip()) for m in HEADING.finditer(text)]
        bounds = [(0, 0, "")] + marks
        spans: list[tuple[int, int, str]] = []
        for i, (h_start, h_end, title) in enumerate(bounds):
            end = marks[i][0] if i < len(marks) else len(text)
            body = text[h_end:end]
            budget = self.chunk_tokens - (self._tokens(text[h_start:h_end]) if title else 0)
            pieces = [(h_end + a, h_end + b) for a, b in self._pieces(body, budget)] if body.strip() else []
            if title:
                if pieces:
                    pieces[0] = (h_start, pieces[0][1])
                else:
                    pieces = [(h_start, h_end)]
            spans.extend((a, b, title) for a, b in pieces)
        merged: list[tuple[int, int, str]] = []
        for a, b, title in spans:
            if merged and a >= merged[-1][1] and self._tokens(text[merged[-1][0] : b]) <= self.chunk_tokens:
                merged[-1] = (merged[-1][0], b, merged[-1][2])
            else:
                merged.append((a, b, title))
        return merged

    def split(self, source: str, text: str) -> list[Chunk]:
        chunks: list[Chunk] = []
        seen: dict[str, int] = {}
        section = ""
        for start, end, title in self._spans(text):
            piece = text[start:end].strip()
            start = text.index(piece, start) if piece else start
            end = start + len(piece)
            section = title or section
            if not re.search(r"\w", piece):
                continue
            occurrence = seen.get(piece, 0)
            seen[piece] = occurrence + 1
            body = plain(piece)
            embed_text = body if not section or body.startswith(section) else f"{section}\n{body}"
            if self.count_tokens(embed_text) > self.max_tokens:
                embed_text = body  # a very long heading must not push article text past the model's limit
            chunks.append(
                Chunk(chunk_id(source, piece, occurrence), len(chunks), piece, start, end, section, embed_text)
            )
        return chunks
