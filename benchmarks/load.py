"""Load test: C concurrent clients × M questions each against a running server's `/api/ask`.

    python benchmarks/load.py --url http://127.0.0.1:7860 [--clients 20] [--questions 5]
    python benchmarks/load.py --start-server [--workers 1]   # starts `app.py serve` on a free loopback port
    python benchmarks/load.py --start-server --ingest-during [--chroma-server]   # articles change meanwhile
    python benchmarks/load.py --start-server --distinct --distractors 1000   # never-asked questions, bigger index
    python benchmarks/load.py --start-server --distinct --distractors 1000 --work DIR   # keep that index for reruns
    python benchmarks/load.py --start-server --distinct --window   # visitors of the chat window instead of the API

Prints throughput (answers/s), p50/p95/p99 latency as the clients saw it, and the error count by status. Every
request goes to loopback only, the number of requests is bounded (C × M) and each has a timeout, so the run
always ends by itself. With --start-server the server gets its own temporary index and no rate limit, and the
clients start once its /healthz says it is ready (model loaded, lexical index built).

--distinct: every request asks a different question that the server has never been asked (C × M of them, from the
shipped FAQ and the dev, dev2 and test questions about the shipped articles; no warm-up question is sent), so no
answer comes from a cache. --distractors N (with --start-server): the server's corpus is the shipped articles plus
N generated distractor articles (benchmarks/synth_corpus.py, seed 0), ingested before it starts (`app.py ingest`,
timed and printed).

--window: each client is a visitor of the Gradio chat window (its own session, through `gradio_client`, asking
with the window's `/chat` event as the text box does), so the window's queue and its answer slots are measured
rather than `/api/ask`. An answer counts as 200 when the window shows an assistant message that is not an error.

--ingest-during: the started server answers from a temporary copy of corpus/, and while the clients ask, a loop
adds one article of tests/data/qa/corpus/extra, runs `python app.py ingest` (which the server carries out for an
embedded index, see ingest/owner.py), removes it, ingests again, and rebuilds every third round, until the clients
are done. It prints the ingests run and the non-2xx count (which should be 0). --chroma-server runs the same
against a `chroma run` server started for the run.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
JSON = {"Content-Type": "application/json"}

from benchmarks.harness import ChatbotServer, percentile, start_chroma  # noqa: E402

# fmt: off
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
# fmt: on


EXTRA = ROOT / "tests" / "data" / "qa" / "corpus" / "extra"


def never_asked(n: int) -> list[str]:
    """`n` distinct questions about the shipped articles: the FAQ's, then the dev, dev2 and test sets' (rows asked
    of corpus/shipped), in file order."""
    rows = [json.loads(line) for line in (ROOT / "corpus" / "faq.jsonl").read_text().splitlines() if line.strip()]
    for split in ("dev", "dev2", "test"):
        path = ROOT / "tests" / "data" / "qa" / f"{split}.jsonl"
        rows += [r for r in (json.loads(line) for line in path.read_text().splitlines() if line.strip())
                 if r.get("corpus") == "corpus/shipped"]  # fmt: skip
    pool = list(dict.fromkeys(r["question"] for r in rows))
    if len(pool) < n:
        raise SystemExit(f"only {len(pool)} distinct questions about the shipped articles; asked for {n}")
    return pool[:n]


def process_cpu(pid: int) -> float:
    """CPU seconds (user + system) process `pid` has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def start_server(
    *, own_corpus: bool = False, chroma_port: int | None = None, distractors: int = 0, work: Path | None = None
) -> tuple[ChatbotServer, float | None]:
    """The chatbot server with no rate limit, on an index of its own (and a corpus of its own with --ingest-during
    or --distractors; on a `chroma run` server with --chroma-server), in `work` (a new temporary folder when None).
    Returns it and the seconds the distractors' ingest took (None without them; in a kept `work` folder, only
    what changed is ingested again)."""
    work = work or Path(tempfile.mkdtemp(prefix="load-"))
    env = {"RATE_LIMIT_PER_MINUTE": "0"}
    if own_corpus or distractors:
        shutil.copytree(
            ROOT / "corpus", work / "corpus", ignore=shutil.ignore_patterns("faq.jsonl"), dirs_exist_ok=True
        )
        env["CORPUS_DIR"] = str(work / "corpus")
    if chroma_port:
        env.update(CHROMA_HOST="127.0.0.1", CHROMA_PORT=str(chroma_port), COLLECTION=f"load{chroma_port}")
    server = ChatbotServer(work, env=env, name="load")
    ingest_s = None
    if distractors:
        from benchmarks.synth_corpus import write_corpus

        write_corpus(work / "corpus" / "distractors", docs=distractors, seed=0)
        started = time.perf_counter()
        subprocess.run([sys.executable, "app.py", "ingest", "--quiet"], cwd=ROOT, env=server.env, check=True)
        ingest_s = time.perf_counter() - started
    return server.start(timeout=600), ingest_s


class ChangingCorpus:
    """Adds and removes articles and runs `app.py ingest` in a loop until stopped (--ingest-during)."""

    def __init__(self, corpus: Path, env: dict[str, str]) -> None:
        self.corpus, self.env = corpus, env
        self.runs: Counter = Counter()
        self.failures: list[str] = []
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._loop, daemon=True)

    def _ingest(self, *args: str) -> None:
        done = subprocess.run(
            [sys.executable, str(ROOT / "app.py"), "ingest", "--quiet", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        kind = "rebuild" if args else "ingest"
        self.runs[kind] += 1
        if done.returncode != 0:
            self.failures.append(f"{kind}: {done.stderr.strip()[-300:]}")

    def _loop(self) -> None:
        articles = sorted(EXTRA.glob("*.*"))
        articles = [a for a in articles if a.name != "metadata.json"]
        i = 0
        while not self._stop.is_set():
            article = articles[i % len(articles)]
            shutil.copyfile(article, self.corpus / article.name)
            self._ingest()
            (self.corpus / article.name).unlink()
            self._ingest()
            i += 1
            if i % 3 == 0 and not self._stop.is_set():
                self._ingest("--rebuild")

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self._stop.set()
        self.thread.join(600)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--url", default=None, help="base URL of a running server (loopback only)")
    ap.add_argument("--start-server", action="store_true", help="start `python app.py serve` for the run")
    ap.add_argument("--clients", type=int, default=20)
    ap.add_argument("--questions", type=int, default=5, help="questions per client")
    ap.add_argument("--timeout", type=float, default=120.0, help="per-request timeout, seconds")
    ap.add_argument(
        "--ingest-during",
        action="store_true",
        help="add, remove and rebuild articles while the clients ask (needs --start-server)",
    )
    ap.add_argument("--chroma-server", action="store_true", help="with --start-server: the index on `chroma run`")
    ap.add_argument("--distinct", action="store_true", help="every request a different, never-asked question")
    ap.add_argument("--window", action="store_true", help="ask through the chat window (Gradio) instead of /api/ask")
    ap.add_argument(
        "--distractors", type=int, default=0, help="with --start-server: N generated articles beside the shipped ones"
    )
    ap.add_argument(
        "--work",
        type=Path,
        default=None,
        help="with --start-server: the server's folder (corpus, index), kept after the run and reused by the next "
        "(which then ingests only what changed: a fresh server on the same index)",
    )
    args = ap.parse_args()
    if not args.url and not args.start_server:
        ap.error("give --url of a running server or --start-server")
    if (args.ingest_during or args.chroma_server or args.distractors or args.work) and not args.start_server:
        ap.error("--ingest-during, --chroma-server, --distractors and --work need --start-server")
    if args.work and (args.ingest_during or args.chroma_server):
        ap.error("--work keeps an embedded index of a fixed corpus: not with --ingest-during or --chroma-server")

    server = chroma = changing = ingest_s = None
    scratch: list[Path] = []  # the folders a started server and its index used: removed at the end
    if args.start_server:
        if args.chroma_server:
            scratch.append(Path(tempfile.mkdtemp(prefix="load-chroma-")))
            chroma = start_chroma(scratch[-1])
        server, ingest_s = start_server(
            own_corpus=args.ingest_during,
            chroma_port=chroma.port if chroma else None,
            distractors=args.distractors,
            work=args.work,
        )
        url = server.base
        if args.work is None:
            scratch.append(server.workdir)
        if ingest_s is not None:
            print(f"index: shipped articles + {args.distractors} distractors, ingested in {ingest_s:.0f} s")
        if args.ingest_during:
            changing = ChangingCorpus(server.workdir / "corpus", server.env)
    else:
        url = args.url.rstrip("/")
        if urlsplit(url).hostname not in ("127.0.0.1", "localhost", "::1"):
            ap.error("load is only ever sent to a server on this machine (127.0.0.1/localhost)")

    latencies: list[float] = []
    statuses: Counter = Counter()
    lock = threading.Lock()

    pool = never_asked(args.clients * args.questions) if args.distinct else QUESTIONS

    host = urlsplit(url)

    def connect() -> http.client.HTTPConnection:
        # One keep-alive connection per client on the standard library's http.client: the clients share the
        # server's two cores, and httpx spent ~15 ms of CPU a request (10-20 % of the machine at this load).
        return http.client.HTTPConnection(host.hostname, host.port or 80, timeout=args.timeout)

    def ask(conn: http.client.HTTPConnection, question: str) -> int | str:
        """One POST /api/ask on `conn`: the HTTP status, or the name of the error that stopped it."""
        try:
            conn.request("POST", "/api/ask", json.dumps({"question": question}).encode(), JSON)
            response = conn.getresponse()
            response.read()
            return response.status
        except (OSError, http.client.HTTPException) as e:
            conn.close()  # (reconnects on the next request)
            return type(e).__name__

    visitors: list = []  # --window: one gradio_client session per client, opened before the clock starts

    def visit(visitor, question: str) -> int | str:
        """One question through the chat window: 200 when it shows an answer (or a refusal), else what went wrong."""
        try:
            chat = visitor.predict(question, api_name="/chat")[0]
        except Exception as e:  # noqa: BLE001 - counted by kind, like the API's statuses
            return type(e).__name__
        last = chat[-1] if chat else {}
        text = str(last.get("content", ""))
        if last.get("role") != "assistant" or "went wrong" in text or "unavailable" in text:
            return "window-error"
        return 200

    def client(i: int) -> None:
        conn = connect() if not args.window else None
        try:
            for j in range(args.questions):
                question = pool[i * args.questions + j] if args.distinct else QUESTIONS[(i + j) % len(QUESTIONS)]
                start = time.perf_counter()
                status = visit(visitors[i], question) if args.window else ask(conn, question)
                elapsed = (time.perf_counter() - start) * 1e3
                with lock:
                    statuses[status] += 1
                    if status == 200:
                        latencies.append(elapsed)
        finally:
            if conn is not None:
                conn.close()

    try:
        if not args.distinct:  # (the server warmed itself up before /healthz said ready)
            warm = connect()
            status = ask(warm, "warm-up: what is a small-cap stock?")
            warm.close()
            if status != 200:
                sys.exit(f"the warm-up request to {url}/api/ask failed: {status}")
        if args.window:
            from gradio_client import Client

            for _ in range(args.clients):
                visitors.append(Client(url, verbose=False, analytics_enabled=False, download_files=False))
        threads = [threading.Thread(target=client, args=(i,)) for i in range(args.clients)]
        server_cpu = process_cpu(server.proc.pid) if server is not None and server.proc is not None else None
        start, client_cpu = time.perf_counter(), time.process_time()
        if changing is not None:
            changing.start()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall, client_cpu = time.perf_counter() - start, time.process_time() - client_cpu
        if server_cpu is not None:
            server_cpu = process_cpu(server.proc.pid) - server_cpu
        if changing is not None:
            changing.stop()
    finally:
        for visitor in visitors:
            visitor.close()  # (its heartbeat connection would hold up the server's shutdown)
        for running in (server, chroma):
            if running is not None:
                running.stop()
        for folder in scratch:
            shutil.rmtree(folder, ignore_errors=True)

    total = args.clients * args.questions
    errors = {str(k): v for k, v in statuses.items() if k != 200}
    lat = sorted(latencies)

    def pct(q: float) -> float:
        return percentile(lat, q) if lat else float("nan")

    result = {
        "via": "window" if args.window else "api",
        "distinct": args.distinct,
        "distractors": args.distractors,
        "ingest_s": round(ingest_s, 1) if args.start_server and ingest_s is not None else None,
        "clients": args.clients,
        "requests": total,
        "ok": statuses.get(200, 0),
        "errors": errors,
        "seconds": round(wall, 2),
        "answers_per_s": round(statuses.get(200, 0) / wall, 2),
        "p50_ms": round(pct(50)),
        "p95_ms": round(pct(95)),
        "p99_ms": round(pct(99)),
        "mean_ms": round(statistics.mean(lat)) if lat else None,
        # CPU seconds a request: of the load clients (this process) and, with --start-server, of the server
        "client_cpu_ms": round(client_cpu / total * 1e3, 1),
        "server_cpu_ms": round(server_cpu / total * 1e3, 1) if server_cpu is not None else None,
    }
    route = "the chat window (/chat)" if args.window else f"{url}/api/ask"
    print(f"{args.clients} clients × {args.questions} questions = {total} requests to {route} in {wall:.1f} s")
    print(
        f"throughput {result['answers_per_s']} answers/s; latency p50 {result['p50_ms']} ms, "
        f"p95 {result['p95_ms']} ms, p99 {result['p99_ms']} ms; errors: {sum(errors.values())} {errors or ''}"
    )
    print(
        f"CPU a request: clients {result['client_cpu_ms']} ms"
        + (f", server {result['server_cpu_ms']} ms" if result["server_cpu_ms"] is not None else "")
    )
    if changing is not None:
        result["index"] = "chroma-server" if args.chroma_server else "embedded"
        result["ingests"] = dict(changing.runs)
        result["ingest_failures"] = changing.failures
        print(
            f"meanwhile ({result['index']} index): {changing.runs['ingest']} ingests and "
            f"{changing.runs['rebuild']} rebuilds, {len(changing.failures)} failed; "
            f"non-2xx answers: {sum(errors.values())}"
        )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
