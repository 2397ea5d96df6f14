"""Batch evaluation: does the chatbot retrieve the right passages, answer correctly, cite truthfully and refuse
when it should? Offline and deterministic by default; an OpenAI-compatible LLM judge is optional.

    python app.py eval                              # corpus/faq.jsonl -> reports/eval-<timestamp>/
    python app.py eval --questions q.csv --min-hit 0.9   # exit 1 when a gate fails

Input (`load_questions`): JSONL or CSV rows with `question` (required), `reference`, `expected_sources`,
`must_include`, `expect_refusal`; any other field is carried through to the results.

Metrics, per question and in total (no LLM needed):
- retrieval: hit@1, hit@k and reciprocal rank of the first passage from an expected source (MRR@k);
- answer: cosine similarity of the answer to the reference (the bundled embedding model), SQuAD-style token
  F1, key-fact recall over `must_include` (each item a string or a list of alternatives);
- citations: share of answer sentences with a citation, validity of every citation (a `Citation` of the answer
  whose passage was retrieved), precision of the cited sources against `expected_sources`, mean verification support;
- refusals: correct refusals on `expect_refusal` rows, false refusals on the others;
- latency p50/p95 of `Assistant.ask`.

Output in `out_dir`: results.jsonl, results.csv, summary.json and a self-contained report.html.
`check_gates` turns thresholds into failure messages; `compare_runs` diffs two runs.

The package, one module per job: dataset (reading the questions file), metrics (pure per-question and summary
metrics), judge (the optional LLM judge), runner (run_eval: ask, score, summarise, write), gates (thresholds and the
printed table), compare (two runs side by side), report (the HTML report). It reads the answering core only
through what `Assistant.ask` returns, an `Answer` (tests/test_layout.py checks the rule).
"""

from chat.evaluation.compare import compare_runs
from chat.evaluation.dataset import EvalInputError, load_questions
from chat.evaluation.gates import check_gates, summary_table
from chat.evaluation.judge import Judge, JudgeError, parse_grades
from chat.evaluation.metrics import (
    citation_metrics,
    fact_found,
    fact_recall,
    percentile,
    refusal_metrics,
    retrieval_metrics,
    source_matches,
    token_f1,
    verification_line,
)
from chat.evaluation.report import render_report
from chat.evaluation.runner import default_out_dir, evaluate_row, row_failures, row_warnings, run_eval, summarise

# fmt: off
__all__ = [
    "EvalInputError", "Judge", "JudgeError", "check_gates", "citation_metrics", "compare_runs", "default_out_dir",
    "evaluate_row", "fact_found", "fact_recall", "load_questions", "parse_grades",
    "percentile", "refusal_metrics", "render_report", "retrieval_metrics", "row_failures", "row_warnings",
    "run_eval", "source_matches", "summarise", "summary_table", "token_f1", "verification_line",
]
# fmt: on
