"""What the benchmark scripts and the tests share: a clock of time spent per stage, the one percentile definition of
every figure they print (the eval's: linear interpolation between the closest ranks, as numpy's default, so p95s of
different scripts compare), and the real processes they start: a free loopback port, a process waited on until its
URL answers, `chroma run`, and the chatbot server itself (`ChatbotServer`, the tests' fixtures use it too).

    server = ChatbotServer(Path("/tmp/work"), env={"RATE_LIMIT_PER_MINUTE": "0"}, name="load").start()
    chroma = start_chroma(Path("/tmp/work/chroma-server"))        # .port, .stop()
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import httpx

from chat.evaluation import percentile

__all__ = [
    "ChatbotServer",
    "ChromaServer",
    "Clock",
    "free_port",
    "percentile",
    "start_chroma",
    "stop_process",
    "wait_until_up",
]
ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_up(proc: subprocess.Popen, url: str, *, timeout: float = 300.0, what: str = "server") -> None:
    """Poll `url` until it answers 200; kill `proc` and raise if it exits or the time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with code {proc.returncode} before {url} answered")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    proc.kill()
    raise RuntimeError(f"{what} did not answer {url} within {timeout:.0f} s")


class Clock:
    """Accumulates wall time and calls per label; `wrap` makes a timed version of a callable, `clear` starts over
    (per question, in benchmarks/query.py)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.calls: dict[str, int] = {}

    def wrap(self, label: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            t = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.seconds[label] = self.seconds.get(label, 0.0) + time.perf_counter() - t
                self.calls[label] = self.calls.get(label, 0) + 1

        return timed

    def clear(self) -> None:
        self.seconds.clear()
        self.calls.clear()


def stop_process(proc: subprocess.Popen, wait: float = 15.0) -> None:
    """Terminate, then kill what does not stop within `wait` seconds."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(wait)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


@dataclass
class ChromaServer:
    """A running `chroma run`: its process, port and log file."""

    proc: subprocess.Popen
    port: int
    log: IO[bytes] | None

    def stop(self) -> None:
        stop_process(self.proc)
        if self.log is not None:
            self.log.close()


def start_chroma(data: Path, *, log: Path | None = None, timeout: float = 120.0) -> ChromaServer:
    """`chroma run --path data` on a free loopback port, once it answers (its output to `log`, or dropped)."""
    exe = shutil.which("chroma") or str(Path(sys.executable).parent / "chroma")
    port = free_port()
    out = open(log, "wb") if log is not None else None
    proc = subprocess.Popen(
        [exe, "run", "--path", str(data), "--host", "127.0.0.1", "--port", str(port)],
        stdout=out or subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
        env={**os.environ, "ANONYMIZED_TELEMETRY": "False"},
    )
    try:
        wait_until_up(proc, f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=timeout, what="chroma server")
    except Exception:
        if out is not None:
            out.close()
        raise
    return ChromaServer(proc, port, out)


class ChatbotServer:
    """`python app.py serve --port N` as a subprocess with its own index, feedback file and log under `workdir`;
    `env` adds or overrides settings (the caller's OPENAI_*, CHROMA_* and CORPUS_* are not inherited)."""

    def __init__(self, workdir: Path, *, env: dict[str, str] | None = None, name: str = "chatbot") -> None:
        self.name, self.workdir = name, workdir
        workdir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.chroma_path = workdir / "chroma"
        self.feedback_path = workdir / "feedback.jsonl"
        self.log_path = workdir / "server.log"
        keep = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "CHROMA_", "CORPUS_"))}
        self.env = {
            **keep,
            "CHROMA_PATH": str(self.chroma_path),
            "FEEDBACK_PATH": str(self.feedback_path),
            "LOG_LEVEL": "WARNING",
            "HOST": "127.0.0.1",
            "PYTHONUNBUFFERED": "1",
            **(env or {}),
        }
        self.proc: subprocess.Popen | None = None
        self._log: IO[bytes] | None = None

    def spawn(self, *, append_log: bool = False) -> subprocess.Popen:
        """Start the process and return at once (`start` also waits for it); its output goes to the log."""
        self._log = open(self.log_path, "ab" if append_log else "wb")
        self.proc = subprocess.Popen(
            [sys.executable, "app.py", "serve", "--port", str(self.port)],
            cwd=ROOT,
            env=self.env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        return self.proc

    def start(self, timeout: float = 240.0) -> ChatbotServer:
        """Start it and wait until `/healthz` says it answers; on failure the log's tail is in the error."""
        self.spawn()
        try:
            wait_until_up(self.proc, f"{self.base}/healthz", timeout=timeout, what=f"{self.name} server")
        except Exception as e:
            self.stop()
            raise RuntimeError(f"{self.name} server did not start: {e}\n--- server log ---\n{self.log_tail()}") from e
        return self

    def log_tail(self, chars: int = 8000) -> str:
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")[-chars:]
        except OSError:
            return "(no log)"

    def stop(self) -> None:
        if self.proc is not None:
            stop_process(self.proc)
        if self._log is not None:
            self._log.close()
            self._log = None
