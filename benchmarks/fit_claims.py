"""Choose the thresholds of chat.claims (what a kept answer sentence must be) on the dev set, never the test set.

    python benchmarks/fit_claims.py [--questions tests/data/qa/dev.jsonl]

Two kinds of sentence that must be kept, from dev:
- the sentences of the dev reference answers: faithful human paraphrases of their articles, the way a good model
  writes (checked against the chunks of the article the row expects, since a reference may draw on several);
- the sentences of the extractive answers to dev, verbatim from their passages (rules off while measuring).

For each candidate (max_novel_words, max_novel_share) it prints the share of reference sentences kept; for the
relevance floor it prints percentiles of relevance per question type for reference sentences and for extractive
sentences that hold a key fact; and it counts reference and extractive sentences the fragment, echo and duplicate
rules would drop. The chosen values (chat.policy) keep nearly all of both; what they drop of a real model's
output is measured by benchmarks/generative.py.
"""

from __future__ import annotations

import argparse
import dataclasses
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

import app  # noqa: E402

app.offline_environment()  # before the model, Chroma or Gradio libraries are imported

# isort: split

import numpy as np  # noqa: E402

from chat import claims  # noqa: E402
from chat.evaluation import fact_found, load_questions  # noqa: E402
from chat.policy import POLICY  # noqa: E402
from chat.questions import LIST, SUMMARY, analyze  # noqa: E402
from chat.schema import Claim  # noqa: E402
from chat.text import split_sentences  # noqa: E402

WORDS = (1, 2, 3, 4)
SHARES = (0.15, 0.25, 0.35, 0.5)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--questions", type=Path, default=ROOT / "tests/data/qa/dev.jsonl")
    args = ap.parse_args()
    rows, problems = load_questions(args.questions)
    if problems:
        raise SystemExit("; ".join(problems))
    settings = app.Settings()
    assistants: dict[str, object] = {}
    novel: list[tuple[int, int]] = []
    ref_relevance: dict[str, list[float]] = defaultdict(list)
    ext_relevance: dict[str, list[float]] = defaultdict(list)
    flagged: dict[str, list[str]] = defaultdict(list)
    for row in rows:
        if row.get("expect_refusal"):
            continue
        corpus = row.get("corpus") or "corpus/shipped"
        if corpus not in assistants:
            a = app.build_assistant(settings, app.eval_store(settings, args.questions.parent / corpus))
            a.policy = dataclasses.replace(POLICY, min_claim_relevance=float("-inf"))  # measure, do not drop
            assistants[corpus] = a
        a = assistants[corpus]
        q = analyze(row["question"], a.lexicon)
        expected = row.get("expected_sources") or []
        articles = [x for x in a.lexicon.refresh().articles.values() if any(x.source.endswith(e) for e in expected)]
        chunks = [d for art in articles for d in a.retriever.article(art.source)]
        texts = [d.page_content for d in chunks]
        titles = sorted({str(d.metadata.get(k, "")) for d in chunks for k in ("title", "publisher")} - {""})
        heads = claims.headings_of(texts, titles)
        sentences = [s.strip() for s in split_sentences(row.get("reference") or "") if s.strip()]
        for claim in a._score(q, [Claim(s, None) for s in sentences]):
            ref_relevance[q.type].append(claim.relevance)
        for s in sentences:
            found, total = claims.novel_words(s, " ".join(texts + titles), a.lexicon)
            novel.append((len(found), total))
            if claims.is_fragment(s):
                flagged["reference fragment"].append(s)
            if claims.is_echo(s, q.text, heads, frozenset()):
                flagged["reference echo"].append(s)
        answer = a.ask(row["question"])
        facts = [f if isinstance(f, list) else [f] for f in row.get("must_include") or []]
        for s in answer.sentences:
            if any(fact_found(x, s.text) for f in facts for x in f):
                ext_relevance[answer.question_type].append(s.relevance)
        for d in answer.dropped:
            flagged[f"extractive {d.reason}"].append(d.text)

    n = len(novel)
    print(f"reference sentences: {n}")
    print("share kept by (max_novel_words, max_novel_share):")
    print("         " + "".join(f"{s:>8}" for s in SHARES))
    for w in WORDS:
        kept = [sum(1 for k, t in novel if k == 0 or (k <= w and k <= s * t)) / n for s in SHARES]
        print(f"  {w} words" + "".join(f"{x:8.3f}" for x in kept))
    print(f"chosen: {POLICY.max_novel_words} words, {POLICY.max_novel_share} share")
    print("\nrelevance (p2 / p5 / p10 / min) per question type:")
    for name, groups in (
        ("reference sentences", ref_relevance),
        ("extractive sentences holding a key fact", ext_relevance),
    ):
        print(f"  {name}:")
        for t, v in sorted(groups.items()):
            v = np.array(v)
            print(
                f"    {t:12} n={len(v):3}  " + " / ".join(f"{x:.3f}" for x in (*np.percentile(v, [2, 5, 10]), v.min()))
            )
    floor = POLICY.min_claim_relevance
    ruled = [x for t, v in ref_relevance.items() if t not in (SUMMARY, LIST) for x in v]
    ext = [x for t, v in ext_relevance.items() if t not in (SUMMARY, LIST) for x in v]
    print(
        f"chosen floor {floor}: keeps {np.mean(np.array(ruled) >= floor):.3f} of reference sentences and "
        f"{np.mean(np.array(ext) >= floor):.3f} of fact-holding extractive ones (summaries and lists exempt)"
    )
    print("\nwhat the other rules would drop:")
    for k, v in sorted(flagged.items()):
        print(f"  {k}: {len(v)}")
        for s in v[:5]:
            print(f"      {s[:110]}")


if __name__ == "__main__":
    main()
