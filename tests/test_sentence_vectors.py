"""Sentence vectors stored at ingest (ingest.records.SentenceVectors): every passage gets the vectors of the texts
the answerer scores in it, they follow the passage through edits, renames and deletions, and a question then
embeds only itself (real model, real Chroma: embedded and a `chroma run` server).

    python -m pytest tests/test_sentence_vectors.py
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import CORPUS

import app as app_module
from chat.embeddings import EmbeddingCache, StoredSentences
from chat.sentences import SCORED_TEXTS_VERSION, scored_texts
from ingest.records import pack_vectors, texts_key, unpack_vectors


def unit_rows(n: int, dim: int = 384, seed: int = 0) -> np.ndarray:
    rows = np.random.default_rng(seed).normal(size=(n, dim)).astype(np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def test_packed_vectors_keep_their_direction():
    rows = unit_rows(40)
    back = unpack_vectors(pack_vectors(rows), 40)
    assert back.shape == rows.shape and back.dtype == np.float32
    assert float((rows * back).sum(axis=1).min()) > 0.999
    assert np.allclose(np.linalg.norm(back, axis=1), 1.0, atol=1e-5)


def test_the_key_names_the_texts_and_the_rules():
    texts = ["Small caps rose.", "Why?"]
    assert texts_key(texts, "1") == texts_key(list(texts), "1")
    assert texts_key(texts, "1") != texts_key(texts, "2")
    assert texts_key(texts, "1") != texts_key(texts[::-1], "1")
    assert texts_key(["a b"], "1") != texts_key(["a", "b"], "1")


def records(store) -> dict[str, dict]:
    got = store.sentences.get(include=["metadatas"])
    return dict(zip(got["ids"], got["metadatas"]))


def chunks(store) -> dict[str, tuple[str, dict]]:
    got = store.chunks.get(include=["documents", "metadatas"])
    return {i: (d, m) for i, d, m in zip(got["ids"], got["documents"], got["metadatas"])}


def test_every_passage_has_the_vectors_of_what_the_answerer_scores(indexer, store, embedder):
    report = indexer.run(CORPUS, progress=False)
    stored, passages = records(store), chunks(store)
    assert set(stored) == set(passages) and report.sentences_embedded > 0
    for cid, (text, meta) in passages.items():
        texts = scored_texts(text, meta)
        record = stored[cid]
        assert record["key"] == texts_key(texts, SCORED_TEXTS_VERSION) and record["count"] == len(texts)
        assert record["source"] == meta["source"] and record["text_hash"] == meta["text_hash"]
    # ...and they are the model's vectors of those texts
    cid, (text, meta) = next(iter(passages.items()))
    texts = scored_texts(text, meta)
    fresh = embedder.encode(texts)
    assert float((fresh * unpack_vectors(stored[cid]["vectors"], len(texts))).sum(axis=1).min()) > 0.998
    # A run with nothing changed embeds nothing, sentences included.
    again = indexer.run(CORPUS, progress=False)
    assert again.unchanged == 2 and again.sentences_embedded == 0


def test_a_text_neighbouring_passages_share_is_embedded_once(indexer, store, embedder, monkeypatch):
    # Parts of one chunk: the sentences of a chunk's overlap with its neighbour, and a heading over several chunks,
    # are always in the next part. Every distinct text is embedded exactly once all the same.
    monkeypatch.setattr(indexer, "batch_size", 1)
    report = indexer.run(CORPUS, progress=False)
    passages = chunks(store)
    per_passage = [t for text, meta in passages.values() for t in scored_texts(text, meta)]
    assert len(per_passage) >= len(set(per_passage)) + 5  # the corpus has shared texts to save
    assert report.sentences_embedded == len(set(per_passage))
    # ...and each passage's stored vectors are still the model's own for its texts
    stored = records(store)
    for cid, (text, meta) in passages.items():
        texts = scored_texts(text, meta)
        got = unpack_vectors(stored[cid]["vectors"], len(texts))
        assert float((embedder.encode(texts) * got).sum(axis=1).min()) > 0.998


ARTICLE = """---
title: Mid caps in 2026
publisher: Test Wire
published: 2026-02-01
---

## The case for mid caps

Mid caps trade at 15.8 times forward earnings, a discount to large caps. Analysts at Harbor Research expect earnings
growth of 12% this year. Fewer analysts cover the segment, which leaves prices less efficient.

## Risks

Higher rates would hurt the most indebted companies first. About 14% of the index lost money last year.
"""


def test_they_follow_their_passage_through_edits_renames_and_deletions(indexer, store, tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "mid.md").write_text(ARTICLE, encoding="utf-8")
    (corpus / "other.md").write_text(ARTICLE.replace("Mid caps", "Small caps").replace("mid caps", "small caps"))
    indexer.run(corpus, progress=False)
    # An edit: the changed passage gets new vectors, the stale one loses its own.
    article = corpus / "mid.md"
    article.write_text(ARTICLE.replace("About 14% of the index", "Roughly 15% of the members"), encoding="utf-8")
    edited = indexer.run(corpus, progress=False)
    assert edited.updated == 1 and edited.sentences_embedded > 0
    assert set(records(store)) == set(chunks(store))
    # A rename: same text, so the vectors are reused, none embedded.
    article.rename(corpus / "renamed.md")
    renamed = indexer.run(corpus, progress=False)
    assert renamed.renamed == 1 and renamed.sentences_embedded == 0
    assert set(records(store)) == set(chunks(store))
    assert {r["source"] for r in records(store).values()} == {"renamed.md", "other.md"}
    # A deletion takes them away with the passages.
    (corpus / "renamed.md").unlink()
    indexer.run(corpus, progress=False)
    assert {r["source"] for r in records(store).values()} == {"other.md"}


def test_a_question_embeds_only_itself(settings, embedder):
    store = app_module.build_store(settings, embedder)
    app_module.build_indexer(settings, store).run(CORPUS, progress=False)
    assistant = app_module.build_assistant(settings, store)
    answer = assistant.ask("How cheap are small caps compared with the S&P 500?")
    assert not answer.refused and answer.citations
    assert assistant.embed.embedded == 0  # every sentence, FAQ question and heading it scored was stored
    # Without the stored vectors (the texts changed since ingest, or SENTENCE_VECTORS off) the answer is the same,
    # its sentences embedded at question time.
    other = EmbeddingCache(
        store.embedder,
        stored=StoredSentences(store.live("sentences"), lambda text, meta: ["(other rules)"], SCORED_TEXTS_VERSION),
    )
    assistant.embed = assistant.answerer.embed = other
    again = assistant.ask("How cheap are small caps compared with the S&P 500?")
    assert other.embedded > 0
    assert [s.text for s in again.sentences] == [s.text for s in answer.sentences]


@pytest.fixture
def no_vectors_settings(settings):
    return settings.model_copy(update={"sentence_vectors": False})


def test_without_sentence_vectors_ingest_stores_none(no_vectors_settings, embedder):
    store = app_module.build_store(no_vectors_settings, embedder)
    report = app_module.build_indexer(no_vectors_settings, store).run(CORPUS, progress=False)
    assert report.sentences_embedded == 0 and not records(store)
    assistant = app_module.build_assistant(no_vectors_settings, store)
    assert not assistant.ask("What is the maturity wall?").refused
    assert assistant.embed.embedded > 0
