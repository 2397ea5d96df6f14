"""One process owns an embedded index while a server runs on it.

An embedded Chroma (`PersistentClient`) is not safe across processes: a server does not see what another
process writes to its folder, and reads half-written files. So while `python app.py serve` runs on an embedded
index it *owns* the folder: it holds an exclusive lock on `<index>/.server.lock` for its whole life and writes
where it listens, with a token, to `<index>/.server.json` (readable by its user only). `python app.py ingest`
on that folder finds the owner and hands the run to it (`POST /admin/ingest`), so every write happens in the
process that reads. With no server running, `ingest` writes directly, holding the ingest lock; a server that
starts meanwhile waits for that lock before it opens the index, and an ingest that finds a server took the
folder after all gives the run to it.

    owner = claim(path, url, token)     # the server, before it opens the index; IndexBusy if another has it
    found = current_owner(path)          # the CLI: Owner(url, token, pid) or None
    report = ingest_through(found, corpus, rebuild=False, progress=True)   # the run, in the owner
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING

if TYPE_CHECKING:
    from ingest.index import IngestReport

log = logging.getLogger(__name__)

LOCK_FILE = ".server.lock"
INFO_FILE = ".server.json"


class IndexBusy(RuntimeError):
    """Another server already serves this embedded index."""


class RemoteIngestError(RuntimeError):
    """The server that owns the index refused an ingest, failed it, or does not answer."""


class OwnerTookOver(RuntimeError):
    """A server claimed the index after this ingest checked; the run must go through it."""


@dataclass(frozen=True)
class Owner:
    url: str
    token: str
    pid: int


def claim(path: Path, url: str, token: str) -> IO[str]:
    """Take the index at `path` for this process (kept until the returned handle is closed or the process
    ends) and publish where to reach it."""
    path.mkdir(parents=True, exist_ok=True)
    handle = open(path / LOCK_FILE, "a+")  # noqa: SIM115 - held for the life of the server
    for attempt in range(40):  # an `ingest` checking for an owner holds the lock for a moment
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            if attempt < 39:
                time.sleep(0.05)
                continue
            handle.close()
            other = _read(path)
            raise IndexBusy(
                f"another server (pid {other.pid if other else 'unknown'}, {other.url if other else '?'})"
                f" is already serving the index in {path}; stop it or use another CHROMA_PATH"
            ) from None
    tmp = path / f"{INFO_FILE}.{os.getpid()}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump({"url": url, "token": token, "pid": os.getpid()}, fh)
    os.replace(tmp, path / INFO_FILE)
    return handle


def current_owner(path: Path) -> Owner | None:
    """The server that owns the index at `path` now, or None when no server holds it."""
    lock = path / LOCK_FILE
    if not lock.exists():
        return None
    with open(lock, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return _read(path) or Owner("", "", 0)
        fcntl.flock(handle, fcntl.LOCK_UN)
    return None


def _read(path: Path) -> Owner | None:
    try:
        data = json.loads((path / INFO_FILE).read_text(encoding="utf-8"))
        return Owner(str(data["url"]), str(data["token"]), int(data["pid"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


@contextlib.contextmanager
def after_running_ingest(lock_path: Path) -> Iterator[None]:
    """Wait for an ingest that writes the index directly to finish (a server must not open it meanwhile)."""
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log.info("an ingest is writing the index; waiting for it to finish before serving")
            started = time.monotonic()
            fcntl.flock(handle, fcntl.LOCK_EX)
            log.info("the ingest finished after %.1f s", time.monotonic() - started)
        fcntl.flock(handle, fcntl.LOCK_UN)
    yield


def ingest_through(
    owner: Owner, corpus: Path, *, rebuild: bool, progress: bool, allow_empty: bool = False, wait: float = 180.0
) -> IngestReport:
    """Hand an ingest to the server that owns the embedded index and follow its progress."""
    import httpx
    from tqdm.auto import tqdm

    from ingest.index import IngestReport

    if not owner.url or not owner.token:
        raise RemoteIngestError(
            f"a server holds the index in {corpus} but did not say where it listens; "
            "stop it, or ingest through its /admin/ingest route with ADMIN_TOKEN"
        )
    deadline = time.monotonic() + wait
    bar = None
    while True:
        try:
            with httpx.stream(
                "POST",
                f"{owner.url}/admin/ingest",
                json={"corpus": str(corpus), "rebuild": rebuild, "allow_empty": allow_empty},
                headers={"Authorization": f"Bearer {owner.token}"},
                timeout=httpx.Timeout(30.0, read=None),
            ) as r:
                if r.status_code != 200:
                    r.read()
                    try:
                        reason = r.json().get("error", r.text)
                    except ValueError:
                        reason = r.text
                    raise RemoteIngestError(f"the server refused the ingest ({r.status_code}): {reason}")
                for line in r.iter_lines():
                    if not line.strip():
                        continue
                    event = json.loads(line)
                    if event["event"] == "progress":
                        if bar is None and progress:
                            bar = tqdm(
                                total=event["total"], desc="embedding (in the server)", unit="chunk", leave=False
                            )
                        if bar is not None:
                            bar.total = event["total"]
                            bar.n = event["done"]
                            bar.refresh()
                    elif event["event"] == "report":
                        if bar is not None:
                            bar.close()
                        return IngestReport.from_dict(event["report"])
                    elif event["event"] == "error":
                        raise RemoteIngestError(f"ingest in the server failed: {event['error']}")
            raise RemoteIngestError("the server closed the ingest stream before reporting")
        except httpx.ConnectError:
            if time.monotonic() > deadline:
                raise RemoteIngestError(
                    f"the server that owns this index (pid {owner.pid}) does not answer at {owner.url}"
                ) from None
            time.sleep(0.5)  # it is still starting (loading the model, first ingest)
