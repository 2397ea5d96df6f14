"""Where the extractive answerer loses key facts, and whether a better-fitted sentence ranking could win them back.

    python benchmarks/answer_ceiling.py                                   # dev + dev2
    python benchmarks/answer_ceiling.py --questions tests/data/qa/test.jsonl --funnel-only

1. Funnel. Every `must_include` fact of every answerable row is either in the answer, in the evidence the answerer
   read (`chat.evidence.gather`: the passages it chose sentences from) but not chosen, or not in the evidence at all
   (retrieval missed it). Printed per question type. This part only measures, so it may be run on any set.
2. Ranking under cross-validation (dev sets only: it fits models). For each row, the candidate sentences with their
   `chat.sentences.FEATURES`; the share of the row's key facts held by its top-k sentences (k = 3 for facts and
   why / how, 4 for comparisons, 5 for several points and advice, 6 for lists; summaries are ranked by
   centrality, not by these features, and left out). Scored by the current weights (in-sample: they were searched
   on these very rows) and by models fitted in 5-fold cross-validation grouped by question (three shuffles):
   logistic regression on the features, the same with one copy of every feature per question type, and gradient
   boosting. Also the ceiling: the share of key facts any candidate sentence holds.
3. Length (dev sets only). Key-fact recall with longer answers (lower ratios, more sentences and points).

Prints tables; the closing note of the answering-core issue quotes them.
"""

from __future__ import annotations

import argparse
import collections
import dataclasses
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

import app  # noqa: E402

app.offline_environment()  # before the model, Chroma or Gradio libraries are imported

# isort: split

import numpy as np  # noqa: E402

from benchmarks.fit_policy import (  # noqa: E402
    assistants_for,
    candidate_sentences,
    evaluate,
    fact_alternatives,
    load_sets,
    show,
    use,
)
from chat.evaluation import fact_found  # noqa: E402
from chat.evidence import gather  # noqa: E402
from chat.policy import POLICY  # noqa: E402
from chat.questions import analyze  # noqa: E402

TOP_K = {"fact": 3, "explanation": 3, "comparison": 4, "points": 5, "advice": 5, "list": 6}
LONGER = {  # answers about a third and two thirds longer than the policy's
    "longer": dict(
        fact_ratio=0.4,
        explanation_ratio=0.35,
        max_sentences=4,
        max_words=150,
        points_max=6,
        side_sentences=3,
        summary_sentences=6,
    ),
    "longest": dict(
        fact_ratio=0.25,
        explanation_ratio=0.25,
        max_sentences=5,
        max_words=200,
        points_max=7,
        side_sentences=3,
        side_passages=4,
        summary_sentences=7,
        points_cross_ratio=0.6,
    ),
}


def funnel(rows: list[dict], assistants: dict) -> None:
    counts: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    for row in rows:
        a = assistants[row.get("corpus")]
        q = analyze(row["question"], a.lexicon)
        read = " \n ".join(d.page_content for d in gather(q, a.retriever, a.policy).passages)
        answer = a.ask(row["question"])
        text = "" if answer.refused else answer.plain_text
        for alts in fact_alternatives(row):
            where = (
                "answered"
                if any(fact_found(x, text) for x in alts)
                else "in evidence"
                if any(fact_found(x, read) for x in alts)
                else "not retrieved"
            )
            counts[row.get("type", "?")][where] += 1
    total = sum(counts.values(), collections.Counter())
    print(f"\n{'type':12} {'facts':>6} {'answered':>9} {'in evidence, not chosen':>24} {'not retrieved':>14}")
    for t, c in sorted(counts.items()) + [("all", total)]:
        n = sum(c.values())
        print(f"{t:12} {n:6} {c['answered'] / n:9.3f} {c['in evidence'] / n:24.3f} {c['not retrieved'] / n:14.3f}")


def candidates(rows: list[dict], assistants: dict) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """(type, features, sentence × fact hits) of every answerable non-summary row whose evidence has sentences."""
    return [
        (
            q.type,
            X,
            np.array([[any(fact_found(x, u.text) for x in alts) for alts in fact_alternatives(row)] for u in units]),
        )
        for _, row, q, units, X in candidate_sentences(rows, assistants)
    ]


def top_k_recall(kind: str, scores: np.ndarray, hits: np.ndarray) -> float:
    top = np.argsort(-scores)[: TOP_K.get(kind, 3)]
    return float(hits[top].any(axis=0).mean())


def ranking(data: list[tuple[str, np.ndarray, np.ndarray]]) -> None:
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression

    kinds = sorted({k for k, _, _ in data})

    def per_type(X: np.ndarray, kind: str) -> np.ndarray:
        copy = np.zeros((X.shape[0], len(kinds) * X.shape[1]), dtype=X.dtype)
        j = kinds.index(kind)
        copy[:, j * X.shape[1] : (j + 1) * X.shape[1]] = X
        return np.hstack([X, copy])

    def report(label: str, results: dict[str, list[float]]) -> None:
        everything = [v for vs in results.values() for v in vs]
        print(
            f"{label:44} {np.mean(everything):.3f}   "
            + ", ".join(f"{k} {np.mean(v):.3f}" for k, v in sorted(results.items()))
        )

    weights = np.asarray(POLICY.weights)
    current: dict[str, list[float]] = collections.defaultdict(list)
    ceiling: dict[str, list[float]] = collections.defaultdict(list)
    for kind, X, hits in data:
        current[kind].append(top_k_recall(kind, X @ weights, hits))
        ceiling[kind].append(float(hits.any(axis=0).mean()))
    print(f"\n{len(data)} questions; share of key facts in the top-k candidate sentences (k by type: {TOP_K})")
    report("any candidate sentence (ceiling)", ceiling)
    report("current weights (in-sample)", current)
    models = {
        "logistic regression (5-fold CV)": (lambda: LogisticRegression(C=1.0, max_iter=4000), False),
        "logistic regression, per-type copies (CV)": (lambda: LogisticRegression(C=1.0, max_iter=4000), True),
        "gradient boosting (CV)": (
            lambda: HistGradientBoostingClassifier(max_iter=150, learning_rate=0.05, max_leaf_nodes=7),
            False,
        ),
    }
    for label, (make, typed) in models.items():
        design = (lambda X, kind: per_type(X, kind)) if typed else (lambda X, kind: X)
        results: dict[str, list[float]] = collections.defaultdict(list)
        for seed in (0, 1, 2):
            folds = np.random.default_rng(seed).permutation(len(data)) % 5
            for f in range(5):
                train = [i for i in range(len(data)) if folds[i] != f]
                X = np.vstack([design(data[i][1], data[i][0]) for i in train])
                y = np.concatenate([data[i][2].any(axis=1) for i in train]).astype(int)
                model = make().fit(X, y)
                for i in (i for i in range(len(data)) if folds[i] == f):
                    kind, Xi, hits = data[i]
                    results[kind].append(top_k_recall(kind, model.predict_proba(design(Xi, kind))[:, 1], hits))
        report(label, results)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--questions",
        type=Path,
        nargs="+",
        default=[ROOT / "tests" / "data" / "qa" / "dev.jsonl", ROOT / "tests" / "data" / "qa" / "dev2.jsonl"],
    )
    parser.add_argument("--funnel-only", action="store_true", help="Only the funnel (the one part that fits nothing).")
    args = parser.parse_args()
    held_out = any("test" in path.name or "holdout" in str(path) for path in args.questions)
    if held_out and not args.funnel_only:
        sys.exit("a test or holdout split gets the funnel only (--funnel-only): the other parts fit models")
    rows = [r for r in load_sets(args.questions) if r.get("must_include") and not r.get("expect_refusal")]
    assistants = assistants_for(rows)
    funnel(rows, assistants)
    if args.funnel_only:
        return
    ranking(candidates(rows, assistants))
    print()
    show("answers as the policy makes them", evaluate(rows, assistants))
    for label, change in LONGER.items():
        use(assistants, dataclasses.replace(POLICY, **change))
        show(f"{label} answers", evaluate(rows, assistants))
    use(assistants, POLICY)


if __name__ == "__main__":
    main()
