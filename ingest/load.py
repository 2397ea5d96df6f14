"""Files → Documents: find corpus files, read them by suffix, clean them, stamp citation metadata.

    python app.py ingest --corpus corpus/      # the CLI that drives this module

Loaders: .txt (plain-text web captures, cleaned of page chrome by ingest.clean), .md/.markdown (YAML front
matter read as metadata), .html/.htm (trafilatura main-content extraction), .pdf (pypdf). Metadata comes from,
in order of precedence: the corpus sidecar `metadata.json` (file name → {title, publisher, author, published,
url}), the file itself (front matter, HTML meta tags, PDF info, date lines in a capture), the file name.
Every problem is a `LoadError` with a reason a person can act on; callers report it and carry on.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ingest.clean import clean_capture
from ingest.records import ARTICLE_FIELDS, ArticleMetadata

log = logging.getLogger(__name__)

SIDECAR = "metadata.json"
EVAL_FILE = "faq.jsonl"  # the evaluation set shipped beside the articles (chat/evaluation/), not an article
LOADER_VERSION = "2"  # bump when loading or cleaning changes: every file is then re-read and re-chunked
TEXT_SUFFIXES = {".txt", ".md", ".markdown", ".html", ".htm"}
SUFFIXES = TEXT_SUFFIXES | {".pdf"}
METADATA_KEYS = ARTICLE_FIELDS


class LoadError(Exception):
    """A file that cannot be ingested; the message is the reason shown to the user."""


@dataclass
class Document:
    source: str  # path relative to the corpus, with forward slashes
    text: str  # cleaned article text; headings are lines starting with '#'
    metadata: ArticleMetadata


@dataclass
class Discovery:
    files: list[tuple[str, Path]]  # (source, path) of every file with a supported suffix
    skipped: list[tuple[str, str]]  # (source, reason): present but deliberately not ingested
    failed: list[tuple[str, str]]  # (source, reason): could not even be looked at
    unreadable: list[str] = field(default_factory=list)  # folders that could not be listed ("" = the corpus)


def discover(corpus: Path) -> Discovery:
    """Walk `corpus` recursively (following symlinks that stay inside it, never around a loop). A symlink that
    leads outside the corpus is skipped and reported: the corpus is what its folder holds, not what a link in
    it can reach (a link to /etc/passwd is not an article). A folder that cannot be listed is reported, and its
    articles keep their chunks (`unreadable`)."""
    if not corpus.is_dir():
        raise LoadError(f"corpus folder not found: {corpus}")
    files: list[tuple[str, Path]] = []
    skipped: list[tuple[str, str]] = []
    failed: list[tuple[str, str]] = []
    root = corpus.resolve()
    seen_dirs: set[tuple[int, int]] = set()
    unreadable: list[str] = []

    def rel(p: Path) -> str:
        return p.relative_to(corpus).as_posix()

    def outside(p: Path) -> str | None:
        """Where a symlink leads when that is outside the corpus."""
        try:
            target = p.resolve()
        except (OSError, RuntimeError):  # a loop: reported as such below
            return None
        return None if target == root or root in target.parents else str(target)

    def walk(folder: Path) -> None:
        try:
            st = folder.stat()
        except OSError as e:
            failed.append((rel(folder), f"cannot open folder: {e.strerror or e}"))
            return
        key = (st.st_dev, st.st_ino)
        if key in seen_dirs:
            failed.append((rel(folder), "symlink loop: this folder was already visited"))
            return
        seen_dirs.add(key)
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as e:
            failed.append(
                (rel(folder) or ".", f"cannot list folder: {e.strerror or e}; its articles keep their chunks")
            )
            unreadable.append("" if folder == corpus else rel(folder))
            return
        for entry in entries:
            path = Path(entry.path)
            if entry.name.startswith("."):
                continue  # hidden files and folders (.git, .DS_Store) are never articles
            if entry.name in (SIDECAR, EVAL_FILE):
                continue  # a folder's metadata sidecar and evaluation set are not articles
            if entry.is_symlink():
                target = outside(path)
                if target is not None:
                    skipped.append((rel(path), f"symlink leads outside the corpus (to {target}); not followed"))
                    continue
            try:
                is_dir = entry.is_dir(follow_symlinks=True)
                is_file = entry.is_file(follow_symlinks=True)
            except OSError as e:  # ELOOP on a self-referencing link
                failed.append((rel(path), f"unreadable link: {e.strerror or e}"))
                continue
            if is_dir:
                walk(path)
            elif is_file:
                if path.suffix.lower() in SUFFIXES:
                    files.append((rel(path), path))
                else:
                    skipped.append((rel(path), f"unsupported file type '{path.suffix or '(none)'}'"))
            elif entry.is_symlink():
                failed.append((rel(path), "broken symlink or symlink loop"))
            else:
                skipped.append((rel(path), "not a regular file"))

    walk(corpus)
    return Discovery(files=files, skipped=skipped, failed=failed, unreadable=unreadable)


def read_sidecar(corpus: Path) -> dict[str, dict[str, str]]:
    """Every `metadata.json` in the corpus (the root's and any folder's): {corpus-relative path: {field: value}}.

    A sidecar names the files beside it: `corpus/extra/metadata.json` with key "a.md" describes "extra/a.md".
    """
    out: dict[str, dict[str, str]] = {}
    seen: set[tuple[int, int]] = set()
    for folder, dirs, files in os.walk(corpus, followlinks=True):
        st = os.stat(folder)
        if (st.st_dev, st.st_ino) in seen:  # a symlink loop: discover() reports it
            dirs.clear()
            continue
        seen.add((st.st_dev, st.st_ino))
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        if SIDECAR not in files:
            continue
        path = Path(folder) / SIDECAR
        prefix = Path(folder).relative_to(corpus).as_posix()
        prefix = "" if prefix == "." else prefix + "/"
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            raise LoadError(f"{prefix}{SIDECAR} is not valid JSON: {e}") from e
        if not isinstance(data, dict) or not all(isinstance(v, dict) for v in data.values()):
            raise LoadError(f"{prefix}{SIDECAR} must map file names to objects of metadata")
        for name, meta in data.items():
            out[prefix + name] = {f: str(v) for f, v in meta.items() if v is not None}
    return out


def sidecar_entry(sidecar: dict[str, dict[str, str]], source: str) -> dict[str, str]:
    return sidecar.get(source) or sidecar.get(source.rsplit("/", 1)[-1]) or {}


# --- decoding ------------------------------------------------------------------------------------


def decode_text(data: bytes) -> str:
    """UTF-8 text or a LoadError saying why not (binary content, invalid bytes)."""
    head = data[:8192]
    if b"\x00" in head:
        raise LoadError("binary content in a text file (NUL bytes)")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise LoadError(f"not valid UTF-8: byte 0x{data[e.start]:02x} at offset {e.start}") from e
    sample = text[:8192]
    control = sum(1 for c in sample if ord(c) < 32 and c not in "\t\n\r\f")
    if sample and control / len(sample) > 0.05:
        raise LoadError("binary content in a text file (control characters)")
    return text


# --- loaders: bytes → (text, metadata found in the file) -----------------------------------------

FRONT_MATTER = re.compile(r"\A---\s*\n(.*?)\n---\s*(?:\n|\Z)", re.S)


def load_txt(data: bytes, path: Path) -> tuple[str, dict[str, str]]:
    cleaned = clean_capture(decode_text(data))
    meta = {"title": cleaned.title, "author": cleaned.author, "published": cleaned.published}
    return cleaned.text, {k: v for k, v in meta.items() if v}


def load_markdown(data: bytes, path: Path) -> tuple[str, dict[str, str]]:
    import yaml

    text = decode_text(data)
    meta: dict[str, str] = {}
    m = FRONT_MATTER.match(text)
    if m:
        try:
            front = yaml.safe_load(m.group(1)) or {}
        except yaml.YAMLError as e:
            raise LoadError(f"invalid YAML front matter: {str(e).splitlines()[0]}") from e
        if not isinstance(front, dict):
            raise LoadError("front matter must be a YAML mapping")
        aliases = {"date": "published", "source": "publisher", "site": "publisher", "link": "url"}
        for key, value in front.items():
            key = aliases.get(str(key).lower(), str(key).lower())
            if key in METADATA_KEYS and value is not None:
                meta[key] = value.isoformat() if isinstance(value, (dt.date, dt.datetime)) else str(value)
        text = text[m.end() :]
    if "title" not in meta:
        heading = re.search(r"^#\s+(.+)$", text, re.M)
        if heading:
            meta["title"] = heading.group(1).strip()
    return text.strip(), meta


def load_html(data: bytes, path: Path) -> tuple[str, dict[str, str]]:
    import trafilatura

    if b"\x00" in data[:8192]:
        raise LoadError("binary content in an HTML file (NUL bytes)")
    doc = trafilatura.bare_extraction(
        data, with_metadata=True, include_comments=False, include_formatting=True, include_tables=True
    )
    if doc is None or not (doc.text or "").strip():
        raise LoadError("no article text found in the HTML")
    meta = {
        "title": doc.title,
        "author": doc.author,
        "published": doc.date,
        "url": doc.url,
        "publisher": doc.sitename,
    }
    text = doc.text
    if doc.title:  # the title is metadata; do not index it twice as the first heading
        text = re.sub(r"\A#\s+" + re.escape(doc.title) + r"\s*\n", "", text)
    return text.strip(), {k: str(v) for k, v in meta.items() if v}


def load_pdf(data: bytes, path: Path) -> tuple[str, dict[str, str]]:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise LoadError("encrypted PDF")
        pages = [(page.extract_text() or "").strip() for page in reader.pages]
        info = reader.metadata or {}
    except LoadError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, OSError) as e:
        raise LoadError(f"corrupt PDF: {e}") from e
    text = "\n\n".join(p for p in pages if p)
    if not text.strip():
        raise LoadError("PDF has no extractable text (scanned images?)")
    meta = {"title": info.get("/Title"), "author": info.get("/Author")}
    created = info.get("/CreationDate")
    if created:
        m = re.match(r"D:(\d{4})(\d{2})(\d{2})", str(created))
        if m:
            meta["published"] = "-".join(m.groups())
    return text, {k: str(v) for k, v in meta.items() if v}


LOADERS: dict[str, Callable[[bytes, Path], tuple[str, dict[str, str]]]] = {
    ".txt": load_txt,
    ".md": load_markdown,
    ".markdown": load_markdown,
    ".html": load_html,
    ".htm": load_html,
    ".pdf": load_pdf,
}


def iso_date(value: str) -> str:
    """Best-effort ISO date (YYYY-MM-DD) from a metadata value; unchanged when not a date."""
    m = re.match(r"(\d{4})-(\d{2})-(\d{2})", value.strip())
    return "-".join(m.groups()) if m else value.strip()


def parse_document(source: str, path: Path, data: bytes, extra: dict[str, str]) -> Document:
    """Bytes of one file → a Document with cleaned text and complete citation metadata."""
    if not data.strip():
        raise LoadError("empty file")
    loader = LOADERS.get(path.suffix.lower())
    if loader is None:
        raise LoadError(f"unsupported file type '{path.suffix}'")
    text, found = loader(data, path)
    if not text.strip():
        raise LoadError("no article text left after removing page chrome")
    meta = {**found, **{k: v for k, v in extra.items() if k in METADATA_KEYS and v}}
    meta.setdefault("title", path.stem.replace("-", " ").replace("_", " ").strip().capitalize())
    if meta.get("published"):
        meta["published"] = iso_date(meta["published"])
    metadata = ArticleMetadata(
        source=source,
        format=path.suffix.lower().lstrip("."),
        title=meta.get("title", ""),
        publisher=meta.get("publisher", ""),
        author=meta.get("author", ""),
        published=meta.get("published", ""),
        url=meta.get("url", ""),
    )
    return Document(source=source, text=text, metadata=metadata)
