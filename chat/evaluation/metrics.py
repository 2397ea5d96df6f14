"""Per-question metrics, pure functions: retrieval hits, token F1, key-fact recall, citations, refusals."""

import re
import string
import unicodedata
from collections import Counter
from collections.abc import Iterable
from typing import Any

import numpy as np

from chat.schema import Citation, Retrieved, SentenceInfo


def source_matches(source: str, expected: Iterable[str]) -> bool:
    """A retrieved/cited source (corpus-relative path) matches an expected one by relative path or file name."""
    src = re.sub(r"^(?:\./)+", "", (source or "").replace("\\", "/").strip()).lower()
    if not src:
        return False
    name = src.rsplit("/", 1)[-1]
    for e in expected:
        e = re.sub(r"^(?:\./)+", "", (e or "").replace("\\", "/").strip()).lower()
        if e and (e == src or e == name or src.endswith("/" + e)):
            return True
    return False


def retrieval_metrics(retrieved_sources: list[str], expected: list[str], k: int) -> dict[str, Any]:
    """hit@1, hit@k, reciprocal rank (within k) and the 1-based rank of the first expected source."""
    if not expected:
        return {"first_hit_rank": None, "hit@1": None, "hit@k": None, "rr": None}
    rank = next((i for i, s in enumerate(retrieved_sources[:k], 1) if source_matches(s, expected)), None)
    return {"first_hit_rank": rank, "hit@1": rank == 1, "hit@k": rank is not None, "rr": 1.0 / rank if rank else 0.0}


def _squad_normalise(text: str) -> str:
    text = text.lower()
    text = "".join(" " if (ch in string.punctuation or unicodedata.category(ch).startswith("P")) else ch for ch in text)
    text = re.sub(r"\b(a|an|the)\b", " ", text)
    return " ".join(text.split())


def token_f1(prediction: str, reference: str) -> float:
    """SQuAD token F1 (lower case, punctuation and articles removed; Unicode punctuation too)."""
    pred, ref = _squad_normalise(prediction).split(), _squad_normalise(reference).split()
    if not pred or not ref:
        return float(pred == ref)
    common = Counter(pred) & Counter(ref)
    same = sum(common.values())
    if same == 0:
        return 0.0
    precision, recall = same / len(pred), same / len(ref)
    return 2 * precision * recall / (precision + recall)


def _fact_normalise(text: str) -> str:
    text = unicodedata.normalize("NFKC", text or "").casefold()
    text = text.translate(
        str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"', "–": "-", "—": "-", "−": "-", "\u00a0": " "})
    )
    return re.sub(r"\s+", " ", text).strip()


def fact_found(fact: str, text: str) -> bool:
    """Case-insensitive match of `fact` in `text`, on word boundaries ("7" is not found in "17%")."""
    f = _fact_normalise(fact)
    if not f:
        return False
    pattern = re.escape(f)
    # A number must not continue another number ("7" in "17%", "28" in "2028"), but may carry a unit
    # ("22.6" in "22.6x"); a word must be whole ("seven" is not in "seventeen").
    if f[0].isdigit():
        pattern = r"(?<![\d.,])" + pattern
    elif f[0].isalnum():
        pattern = r"(?<!\w)" + pattern
    if f[-1].isdigit():
        pattern += r"(?![\d]|[.,]\d)"
    elif f[-1].isalnum():
        pattern += r"(?!\w)"
    return re.search(pattern, _fact_normalise(text)) is not None


def fact_recall(text: str, must_include: list) -> tuple[float | None, list[str], list[str]]:
    """Share of key facts found (an item may be a list of alternatives) -> (recall, found, missing)."""
    if not must_include:
        return None, [], []
    found, missing = [], []
    for item in must_include:
        alts = item if isinstance(item, list) else [item]
        hit = next((a for a in alts if fact_found(a, text)), None)
        (found if hit is not None else missing).append(hit if hit is not None else " | ".join(alts))
    return len(found) / len(must_include), found, missing


def citation_metrics(
    sentences: list[SentenceInfo], citations: list[Citation], retrieved: list[Retrieved], expected: list[str]
) -> dict[str, Any]:
    """Coverage (the answer's sentences that cite a passage), validity (every citation of every sentence names a
    `Citation` whose passage was retrieved), cited-source precision against `expected`. Read from the answer's
    structure: its lead, headings and notes are its own words and are not sentences."""
    coverage = (sum(1 for s in sentences if s.citations) / len(sentences)) if sentences else None
    by_n = {c.n: c for c in citations}
    chunk_ids = {r.chunk_id for r in retrieved if r.chunk_id}
    sources = {r.source for r in retrieved if r.source}
    numbers = [n for s in sentences for n in s.citations]
    invalid: list[str] = []
    for n in numbers:
        c = by_n.get(n)
        ok = c is not None and ((c.chunk_id in chunk_ids) if c.chunk_id and chunk_ids else c.source in sources)
        if not ok and f"[{n}]" not in invalid:
            invalid.append(f"[{n}]")
    bad = sum(1 for n in numbers if f"[{n}]" in invalid)
    validity = (1 - bad / len(numbers)) if numbers else None
    precision = None
    if expected and citations:
        precision = sum(1 for c in citations if source_matches(c.source, expected)) / len(citations)
    return {
        "citation_coverage": coverage,
        "citation_validity": validity,
        "invalid_citations": invalid,
        "cited_source_precision": precision,
    }


def percentile(values: list[float], q: float) -> float | None:
    """Linear-interpolated percentile (numpy's default), None for no values."""
    vals = [v for v in values if v is not None]
    return float(np.percentile(vals, q)) if vals else None


def mean_or_none(values: Iterable[Any]) -> float | None:
    vals = [float(v) for v in values if v is not None]
    return sum(vals) / len(vals) if vals else None


def refusal_metrics(rows: list[dict]) -> dict[str, Any]:
    """Correct refusals on expect_refusal rows, false refusals on the others (rows with an error don't count
    as refusals)."""
    should = [r for r in rows if r.get("expect_refusal")]
    should_not = [r for r in rows if not r.get("expect_refusal")]
    correct = sum(1 for r in should if r.get("refused") is True)
    false = sum(1 for r in should_not if r.get("refused") is True)
    return {
        "expected_refusals": len(should),
        "correct_refusals": correct,
        "refusal_accuracy": correct / len(should) if should else None,
        "answerable": len(should_not),
        "false_refusals": false,
        "false_refusal_rate": false / len(should_not) if should_not else None,
    }


def verification_counts(results: list[dict]) -> dict[str, Any]:
    """How many answer sentences the answerer wrote, how many verification kept, and the rule that dropped each
    of the others (chat.claims.DROP_REASONS): what a model tried to say against what reached the user."""
    kept = sum(int(r.get("n_sentences") or 0) for r in results)
    reasons: dict[str, int] = {}
    for r in results:
        for d in r.get("dropped") or []:
            reason = (d.get("reason") if isinstance(d, dict) else "") or "unknown"
            reasons[reason] = reasons.get(reason, 0) + 1
    dropped = sum(reasons.values())
    written = kept + dropped
    return {
        "sentences": written,
        "kept": kept,
        "dropped": dropped,
        "dropped_share": round(dropped / written, 4) if written else None,
        "by_reason": dict(sorted(reasons.items(), key=lambda kv: -kv[1])),
    }


def verification_line(summary: dict) -> str:
    v = summary.get("verification") or {}
    if not v.get("sentences"):
        return ""
    why = ", ".join(f"{k} {n}" for k, n in v["by_reason"].items()) or "none"
    return (
        f"verification: {v['sentences']} answer sentences written, {v['kept']} kept, {v['dropped']} dropped "
        f"({100 * v['dropped_share']:.0f}%): {why}"
    )
