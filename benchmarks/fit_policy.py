"""Fit the answering core's sentence weights and search its thresholds on the dev sets (never on the test set).

    python benchmarks/fit_policy.py [--questions tests/data/qa/dev.jsonl tests/data/qa/dev2.jsonl] [--rounds 2]
                                    [--no-search] [--search-weights] [--only THRESHOLD ...]
    python benchmarks/fit_policy.py --weight-grid FEATURE VALUE [VALUE ...]

1. Sentence weights. With --search-weights: a coordinate search over the intercept and each weight (±0.5, ±1 from
   the current value) on the objective below, which is what the logistic fit only stands in for. Otherwise,
   for every answerable dev question with key facts, the candidate sentences of its evidence
   (what the extractive answerer would score) with their chat.sentences.FEATURES, labelled 1 when the sentence
   holds one of the question's `must_include` facts. A logistic regression (scikit-learn, L2) is fitted; its
   strength C is chosen by cross-validation grouped by question (5 folds), on the mean reciprocal rank of the
   first labelled sentence. The fitted intercept and weights are printed.
2. Thresholds. With those weights, a coordinate search over a small grid per threshold (two rounds by default):
   each candidate Policy answers every dev question, scored as
       key-fact recall (answerable rows) + 1.0 × correct refusals − 1.0 × false-refusal rate − 0.0015 × words,
   where words is the mean length of the answers (a longer answer finds more facts, and reads worse).
Prints the dev metrics before and after and the chosen values as a `Policy(...)` to copy into chat/policy.py.
With --weight-grid, only prints the dev metrics with one feature's weight at each value given (the others as they
are), for choosing a new feature's weight on its own.
Rows with a `corpus` column are asked of an index of that folder (as `python app.py eval` does).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

import app  # noqa: E402

app.offline_environment()  # before the model, Chroma or Gradio libraries are imported

# isort: split

import numpy as np  # noqa: E402

from chat.evaluation import fact_found, fact_recall, load_questions  # noqa: E402
from chat.evidence import gather  # noqa: E402
from chat.policy import POLICY, Policy  # noqa: E402
from chat.questions import SUMMARY, Question, analyze  # noqa: E402
from chat.sentences import FEATURES  # noqa: E402

# fmt: off
# The grid of each threshold the search visits.
GRID: dict[str, list] = {
    "min_probability": [0.05, 0.1, 0.15, 0.2, 0.3, 0.4],
    "fact_ratio": [0.5, 0.6, 0.7, 0.8, 0.9],
    "explanation_ratio": [0.4, 0.5, 0.6, 0.7, 0.8, 0.9],
    "cross_ratio": [0.3, 0.45, 0.6, 0.75, 0.9, 1.01],
    "next_ratio": [0.2, 0.35, 0.5, 0.65, 0.8, 1.01],
    "max_sentences": [2, 3, 4, 5],
    "list_ratio": [0.2, 0.35, 0.5, 0.65, 0.8],
    "points_ratio": [0.2, 0.35, 0.5, 0.65, 0.8],
    "points_max": [3, 4, 5, 6],
    "points_cross_ratio": [0.4, 0.55, 0.7, 0.85, 1.01],
    "sibling_ratio": [0.0, 0.3, 0.45, 0.6, 0.75, 0.9],
    "points_redundancy": [0.6, 0.68, 0.76, 0.84],
    "side_ratio": [0.4, 0.55, 0.7, 0.85],
    "side_sentences": [1, 2, 3],
    "summary_lead_weight": [0.0, 0.15, 0.3, 0.5],
    "summary_section_weight": [0.0, 0.15, 0.3, 0.5, 0.8],
    "summary_figure_weight": [0.0, 0.1, 0.2, 0.4],
    "summary_title_weight": [0.0, 0.15, 0.3, 0.6],
    "min_answer_score": [0.25, 0.3, 0.33, 0.36, 0.4, 0.44],
    "list_min_answer_score": [0.15, 0.2, 0.25, 0.3, 0.36],
    "points_min_answer_score": [0.2, 0.25, 0.3, 0.33, 0.36, 0.4],
    "coverage_relevant": [0.4, 0.5, 0.6, 0.7, 0.8],
}
# fmt: on


def load_sets(files: list[Path]) -> list[dict]:
    """The rows of every file, each `corpus` made a path (it is relative to its own file's folder)."""
    rows = []
    for path in files:
        loaded, problems = load_questions(path)
        if problems:
            sys.exit(f"{path}: {problems}")
        for row in loaded:
            if row.get("corpus") is not None:
                row["corpus"] = str((path.parent / row["corpus"]).resolve())
            rows.append(row)
    return rows


def assistants_for(rows: list[dict]) -> dict:
    settings = app.Settings()
    app.set_threads(settings, serving=True)
    embedder = app.build_embedder(settings)
    out = {}
    for corpus in sorted({r.get("corpus") for r in rows}, key=str):
        store = (
            app.eval_store(settings, Path(corpus), embedder)
            if corpus is not None
            else app.build_store(settings, embedder)
        )
        out[corpus] = app.build_assistant(settings, store)
    return out


def use(assistants: dict, policy: Policy) -> None:
    for a in assistants.values():
        a.policy = policy
        a.answerer.policy = policy
        a.refusals.policy = policy


def fact_alternatives(row: dict) -> list[list[str]]:
    """The row's key facts, each as its list of alternatives."""
    return [item if isinstance(item, list) else [item] for item in row["must_include"]]


def candidate_sentences(rows: list[dict], assistants: dict) -> Iterator[tuple[int, dict, Question, list, np.ndarray]]:
    """(index, row, question, units, FEATURES) of every answerable row with key facts whose evidence has candidate
    sentences, summaries and other languages left out (summaries are ranked by centrality, not by these features)."""
    for g, row in enumerate(rows):
        if row.get("expect_refusal") or not row.get("must_include"):
            continue
        a = assistants[row.get("corpus")]
        q = analyze(row["question"], a.lexicon)
        if q.type == SUMMARY or q.language != "en":
            continue
        evidence = gather(q, a.retriever, a.policy)
        units = a.answerer.units(q, evidence.passages)
        if not units:
            continue
        feats, _ = a.answerer.features(q, units, evidence.passages)
        yield g, row, q, units, feats


def sentence_data(rows: list[dict], assistants: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Features, labels and question ids of every candidate sentence of the answerable dev questions."""
    X, y, groups = [], [], []
    for g, row, _, units, feats in candidate_sentences(rows, assistants):
        facts = fact_alternatives(row)
        labels = [int(any(fact_found(alt, u.text) for alts in facts for alt in alts)) for u in units]
        if not any(labels):
            continue  # the evidence holds none of its facts: nothing to learn about ranking here
        X.append(feats)
        y.extend(labels)
        groups.extend([g] * len(units))
    return np.vstack(X), np.asarray(y), np.asarray(groups)


def first_hit_mrr(scores: np.ndarray, y: np.ndarray, groups: np.ndarray) -> float:
    ranks = []
    for g in np.unique(groups):
        idx = groups == g
        order = np.argsort(-scores[idx])
        hits = np.flatnonzero(y[idx][order])
        ranks.append(1.0 / (hits[0] + 1) if len(hits) else 0.0)
    return float(np.mean(ranks))


def fit_weights(X: np.ndarray, y: np.ndarray, groups: np.ndarray) -> tuple[float, tuple[float, ...], float, dict]:
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GroupKFold

    results = {}
    for C in (0.03, 0.1, 0.3, 1.0, 3.0, 10.0):
        fold_scores = []
        for train, test in GroupKFold(n_splits=5).split(X, y, groups):
            model = LogisticRegression(C=C, max_iter=2000).fit(X[train], y[train])
            fold_scores.append(first_hit_mrr(model.decision_function(X[test]), y[test], groups[test]))
        results[C] = float(np.mean(fold_scores))
    best_c = max(results, key=results.get)
    model = LogisticRegression(C=best_c, max_iter=2000).fit(X, y)
    return float(model.intercept_[0]), tuple(round(float(w), 3) for w in model.coef_[0]), best_c, results


def with_value(policy: Policy, k: int, v: float) -> Policy:
    """The policy with weight k (of FEATURES; k == len(FEATURES): the intercept) set to v."""
    if k == len(FEATURES):
        return dataclasses.replace(policy, intercept=v)
    return dataclasses.replace(policy, weights=policy.weights[:k] + (v,) + policy.weights[k + 1 :])


def search_weights(
    rows: list[dict], assistants: dict, policy: Policy, current: dict, rounds: int
) -> tuple[Policy, dict]:
    """Coordinate search over the intercept and each weight on the objective itself (what the logistic fit's
    first-hit MRR only stands in for): each step tries the value ±0.5 and ±1 and keeps the best."""
    for r in range(rounds):
        for k in range(len(FEATURES) + 1):
            name = "intercept" if k == len(FEATURES) else FEATURES[k]
            value = policy.intercept if k == len(FEATURES) else policy.weights[k]
            best_value, best = value, current
            for step in (-1.0, -0.5, 0.5, 1.0):
                v = round(value + step, 3)
                use(assistants, with_value(policy, k, v))
                m = evaluate(rows, assistants)
                if m["objective"] > best["objective"] + 1e-4:
                    best_value, best = v, m
            policy = with_value(policy, k, best_value)
            current = best
            print(f"round {r + 1}: {name} = {best_value:+.3f}  (objective {current['objective']:.4f})", flush=True)
    use(assistants, policy)
    return policy, current


def evaluate(rows: list[dict], assistants: dict) -> dict:
    recalls, words, refusals, false = [], [], [], []
    by_type: dict[str, list[float]] = {}
    for row in rows:
        answer = assistants[row.get("corpus")].ask(row["question"])
        text = "" if answer.refused else answer.plain_text
        if row.get("expect_refusal"):
            refusals.append(answer.refused)
            continue
        false.append(answer.refused)
        words.append(len(text.split()))
        if row.get("must_include"):
            r, _, _ = fact_recall(text, row["must_include"])
            recalls.append(r)
            by_type.setdefault(row.get("type", "?"), []).append(r)
    m = {
        "fact_recall": float(np.mean(recalls)),
        "refusal_accuracy": float(np.mean(refusals)) if refusals else 1.0,
        "false_refusal_rate": float(np.mean(false)),
        "words": float(np.mean(words)),
        "by_type": {t: round(float(np.mean(v)), 3) for t, v in sorted(by_type.items())},
    }
    m["objective"] = (
        m["fact_recall"] + 1.0 * m["refusal_accuracy"] - 1.0 * m["false_refusal_rate"] - 0.0015 * m["words"]
    )
    return m


def show(label: str, m: dict) -> None:
    print(
        f"{label}: objective {m['objective']:.4f}  key facts {m['fact_recall']:.3f}  correct refusals "
        f"{m['refusal_accuracy']:.3f}  false refusals {m['false_refusal_rate']:.3f}  words {m['words']:.0f}"
    )
    print("    by type: " + ", ".join(f"{t} {v:.3f}" for t, v in m["by_type"].items()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--questions",
        type=Path,
        nargs="+",
        default=[ROOT / "tests" / "data" / "qa" / "dev.jsonl", ROOT / "tests" / "data" / "qa" / "dev2.jsonl"],
    )
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--no-search", action="store_true", help="Fit the sentence weights only.")
    parser.add_argument("--only", nargs="*", default=None, help="Search only these thresholds.")
    parser.add_argument(
        "--search-weights",
        action="store_true",
        help="Instead of the logistic fit, a coordinate search over the current weights and intercept "
        "on the objective itself (steps of ±0.5 and ±1 per weight).",
    )
    parser.add_argument(
        "--weight-grid",
        nargs="+",
        metavar=("FEATURE", "VALUE"),
        default=None,
        help="Only print the dev metrics with this feature's weight at each value given.",
    )
    args = parser.parse_args()
    if args.weight_grid and (args.weight_grid[0] not in FEATURES or len(args.weight_grid) < 2):
        parser.error(f"--weight-grid takes a feature ({', '.join(FEATURES)}) and at least one value")
    if any("test" in path.name or "holdout" in str(path) for path in args.questions):
        sys.exit("refusing to fit on a test or holdout split: choose weights and thresholds on dev sets only")
    rows = load_sets(args.questions)
    assistants = assistants_for(rows)
    if args.weight_grid:
        k = FEATURES.index(args.weight_grid[0])
        for v in map(float, args.weight_grid[1:]):
            use(assistants, with_value(POLICY, k, v))
            show(f"{args.weight_grid[0]} = {v:g}", evaluate(rows, assistants))
        return
    started = time.perf_counter()
    before = evaluate(rows, assistants)
    show("dev with the current policy", before)

    if args.search_weights:
        policy, current = search_weights(rows, assistants, POLICY, before, args.rounds)
        show("dev with the searched weights", current)
    else:
        X, y, groups = sentence_data(rows, assistants)
        intercept, weights, c, cv = fit_weights(X, y, groups)
        print(
            f"\n{len(y)} candidate sentences of {len(np.unique(groups))} questions, {int(y.sum())} holding a key fact"
        )
        print("cross-validated first-hit MRR by C: " + ", ".join(f"{k:g}: {v:.3f}" for k, v in cv.items()))
        print(f"fitted (C={c:g}): intercept {intercept:.3f}")
        for name, w in zip(FEATURES, weights):
            print(f"    {name:15} {w:+.3f}")
        policy = dataclasses.replace(POLICY, intercept=round(intercept, 3), weights=weights)
        use(assistants, policy)
        current = evaluate(rows, assistants)
        show("dev with the fitted weights", current)

    if not args.no_search:
        names = args.only or list(GRID)
        for r in range(args.rounds):
            for name in names:
                best_value, best = getattr(policy, name), current
                for value in GRID[name]:
                    if value == getattr(policy, name):
                        continue
                    candidate = dataclasses.replace(policy, **{name: value})
                    use(assistants, candidate)
                    m = evaluate(rows, assistants)
                    if m["objective"] > best["objective"] + 1e-4:
                        best_value, best = value, m
                policy = dataclasses.replace(policy, **{name: best_value})
                current = best
                print(f"round {r + 1}: {name} = {best_value}  (objective {current['objective']:.4f})")
            use(assistants, policy)
        show("dev after the search", current)
    changed = {
        f.name: getattr(policy, f.name)
        for f in dataclasses.fields(Policy)
        if getattr(policy, f.name) != getattr(POLICY, f.name)
    }
    print(f"\nchanged ({time.perf_counter() - started:.0f} s):")
    print(json.dumps(changed, indent=1))


if __name__ == "__main__":
    main()
