"""What the benchmark scripts share: a clock of time spent per stage, a free loopback port, a process waited on
until its URL answers, and the one percentile definition of every figure they print (the eval's: linear
interpolation between the closest ranks, as numpy's default), so p95s of different scripts compare."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Callable
from typing import Any

import httpx

from chat.evaluation import percentile

__all__ = ["Clock", "free_port", "percentile", "wait_until_up"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_up(proc: subprocess.Popen, url: str, *, timeout: float = 300.0, what: str = "server") -> None:
    """Poll `url` until it answers 200; kill `proc` and raise if it exits or the time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with code {proc.returncode}")
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
