"""Start-up: how long a restarted server takes to be ready, and whether its first answer is as fast as its tenth;
and what one `python app.py ask` costs from the shell.

    python benchmarks/startup.py [--restarts 3] [--asks 5]

On an index of the shipped articles built once under a temporary folder (`app.py ingest`):
1. restarts `python app.py serve` `--restarts` times; each time measures the seconds until the process answers at
   all, until `/healthz` says ready (the model loaded, the lexical index built and one question answered by the
   server's own warm-up), then the latency of its first ten `/api/ask` requests, each a question it was never asked
   (the shipped FAQ's);
2. runs `python app.py ask "<question>" --json` `--asks` times (a fresh process each: imports, model, index,
   answer) and reports the wall time; then the same while a server runs on the index (the server owns the
   embedded folder, so `ask` hands the question to it: no model or index to load).
Prints a table and, last, one JSON line. Figures are medians over the restarts (or runs); compare the first answer
with the tenth of the same run.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from benchmarks.harness import ROOT, ChatbotServer

QUESTIONS = [json.loads(line)["question"] for line in (ROOT / "corpus" / "faq.jsonl").read_text().splitlines() if line]


def restart(work: Path, index_env: dict[str, str], offset: int) -> dict[str, float | list[float]]:
    server = ChatbotServer(work, env=index_env, name="startup")
    started = time.perf_counter()
    proc = server.spawn(append_log=True)  # timed here, not through start(): both moments are the figures
    answering = ready = None
    try:
        while ready is None:
            if proc.poll() is not None:
                raise SystemExit(f"the server exited; its log:\n{server.log_tail()}")
            try:
                status = httpx.get(f"{server.base}/healthz", timeout=5).status_code
                answering = answering or time.perf_counter() - started
                if status == 200:
                    ready = time.perf_counter() - started
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        latencies = []
        with httpx.Client(base_url=server.base, timeout=60) as http:
            for question in QUESTIONS[offset : offset + 10]:
                t = time.perf_counter()
                http.post("/api/ask", json={"question": question}).raise_for_status()
                latencies.append((time.perf_counter() - t) * 1e3)
    finally:
        server.stop()
    return {"answering_s": answering, "ready_s": ready, "latencies_ms": latencies}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--restarts", type=int, default=3)
    ap.add_argument("--asks", type=int, default=5)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="startup-"))
    try:  # the index and the ONNX export it made are removed at the end
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "CHROMA_", "CORPUS_"))},
            "CHROMA_PATH": str(work / "chroma"),
            "LOG_LEVEL": "WARNING",
            "RATE_LIMIT_PER_MINUTE": "0",
        }
        subprocess.run([sys.executable, "app.py", "ingest", "--quiet"], cwd=ROOT, env=env, check=True)
        runs = [restart(work, {"CHROMA_PATH": env["CHROMA_PATH"]}, 10 * (i % 2)) for i in range(args.restarts)]

        def time_asks() -> list[tuple[float, bool]]:
            """Seconds of each `ask` process, and whether its question was refused (off-topic questions are
            refused before the model is needed)."""
            asks = []
            for i in range(args.asks):
                t = time.perf_counter()
                done = subprocess.run(
                    [sys.executable, "app.py", "ask", QUESTIONS[20 + i % 7], "--json"],
                    cwd=ROOT,
                    env=env,
                    check=True,
                    capture_output=True,
                    text=True,
                )
                asks.append((time.perf_counter() - t, bool(json.loads(done.stdout)["refused"])))
            return asks

        asks = time_asks()
        server = ChatbotServer(work, env={"CHROMA_PATH": env["CHROMA_PATH"]}, name="startup").start()
        try:
            served = time_asks()
        finally:
            server.stop()
    finally:
        shutil.rmtree(work, ignore_errors=True)

    def med(key: str) -> float:
        return statistics.median(r[key] for r in runs)  # type: ignore[misc]

    first = statistics.median(r["latencies_ms"][0] for r in runs)  # type: ignore[index]
    tenth = statistics.median(r["latencies_ms"][-1] for r in runs)  # type: ignore[index]
    rest = statistics.median(statistics.median(r["latencies_ms"][1:]) for r in runs)  # type: ignore[index]
    print(f"start-up over {args.restarts} restarts (medians), `app.py ask` over {args.asks} runs; shipped corpus")
    print(f"  process answers /healthz            {med('answering_s'):6.1f} s")
    print(f"  /healthz ready (warm-up done)       {med('ready_s'):6.1f} s")
    print(f"  first answer after ready            {first:6.0f} ms")
    print(f"  answers 2-10 (median)               {rest:6.0f} ms")
    print(f"  tenth answer                        {tenth:6.0f} ms")

    def wall(runs: list[tuple[float, bool]], refused: bool | None = None) -> list[float]:
        return [t for t, r in runs if refused is None or r == refused] or [float("nan")]

    every, answered, refusals, through = wall(asks), wall(asks, False), wall(asks, True), wall(served)
    print(f"  python app.py ask (wall, median)    {statistics.median(every):6.2f} s  (min {min(every):.2f})")
    print(
        f"    answered questions ({len(answered)})          {statistics.median(answered):6.2f} s  (min {min(answered):.2f})"
    )
    print(
        f"    refused questions ({len(refusals)})           {statistics.median(refusals):6.2f} s  (min {min(refusals):.2f})"
    )
    print(f"    the same, a server owns the index {statistics.median(through):6.2f} s  (min {min(through):.2f})")
    print(
        json.dumps(
            {
                "benchmark": "startup",
                "answering_s": round(med("answering_s"), 2),
                "ready_s": round(med("ready_s"), 2),
                "first_answer_ms": round(first, 1),
                "answers_2_10_ms": round(rest, 1),
                "tenth_answer_ms": round(tenth, 1),
                "ask_cli_s": round(statistics.median(every), 2),
                "ask_cli_answered_s": round(statistics.median(answered), 2),
                "ask_cli_refused_s": round(statistics.median(refusals), 2),
                "ask_cli_through_server_s": round(statistics.median(through), 2),
                "runs": runs,
            }
        )
    )


if __name__ == "__main__":
    main()
