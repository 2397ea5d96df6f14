"""What is indexed: the list of articles and one article's text, put together from its passages.

    library(lexicon)            -> [ArticleInfo, ...]   oldest first, as the lexicon's snapshot holds them
    article_text(lexicon, src)  -> ArticleText | None   the cleaned text as indexed, with where each passage sits

The index keeps no separate copy of an article: every passage is an exact slice `text[start_char:end_char]` of the
cleaned article (ingest/split.py), and consecutive passages overlap or touch, so the article is their union. A gap
between two passages (the whitespace the splitter drops between them) is filled with line breaks of the same length,
so the offsets the citations carry stay true.
"""

from __future__ import annotations

from typing import Any

from chat.lexicon import Lexicon
from chat.schema import ArticleInfo, ArticlePassage, ArticleText


def library(lexicon: Lexicon) -> list[ArticleInfo]:
    """Every indexed article (oldest first, then by title) with how many passages it has."""
    return [
        ArticleInfo(
            source=a.source,
            title=a.title,
            publisher=a.publisher,
            author=a.author,
            published=a.published,
            url=a.url,
            chunks=len(a.chunk_ids),
            ingested=a.ingested,
        )
        for a in lexicon.articles()
    ]


def stitch(pieces: list[tuple[int, int, str]]) -> str:
    """The text that `(start, end, text)` slices were cut from: overlaps taken once, gaps as line breaks."""
    out: list[str] = []
    length = 0
    for start, end, text in sorted(pieces):
        if end <= length:
            continue  # wholly inside what is already there
        if start > length:
            out.append("\n" * (start - length))
            length = start
        out.append(text[length - start :])
        length = end
    return "".join(out)


def article_text(lexicon: Lexicon, source: str) -> ArticleText | None:
    """The article `source` as indexed (None when it is not in the index)."""
    got: dict[str, Any] = lexicon.collection.get(where={"source": source}, include=["documents", "metadatas"])
    if not got["ids"]:
        return None
    rows = sorted(
        zip(got["ids"], got["documents"], got["metadatas"]),
        key=lambda r: (int(r[2].get("start_char", 0) or 0), int(r[2].get("chunk_index", 0) or 0)),
    )
    pieces, passages = [], []
    for cid, doc, meta in rows:
        start = int(meta.get("start_char", 0) or 0)
        end = start + len(doc)  # the passage's own length: the text and its offsets always agree
        pieces.append((start, end, doc))
        passages.append(
            ArticlePassage(chunk_id=cid, section=str(meta.get("section", "")), start_char=start, end_char=end)
        )
    meta = rows[0][2]
    return ArticleText(
        source=source,
        title=str(meta.get("title", "")),
        publisher=str(meta.get("publisher", "")),
        author=str(meta.get("author", "")),
        published=str(meta.get("published", "")),
        url=str(meta.get("url", "")),
        chunks=len(rows),
        ingested=max(str(m.get("ingested", "")) for _, _, m in rows),
        text=stitch(pieces),
        passages=passages,
    )
