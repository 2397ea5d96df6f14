"""The questions file: JSONL or CSV rows read into dicts (`load_questions`), with the problems found."""

import csv
import io
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

KNOWN_FIELDS = ("question", "reference", "expected_sources", "must_include", "expect_refusal")
# fmt: off
# Fields run_eval writes; an input field with one of these names is kept as `input_<name>`.
OUTPUT_FIELDS = (
    "line", "answer", "plain_answer", "blocks", "refused", "mode", "citations", "retrieved", "error", "latency_ms", "n_sentences",
    "n_dropped", "first_hit_rank", "hit@1", "hit@k", "rr", "similarity", "token_f1", "fact_recall",
    "facts_found", "facts_missing", "citation_coverage", "citation_validity", "invalid_citations",
    "cited_source_precision", "support", "refusal_correct", "false_refusal", "judge_correctness",
    "judge_correctness_reason", "judge_faithfulness", "judge_faithfulness_reason", "judge_error",
    "failures", "warnings", "passed", "refusal_reason", "question_type", "relevance", "dropped",
)
# fmt: on
TRUE_WORDS = {"true", "1", "yes", "y", "on", "t"}
FALSE_WORDS = {"false", "0", "no", "n", "off", "f", ""}
# Metrics where a smaller number is better (for compare_runs).


class EvalInputError(ValueError):
    """The questions file has no usable row (the message lists the problems)."""


# --- input -----------------------------------------------------------------------------------------


def load_questions(path: Path) -> tuple[list[dict], list[str]]:
    """Rows of a JSONL or CSV questions file, and the problems of the lines that were skipped.

    Format by suffix (.csv/.tsv = CSV, anything else = JSONL; an unknown suffix is sniffed). Each problem
    names its line, e.g. ``"line 7: invalid JSON (Expecting ',' delimiter)"``. Every row gets `line` and,
    unless the input has one, an `id` (``q01``, ``q02``, ...). Raises `EvalInputError` when no row is usable
    and `FileNotFoundError` when the file does not exist.
    """
    path = Path(path)
    text = path.read_text(encoding="utf-8-sig")
    suffix = path.suffix.lower()
    if suffix in (".csv", ".tsv"):
        kind = "csv"
    elif suffix in (".jsonl", ".ndjson", ".json", ".jsonlines"):
        kind = "jsonl"
    else:
        kind = "jsonl" if text.lstrip().startswith("{") else "csv"
    rows, problems = (
        _load_csv(text, delimiter="\t" if suffix == ".tsv" else None) if kind == "csv" else _load_jsonl(text)
    )
    if not rows:
        detail = "; ".join(problems[:5]) + (f"; ... ({len(problems)} problems)" if len(problems) > 5 else "")
        raise EvalInputError(f"no valid questions in {path}" + (f": {detail}" if detail else " (the file is empty)"))
    width = max(2, len(str(len(rows))))
    for i, row in enumerate(rows, 1):
        if row.get("id") in (None, ""):
            row["id"] = f"q{i:0{width}d}"
    return rows, problems


def _load_jsonl(text: str) -> tuple[list[dict], list[str]]:
    rows, problems = [], []
    for no, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except ValueError as e:
            problems.append(f"line {no}: invalid JSON ({e})")
            continue
        if not isinstance(obj, dict):
            problems.append(f"line {no}: expected a JSON object, got {type(obj).__name__}")
            continue
        try:
            rows.append(_normalise(obj, no, csv_cells=False))
        except ValueError as e:
            problems.append(f"line {no}: {e}")
    return rows, problems


def _load_csv(text: str, delimiter: str | None = None) -> tuple[list[dict], list[str]]:
    if not text.strip():
        return [], []
    if delimiter is None:
        try:
            delimiter = csv.Sniffer().sniff(text.split("\n", 1)[0], delimiters=",;\t").delimiter
        except csv.Error:
            delimiter = ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows, problems = [], []
    try:
        header = [h.strip() for h in next(reader)]
    except (StopIteration, csv.Error) as e:
        return [], [f"line 1: unreadable CSV header ({e})"]
    if "question" not in header:
        return [], [f"line 1: the CSV header has no 'question' column (columns: {', '.join(header)})"]
    while True:
        start = reader.line_num + 1
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as e:
            problems.append(f"line {start}: unreadable CSV ({e})")
            continue
        if not any(c.strip() for c in cells):
            continue
        if len(cells) > len(header):
            problems.append(f"line {start}: {len(cells)} cells but the header has {len(header)} columns")
            continue
        obj = {h: c for h, c in zip(header, cells) if h}
        try:
            rows.append(_normalise(obj, start, csv_cells=True))
        except ValueError as e:
            problems.append(f"line {start}: {e}")
    return rows, problems


def _list_cell(obj: dict, key: str, plain: Callable[[str], list]) -> Any:
    """A list field as given: a JSON list, a string holding a JSON list, a plain string (split by `plain`), or
    nothing (an empty list). The caller checks the items."""
    value = obj.get(key)
    if value is None or value == "":
        return []
    if not isinstance(value, str):
        return value
    text = value.strip()
    if text.startswith("["):
        try:
            return json.loads(text)
        except ValueError as e:
            raise ValueError(f"'{key}' is not a valid JSON list ({e})") from None
    return plain(text)


def _split_list(value: str, seps: str) -> list[str]:
    return [p.strip() for p in re.split(f"[{re.escape(seps)}]", value) if p.strip()]


def _parse_bool(value: Any, name: str) -> bool:
    if isinstance(value, bool):
        return value
    if value is None:
        return False
    if isinstance(value, (int, float)) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in TRUE_WORDS | FALSE_WORDS:
        return value.strip().lower() in TRUE_WORDS
    raise ValueError(f"{name} must be true or false, not {value!r}")


def _normalise(obj: dict, line: int, *, csv_cells: bool) -> dict:
    """Check and normalise the known fields; keep every other field as it is."""
    question = obj.get("question")
    if not isinstance(question, str) or not question.strip():
        raise ValueError("missing or empty 'question'")
    row: dict[str, Any] = {}
    for key, value in obj.items():
        if key in OUTPUT_FIELDS:
            key = f"input_{key}"
        row[key] = value
    row["question"] = question.strip()

    ref = obj.get("reference")
    if ref is None or ref == "":
        row["reference"] = None
    elif not isinstance(ref, str):
        raise ValueError(f"'reference' must be a string, not {type(ref).__name__}")

    sources = _list_cell(obj, "expected_sources", lambda s: _split_list(s, "|;"))
    if not isinstance(sources, list) or not all(isinstance(x, str) and x.strip() for x in sources):
        raise ValueError("'expected_sources' must be a list of file names or corpus-relative paths")
    row["expected_sources"] = [x.strip() for x in sources]

    # a plain CSV cell holds facts separated by '|'; a JSON string is one fact
    facts = _list_cell(obj, "must_include", (lambda s: _split_list(s, "|")) if csv_cells else (lambda s: [s]))
    if not isinstance(facts, list):
        raise ValueError("'must_include' must be a list of strings or lists of alternative strings")
    for item in facts:
        alts = item if isinstance(item, list) else [item]
        if not alts or not all(isinstance(a, str) and a.strip() for a in alts):
            raise ValueError(f"'must_include' item {item!r} must be a non-empty string or list of strings")
    row["must_include"] = facts

    row["expect_refusal"] = _parse_bool(obj.get("expect_refusal"), "'expect_refusal'")
    row["line"] = line
    return row
