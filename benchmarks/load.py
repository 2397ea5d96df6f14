"""Load test: C concurrent clients × M questions each against a running server's `/api/ask`.

    python benchmarks/load.py --url http://127.0.0.1:7860 [--clients 20] [--questions 5]
    python benchmarks/load.py --start-server [--workers 1]   # starts `app.py serve` on a free loopback port

Prints throughput (answers/s), p50/p95/p99 latency as the clients saw it, and the error count by status. Every
request goes to loopback only, the number of requests is bounded (C × M) and each has a timeout, so the run
always ends by itself. With --start-server the server gets its own temporary index and no rate limit.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.serving import free_port, wait_until_up  # noqa: E402

QUESTIONS = [
    "How does the maturity wall affect small caps differently than large caps?",
    "Why is information inefficiency an advantage for small-cap investors?",
    "Are small-cap ETFs sufficient, or should investors pick individual stocks?",
    "How does a strong US dollar affect small caps versus large caps?",
    "What are the net assets of the iShares Russell 2000 ETF?",
    "What happened to the Russell 2000 on January 23?",
    "What market capitalization defines a small-cap stock?",
    "How many rate cuts did the Federal Reserve make?",
    "What is the capital of France?",
    "Who is Peter Roy?",
]


def start_server() -> tuple[subprocess.Popen, str, Path]:
    work = Path(tempfile.mkdtemp(prefix="load-"))
    port = free_port()
    env = {**os.environ, "CHROMA_PATH": str(work / "chroma"), "RATE_LIMIT_PER_MINUTE": "0", "LOG_LEVEL": "WARNING",
           "FEEDBACK_PATH": str(work / "feedback.jsonl")}
    log = open(work / "server.log", "wb")
    proc = subprocess.Popen([sys.executable, str(ROOT / "app.py"), "serve", "--port", str(port)], env=env,
                            stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    wait_until_up(proc, url + "/healthz", what=f"app server (log: {work / 'server.log'})")
    return proc, url, work


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--url", default=None, help="base URL of a running server (loopback only)")
    ap.add_argument("--start-server", action="store_true", help="start `python app.py serve` for the run")
    ap.add_argument("--clients", type=int, default=20)
    ap.add_argument("--questions", type=int, default=5, help="questions per client")
    ap.add_argument("--timeout", type=float, default=120.0, help="per-request timeout, seconds")
    args = ap.parse_args()
    if not args.url and not args.start_server:
        ap.error("give --url of a running server or --start-server")

    proc = None
    if args.start_server:
        proc, url, _ = start_server()
    else:
        url = args.url.rstrip("/")
        if urlsplit(url).hostname not in ("127.0.0.1", "localhost", "::1"):
            ap.error("load is only ever sent to a server on this machine (127.0.0.1/localhost)")

    latencies: list[float] = []
    statuses: Counter = Counter()
    lock = threading.Lock()

    def client(i: int) -> None:
        with httpx.Client(base_url=url, timeout=args.timeout) as http:
            for j in range(args.questions):
                question = QUESTIONS[(i + j) % len(QUESTIONS)]
                start = time.perf_counter()
                try:
                    status = http.post("/api/ask", json={"question": question}).status_code
                except httpx.HTTPError as e:
                    status = type(e).__name__
                elapsed = (time.perf_counter() - start) * 1e3
                with lock:
                    statuses[status] += 1
                    if status == 200:
                        latencies.append(elapsed)

    try:
        httpx.post(url + "/api/ask", json={"question": "warm-up: what is a small-cap stock?"}, timeout=args.timeout)
        threads = [threading.Thread(target=client, args=(i,)) for i in range(args.clients)]
        start = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - start
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(20)

    total = args.clients * args.questions
    errors = {str(k): v for k, v in statuses.items() if k != 200}
    lat = sorted(latencies)

    def pct(q: float) -> float:
        return lat[min(len(lat) - 1, round(q / 100 * (len(lat) - 1)))] if lat else float("nan")

    result = {"clients": args.clients, "requests": total, "ok": statuses.get(200, 0), "errors": errors,
              "seconds": round(wall, 2), "answers_per_s": round(statuses.get(200, 0) / wall, 2),
              "p50_ms": round(pct(50)), "p95_ms": round(pct(95)), "p99_ms": round(pct(99)),
              "mean_ms": round(statistics.mean(lat)) if lat else None}
    print(f"{args.clients} clients × {args.questions} questions = {total} requests to {url}/api/ask in {wall:.1f} s")
    print(f"throughput {result['answers_per_s']} answers/s; latency p50 {result['p50_ms']} ms, "
          f"p95 {result['p95_ms']} ms, p99 {result['p99_ms']} ms; errors: {sum(errors.values())} {errors or ''}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
