"""The passages a question needs, gathered the way its type needs them. Both answerers read the same `Evidence`.

    evidence = gather(question, retriever)
    evidence.passages        # numbered [1]..[n] in this order
    evidence.sides           # [("AInvest (2026-01-12)", [1, 2]), ("CoinMela (2026-01-27)", [3])] for a comparison

- fact, explanation, list, advice: the top passages of hybrid retrieval (only from the articles the question
  names, when it names some);
- points: more passages, so that distinct points can come from different places;
- summary: every chunk of each article it names (all articles when it says "the articles" and there are few);
- comparison: each side retrieved on its own, per article ("do the two articles agree…") or per entity
  ("growth vs value ETFs"), so that one side cannot crowd out the other.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from itertools import zip_longest

import numpy as np
from langchain_core.documents import Document

from chat.glossary import RISK_QUERY
from chat.lexicon import Article
from chat.policy import POLICY, Policy
from chat.questions import ADVICE, COMPARISON, EXPLANATION, FACT, LIST, POINTS, SUMMARY, Question
from chat.retrieval import HybridRetriever
from chat.sides import dimension_of
from chat.text import tokenize

log = logging.getLogger(__name__)


@dataclass
class Evidence:
    passages: list[Document]
    sides: list[tuple[str, list[int]]] = field(default_factory=list)  # (label, 1-based passage numbers)
    articles: list[Article] = field(default_factory=list)  # the articles a summary covers
    query: str = ""  # what sentences are scored against
    side_queries: list[str] = field(default_factory=list)  # what each side's sentences are scored against


def risk_text(q: Question) -> str:
    """A risk question's topic in the words risks are written in: its second search, and what its points are also
    read against when their relevance is checked."""
    return f"{q.topic or q.normalized.text} {RISK_QUERY}"


def article_label(article: Article) -> str:
    date = f", {article.published}" if article.published else ""
    return f"{article.label}{date}" if article.publisher else f"“{article.title}”{date}"


def _resolve_by_topic(q: Question, retriever: HybridRetriever) -> list[Article]:
    """The article a summary question describes by its subject ("the piece on the Quillmark IPO"): the one whose
    chunks hold most of the question's BM25 weight, when it clearly leads."""
    scores, snap = retriever.lexicon.bm25(q.normalized.bm25_weights())
    if not len(scores) or scores.max() <= 0:
        return []
    per = np.zeros(len(snap.sources))
    np.maximum.at(per, snap.row_source, scores)
    order = np.argsort(-per)
    best = per[order[0]]
    second = per[order[1]] if len(order) > 1 else 0.0
    if best > 0 and (second == 0 or best >= 1.25 * second):
        art = snap.articles.get(snap.sources[order[0]])
        return [art] if art else []
    return []


def name_scope(q: Question, retriever: HybridRetriever) -> set[str] | None:
    """The articles that name what the question names ("How big is Larkspur's buyback?" is answered from articles
    that name Larkspur, so a bank story's buyback cannot crowd them out): those naming all its names, else any.
    None when that is every article or none (nothing to restrict)."""
    lexicon = retriever.lexicon
    named = [lexicon.name_forms(n.text) for n in q.names if n.text not in q.unknown]
    found = [lexicon.sources_naming(forms) for forms in named if forms]
    found = [f for f in found if f]
    if not found:
        return None
    scope = set.intersection(*found) or set.union(*found)
    return scope if len(scope) < len(lexicon.refresh().articles) else None


MAX_COMPARED = 4  # sides of an article comparison, as a summary reads at most 4 articles


def _compared_articles(articles: list[Article], dimension: str) -> list[tuple[str, str, set[str]]]:
    """The sides of an article comparison, each (label, query, sources): one per article, or, when more articles
    are named than can be sides ("what do Bayline and the Small-Cap Report say", the latter with 98 articles),
    one per publisher, searched across its articles. The first MAX_COMPARED either way."""
    if len(articles) > MAX_COMPARED:
        by_publisher: dict[str, set[str]] = {}
        for a in articles:
            by_publisher.setdefault(a.publisher or article_label(a), set()).add(a.source)
        if len(by_publisher) >= 2:
            return [(name, dimension, sources) for name, sources in list(by_publisher.items())[:MAX_COMPARED]]
    return [(article_label(a), dimension, {a.source}) for a in articles[:MAX_COMPARED]]


def gather(q: Question, retriever: HybridRetriever, policy: Policy = POLICY) -> Evidence:
    query = q.normalized.text
    if q.type == SUMMARY:
        articles = list(q.articles)
        catalogue = retriever.lexicon.articles()
        if not articles:
            if q.all_articles or len(catalogue) <= 1:
                articles = catalogue
            else:
                articles = _resolve_by_topic(q, retriever) or (catalogue if len(catalogue) <= 4 else [])
        if articles:
            passages: list[Document] = []
            sides = []
            for art in articles[:4]:
                chunks = retriever.article(art.source, query)
                sides.append((article_label(art), list(range(len(passages) + 1, len(passages) + len(chunks) + 1))))
                passages.extend(chunks)
            return Evidence(passages, sides if len(articles) > 1 else [], articles[:4], query)
        # No article in view: answer it as several points on its topic.
    if (
        q.type in (LIST, POINTS, ADVICE)
        and q.articles
        and sum(len(a.chunk_ids) for a in q.articles) <= policy.list_article_chunks
    ):
        # "Which people does the AInvest piece quote?", "What catalysts does AInvest see?": every sentence of the
        # named article is a candidate (its opening bullets, its numbered sections).
        passages = [doc for art in q.articles for doc in retriever.article(art.source, query)]
        return Evidence(passages, [], [], query)
    if q.type == COMPARISON and (q.all_articles or len(q.articles) >= 2 or q.sides):
        topic = q.topic or query
        dimension = dimension_of(q) if tokenize(dimension_of(q)) else topic
        passages, sides = [], []
        seen: dict[str, int] = {}
        if q.all_articles or len(q.articles) >= 2:
            targets = _compared_articles(q.articles or retriever.lexicon.articles(), dimension)
        else:
            # Each side is searched for what the question compares ("How do small-cap valuations compare with the
            # S&P 500?": the S&P 500 side is about valuations too).
            targets = [(side, f"{side} {dimension}".strip(), q.sources) for side in q.sides]
        for label, side_query, sources in targets:
            numbers = []
            for doc in retriever.search(side_query, k=policy.side_passages, sources=sources):
                cid = doc.metadata["chunk_id"]
                if cid not in seen:
                    passages.append(doc)
                    seen[cid] = len(passages)
                numbers.append(seen[cid])
            sides.append((label, numbers))
        return Evidence(passages, sides, [], topic, [side_query for _, side_query, _ in targets])
    scope = q.sources or name_scope(q, retriever)
    if q.two_part and q.type in (FACT, EXPLANATION):
        # "Why do REITs rally when yields fall, and how did they hold up in 2022?": each part searched on its own.
        from chat.selection import split_parts

        parts = split_parts(q.text)
        if len(parts) >= 2:
            subject = " ".join(n.text for n in q.names)
            passages, seen = [], set()
            for part in parts:
                text = part if not subject or subject.lower() in part.lower() else f"{part} ({subject})"
                for doc in retriever.search(text, k=policy.part_passages, sources=scope):
                    if doc.metadata["chunk_id"] not in seen:
                        seen.add(doc.metadata["chunk_id"])
                        passages.append(doc)
            return Evidence(passages, [], [], query)
    k = policy.points_passages if q.type in (POINTS, SUMMARY, ADVICE) else None
    text = (q.topic or query) if q.type in (POINTS, SUMMARY) and len(tokenize(q.topic)) >= 1 else query
    passages = retriever.search(text, k=k, sources=scope, normalized=None if text != query else q.normalized)
    if q.risk and q.type == POINTS:
        # The topic alone finds what the articles say about it, mostly the bullish case; a second search with
        # the words risks are written in finds the caveats, taken in turn with the first search's passages.
        cued = retriever.search(risk_text(q), k=k, sources=scope)
        passages = _interleave(passages, cued, len(passages))
    return Evidence(passages, [], [], query)


def _interleave(first: list[Document], second: list[Document], k: int) -> list[Document]:
    """The passages of two searches taken in turn (first, second, first, …), each once, at most k."""
    out, seen = [], set()
    for pair in zip_longest(first, second):
        for doc in pair:
            if doc is not None and doc.metadata["chunk_id"] not in seen and len(out) < k:
                seen.add(doc.metadata["chunk_id"])
                out.append(doc)
    return out
