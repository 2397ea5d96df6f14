"""The record format of the index: what ingest writes with every passage and what the answering core reads back.

    meta: ChunkMetadata = chunk_metadata(article, index=0, chunk_id="…", chunks=3, start=0, end=812, section="…",
                                         text_hash="…")

Chroma and LangChain carry metadata as flat dicts, so the format is a `TypedDict`: one declaration that the writer
(ingest/index.py) builds and the readers (chat/) type their reads with, at no cost per passage. It is the one
module of ingest/ that chat/ may import (tests/test_layout.py): the two meet in the index, not in code.

Beside each passage the index may keep the vectors of the texts the answerer scores in it (its sentences, the FAQ
questions and headings they sit under: `SentenceVectors`), computed at ingest so that answering a question embeds
only the question. They are stored as int8 with one scale per vector (`pack_vectors`), 392 bytes a 384-dimension
vector, which moves a cosine by less than 0.002.
"""

from __future__ import annotations

import base64
import hashlib
from typing import TypedDict

import numpy as np


class ArticleMetadata(TypedDict):
    """What is known of an article: stamped at load time (ingest/load.py) on every one of its passages."""

    source: str  # the file, relative to the corpus folder, with forward slashes
    format: str  # txt, md, html, pdf
    title: str
    publisher: str
    author: str
    published: str  # ISO date (YYYY-MM-DD) when known
    url: str


# The article fields a corpus sidecar or a file's own header may set (every other field is the loader's own).
ARTICLE_FIELDS = ("title", "publisher", "author", "published", "url")


class ChunkMetadata(ArticleMetadata):
    """One passage (chunk) of an article, as stored in the index."""

    chunk_index: int  # its place in the article, from 0
    chunk_id: str  # its id in the index
    chunks_in_source: int
    start_char: int  # where it starts and ends in the article's cleaned text
    end_char: int
    section: str  # the heading it starts under ("" before the first heading)
    text_hash: str  # of its text: unchanged text keeps its stored embedding
    ingested: str  # when its article was last (re-)ingested: ISO 8601 UTC, to the second ("" in older indexes)


def chunk_metadata(
    article: ArticleMetadata,
    *,
    index: int,
    chunk_id: str,
    chunks: int,
    start: int,
    end: int,
    section: str,
    text_hash: str,
    ingested: str = "",
) -> ChunkMetadata:
    """The record of one passage of `article`."""
    return ChunkMetadata(
        source=article["source"],
        format=article["format"],
        title=article["title"],
        publisher=article["publisher"],
        author=article["author"],
        published=article["published"],
        url=article["url"],
        chunk_index=index,
        chunk_id=chunk_id,
        chunks_in_source=chunks,
        start_char=start,
        end_char=end,
        section=section,
        text_hash=text_hash,
        ingested=ingested,
    )


class SentenceVectors(TypedDict):
    """The scored texts of one passage and their vectors (a record of the `<index>__sentences` collection, whose
    id is the passage's chunk_id)."""

    source: str  # the article, so that its records go with it
    chunk_id: str  # the passage's (also the record's id)
    text_hash: str  # the passage's (ChunkMetadata.text_hash): an unchanged passage elsewhere reuses them
    key: str  # texts_key of the texts, in order: a reader that splits the passage otherwise ignores them
    count: int
    vectors: str  # pack_vectors of one row per text


def texts_key(texts: list[str], version: str) -> str:
    """Names the texts a passage's vectors are for, and the version of the function that chose them."""
    return hashlib.sha256("\x1f".join([version, *texts]).encode()).hexdigest()[:24]


def pack_vectors(vectors: np.ndarray) -> str:
    """Unit vectors (rows) as base64 text: each row's scale (float32), then the row as int8 of that scale."""
    rows = np.asarray(vectors, dtype=np.float32).reshape(len(vectors), -1)
    scales = np.maximum(np.abs(rows).max(axis=1), 1e-12).astype(np.float32) / 127.0
    codes = np.clip(np.rint(rows / scales[:, None]), -127, 127).astype(np.int8)
    return base64.b64encode(scales.tobytes() + codes.tobytes()).decode("ascii")


def unpack_vectors(packed: str, count: int) -> np.ndarray:
    """The rows of `pack_vectors` (float32, each renormalised to unit length)."""
    raw = base64.b64decode(packed)
    scales = np.frombuffer(raw[: 4 * count], dtype=np.float32)
    codes = np.frombuffer(raw[4 * count :], dtype=np.int8).reshape(count, -1)
    rows = codes.astype(np.float32) * scales[:, None]
    return rows / np.maximum(np.linalg.norm(rows, axis=1, keepdims=True), 1e-12)
