"""The record format of the index: what ingest writes with every passage and what the answering core reads back.

    meta: ChunkMetadata = chunk_metadata(article, index=0, chunk_id="…", chunks=3, start=0, end=812, section="…",
                                         text_hash="…")

Chroma and LangChain carry metadata as flat dicts, so the format is a `TypedDict`: one declaration that the writer
(ingest/index.py) builds and the readers (chat/) type their reads with, at no cost per passage. It is the one
module of ingest/ that chat/ may import (tests/test_layout.py): the two meet in the index, not in code.
"""

from __future__ import annotations

from typing import TypedDict


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
    )
