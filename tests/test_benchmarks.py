"""Smoke tests of the benchmarks: each runs as a subprocess on tiny sizes, prints its figures and a JSON line.

No wall-clock assertions: the figures depend on the machine. Only that the scripts run end to end, print what
they promise, and that the pipeline embeds exactly the texts the bare side measures.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run(script: str, *args: str, timeout: int = 900) -> tuple[str, dict]:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "ANONYMIZED_TELEMETRY": "False"}
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / script), *args],
        cwd=str(ROOT),
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert proc.returncode == 0, f"{script} exited {proc.returncode}\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    lines = [line for line in proc.stdout.splitlines() if line.strip()]
    return proc.stdout, json.loads(lines[-1])


def test_ingest_benchmark_smoke(tmp_path):
    keep = tmp_path / "bench"
    out, result = run(
        "ingestion.py",
        "--docs", "20", "--seed", "3", "--batch-size", "16", "--batch-tokens", "256", "--bare-batch-size", "8",
        "--no-cli", "--quiet", "--keep", str(keep),
    )  # fmt: skip
    for figure in (
        "bare SentenceTransformer",
        "pipeline (Indexer.run)",
        "chunks/s",
        "ratio pipeline/bare",
        "no-op re-ingest",
        "breakdown",
        "order: warm-up",
    ):
        assert figure in out
    assert result["benchmark"] == "ingest" and result["docs"] == 20 and result["batch_size"] == 16
    assert result["batch_tokens"] == 256 and result["bare_batch_size"] == 8
    assert 0.5 < result["padding_efficiency"]["pipeline"] <= 1
    assert result["chunks"] > 20 and result["texts"] > 0
    assert result["pipeline"]["chunks_embedded"] == result["texts"]
    assert result["pipeline"]["counts"]["added"] == 20 and result["pipeline"]["counts"]["failed"] == 0
    assert result["texts_match"] is True
    assert result["pipeline"]["chunks_per_s"] > 0 and result["bare"]["chunks_per_s"] > 0 and result["ratio"] > 0
    assert result["noop"]["chunks_embedded"] == 0
    assert result["noop"]["counts"]["unchanged"] == 20
    assert "embed chunks (model.encode)" in result["breakdown_seconds"]
    # --keep leaves the generated corpus (md with front matter, txt captures, sidecar) and the index behind.
    files = [p for p in (keep / "corpus").rglob("*") if p.is_file()]
    assert {".md", ".txt", ".json"} <= {p.suffix for p in files}
    assert (keep / "chroma").is_dir()


def test_synthetic_corpus_is_deterministic_and_varied(tmp_path):
    from benchmarks.synth_corpus import write_corpus

    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    write_corpus(a, docs=30, seed=1)
    write_corpus(b, docs=30, seed=1)
    write_corpus(c, docs=30, seed=2)

    def files(d: Path) -> dict[str, bytes]:
        return {p.relative_to(d).as_posix(): p.read_bytes() for p in d.rglob("*") if p.is_file()}

    assert files(a) == files(b)
    assert files(a) != files(c)
    texts = {k: v.decode() for k, v in files(a).items() if not k.endswith(".json")}
    assert len(texts) == 30 and len(set(texts.values())) == 30
    for name, text in texts.items():
        if name.endswith(".md"):
            text = text.split("---", 2)[2]  # front matter
        elif name.endswith(".html"):
            text = re.sub(r"<[^>]+>", " ", text)
        assert 250 <= len(text.split()) <= 1100, name
    assert any(k.endswith(".md") and t.startswith("---\ntitle:") for k, t in texts.items())
    assert any(k.endswith(".txt") for k in texts)


def test_query_benchmark_smoke():
    out, result = run("query.py", "--repeat", "1", "--quiet")
    for figure in (
        "p50",
        "p95",
        "mean",
        "retrieval, query vector not cached",
        "ask (extractive), caches warm",
        "verification",
    ):
        assert figure in out
    assert result["benchmark"] == "query" and result["repeat"] == 1
    for key in ("retrieval_cold", "retrieval_warm", "ask_cold", "ask_warm", "ask_query_cold"):
        assert result["ms"][key]["n"] == result["questions"]
        assert result["ms"][key]["p50"] > 0 and result["ms"][key]["p95"] >= result["ms"][key]["p50"]
    assert result["refused"]["off"][0] == result["refused"]["off"][1]  # off-topic questions are refused


def run_stdout(script: str, *args: str, timeout: int = 900, env: dict[str, str] | None = None) -> str:
    env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "ANONYMIZED_TELEMETRY": "False",
        **(env or {}),
    }
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / script), *args],
        cwd=str(ROOT),
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert proc.returncode == 0, f"{script} exited {proc.returncode}\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc.stdout


def test_scale_benchmark_smoke_and_re_measuring_a_kept_index(tmp_path):
    work, rows = tmp_path / "scale", tmp_path / "rows.json"
    out = run_stdout("scale.py", "--sizes", "0", "4", "--threads", "1", "--work", str(work), "--json", str(rows))
    assert "| N distractors | chunks |" in out and "| 4 | " in out
    first = json.loads(rows.read_text())["rows"]
    assert [r["N"] for r in first] == [0, 4]
    assert first[1]["chunks"] > first[0]["chunks"] and first[1]["embedded"] == first[1]["chunks"] - first[0]["chunks"]
    assert 0 < first[1]["ratio"] and first[1]["hit@5"] > 0.5 and first[1]["failed_ids"] is not None
    assert sorted(p.name for p in (work / "snapshots").iterdir()) == ["0", "4"]

    again = run_stdout("scale.py", "--work", str(work), "--measure-only", "--json", str(rows))
    second = json.loads(rows.read_text())["rows"]
    assert [r["N"] for r in second] == [0, 4] and "| 4 | " in again
    for before, after in zip(first, second):  # the same index: same chunks and ingest figures, answers re-run
        assert after["chunks"] == before["chunks"] and after["ingest_s"] == before["ingest_s"]
        assert after["hit@5"] == before["hit@5"] and after["failed_ids"] == before["failed_ids"]
    run_stdout("scale.py", "--work", str(work), "--measure-only", "--sizes", "4", "--json", str(rows))
    assert [r["N"] for r in json.loads(rows.read_text())["rows"]] == [4]  # only the kept index asked for

    # A run stopped after step 4's ingest, before its row was written: --resume keeps step 0 as it was and
    # finishes step 4 without embedding anything again.
    kept = json.loads((work / "rows.json").read_text())
    (work / "rows.json").write_text(json.dumps([r for r in kept if r["N"] == 0]))
    shutil.rmtree(work / "snapshots" / "4")
    resumed = run_stdout("scale.py", "--work", str(work), "--resume", "--sizes", "0", "4", "--json", str(rows))
    third = json.loads(rows.read_text())["rows"]
    assert third[0] == first[0] and third[1]["chunks"] == first[1]["chunks"] and third[1]["embedded"] == 0
    assert third[1]["resumed"] and "(resumed)" in resumed and (work / "snapshots" / "4").is_dir()

    refused = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "scale.py"), "--work", str(work), "--sizes", "0"],
        cwd=str(ROOT),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert refused.returncode != 0 and "not empty" in refused.stderr  # never overwrites a kept run


def test_load_benchmark_smoke():
    out, result = run("load.py", "--start-server", "--clients", "3", "--questions", "2")
    assert "3 clients × 2 questions = 6 requests" in out
    assert result["errors"] == {} and result["ok"] == result["requests"] == 6
    assert result["p50_ms"] > 0 and result["answers_per_s"] > 0


def test_load_benchmark_through_the_chat_window():
    out, result = run("load.py", "--start-server", "--window", "--distinct", "--clients", "3", "--questions", "2")
    assert "6 requests to the chat window (/chat)" in out and result["via"] == "window"
    assert result["errors"] == {} and result["ok"] == result["requests"] == 6
    assert result["p50_ms"] > 0 and result["server_cpu_ms"] > 0


def test_load_benchmark_keeps_its_index_with_work_and_a_second_run_reuses_it(tmp_path):
    work = tmp_path / "load"
    args = ("load.py", "--start-server", "--distinct", "--distractors", "3", "--clients", "2", "--questions", "2")
    out, first = run(*args, "--work", str(work))
    assert "shipped articles + 3 distractors" in out and first["ok"] == 4 and first["errors"] == {}
    assert first["client_cpu_ms"] > 0 and first["server_cpu_ms"] > 0  # each side's CPU a request
    assert (work / "chroma").is_dir() and len(list((work / "corpus" / "distractors").rglob("*.*"))) >= 3
    out, second = run(*args, "--work", str(work))
    assert second["ok"] == 4 and second["ingest_s"] < first["ingest_s"]  # nothing new to embed the second time


def test_load_benchmark_with_ingests_during_the_run():
    out, result = run("load.py", "--start-server", "--ingest-during", "--clients", "3", "--questions", "8")
    assert "meanwhile (embedded index):" in out
    assert result["ingests"].get("ingest", 0) >= 1 and result["ingest_failures"] == []
    assert result["errors"] == {} and result["ok"] == result["requests"] == 24


def test_encoder_gate_smoke(tmp_path):
    out, result = run(
        "encoder_gate.py",
        *("--backends", "torch", "onnx-int8", "--sets", "faq", "--distractors", "0"),
        *("--sample", "16", "--rounds", "1", "--work", str(tmp_path / "gate")),
    )
    assert "| encoder | chunks/s, 1 thread |" in out and "| onnx-int8 | 0 | " in out
    assert result["benchmark"] == "encoder_gate" and set(result["speed_chunks_per_s"]) >= {"torch", "onnx-int8"}
    assert result["cosine_to_torch"]["torch"]["chunks"]["min"] > 0.9999
    assert 0.98 < result["cosine_to_torch"]["onnx-int8"]["chunks"]["mean"] < 1.0
    faq = result["quality"]["onnx-int8"]["0"]["faq"]
    assert faq["hit@5"] > 0.5 and faq["fact_recall"] > 0.5 and "onnx-int8: drops" in out
    assert list((tmp_path / "gate" / "models").glob("*-int8.onnx"))  # the export is kept with --work


def test_startup_benchmark_smoke_and_leaves_nothing_behind(tmp_path):
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    out = run_stdout("startup.py", "--restarts", "1", "--asks", "3", env={"TMPDIR": str(scratch)})
    result = json.loads(out.strip().splitlines()[-1])
    assert result["benchmark"] == "startup" and len(result["runs"]) == 1
    assert len(result["runs"][0]["latencies_ms"]) == 10 and result["first_answer_ms"] > 0
    assert result["ready_s"] >= result["answering_s"] > 0 and result["ask_cli_s"] > 0
    assert result["ask_cli_answered_s"] > 0 and result["ask_cli_refused_s"] > 0  # two answered, one refused
    assert 0 < result["ask_cli_through_server_s"]  # `ask` handed to the server that owns the index
    assert "first answer after ready" in out and not list(scratch.glob("startup-*"))  # its index removed
