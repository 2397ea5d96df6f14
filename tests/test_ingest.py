"""Ingestion end to end with the real bundled model and real Chroma (embedded and a `chroma run` server).

python -m pytest tests/test_ingest.py -q
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import CORPUS, ROOT

import app as app_module
from ingest.index import IngestLocked
from ingest.load import parse_document, read_sidecar, sidecar_entry
from ingest.records import ChunkMetadata

AINVEST = "ainvest-small-cap-resurgence-2026-01-12.txt"
COINMELA = "coinmela-small-caps-strong-start-2026-01-27.txt"

# fmt: off
CHROME = ["Sign in to your account", "BTC", "$88,301", "bitcoinBitcoin", "Share This Article", "Popular News",
          "Leave a Reply", "Goldman Sachs Predicts", "Add a public comment", "Comentarios", "urlhttps3A2F",
          "Font Resizer", "All Rights Reserved", "Lost your password", "Follow US", "Advertisement",
          "Previous Article", "Bitget Launches", "Your email address will not be published"]
FIGURES = ["15.6", "22.6", "31%", "$75 billion", "14 trading days", "$300 million and $2 billion", "19.5",
           "75 basis points", "15.4%", "14.8%", "nearly 2% on January 23", "17% rise", "nearly 50%",
           "Peter Roy", "Samuel Rines", "Amplitude", "Innodata", "seven straight sessions"]
# fmt: on


def norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def faq_answers() -> list[str]:
    raw = (CORPUS / AINVEST).read_text(encoding="utf-8")
    answers = re.findall(r"^A: (.+?)(?=\n\s*\n(?:Q:|author avatar))", raw, re.S | re.M)
    assert len(answers) == 4
    return answers


def all_chunks(store) -> list[dict]:
    got = store.chunks.get(include=["documents", "metadatas"])
    return [{"id": i, "text": d, **m} for i, d, m in zip(got["ids"], got["documents"], got["metadatas"])]


def snapshot(store) -> list[tuple]:
    return sorted((c["source"], c["chunk_index"], c["id"], c["text"]) for c in all_chunks(store))


def copy_corpus(tmp_path: Path) -> Path:
    dest = tmp_path / "corpus"
    shutil.copytree(CORPUS, dest)
    return dest


def run(indexer, corpus: Path, **kw):
    return indexer.run(corpus, progress=False, **kw)


# --- the real corpus ---------------------------------------------------------------------------------


def test_real_corpus_is_clean_and_complete(indexer, store):
    report = run(indexer, CORPUS)
    assert report.counts() == {"added": 2, "unchanged": 0, "updated": 0, "deleted": 0, "skipped": 0, "failed": 0}
    chunks = all_chunks(store)
    assert report.chunks_total == len(chunks) > 4
    texts = [c["text"] for c in chunks]
    for junk in CHROME:
        assert not any(junk in t for t in texts), f"page chrome reached the index: {junk!r}"
    for fact in FIGURES:
        assert any(fact in norm(t) for t in texts), f"figure missing from the index: {fact!r}"
    ainvest = " ".join(
        norm(c["text"]) for c in sorted(chunks, key=lambda c: c["chunk_index"]) if c["source"] == AINVEST
    )
    for answer in faq_answers():
        # the answer's words are all indexed (the capture's broken lines are rejoined by the cleaner)
        for sentence in re.split(r"(?<=[.!?])\s+", norm(answer)):
            words = re.sub(r"\d+$", "", sentence).strip()
            assert words.split()[-3:] and " ".join(words.split()[-4:]) in ainvest, sentence


def test_every_chunk_carries_citation_metadata(indexer, store, embedder):
    run(indexer, CORPUS)
    sidecar = read_sidecar(CORPUS)
    by_source: dict[str, list[dict]] = {}
    for c in all_chunks(store):
        by_source.setdefault(c["source"], []).append(c)
    assert set(by_source) == {AINVEST, COINMELA}
    expected = {AINVEST: ("AInvest", "2026-01-12"), COINMELA: ("CoinMela", "2026-01-27")}
    for source, chunks in by_source.items():
        doc = parse_document(source, CORPUS / source, (CORPUS / source).read_bytes(), sidecar_entry(sidecar, source))
        assert sorted(c["chunk_index"] for c in chunks) == list(range(len(chunks)))
        for c in chunks:
            assert c["publisher"], c["published"] == expected[source]
            assert c["title"] and c["chunk_id"] == c["id"] and c["format"] == "txt"
            assert "url" in c and "section" in c
            # every record has exactly the fields of the one record format the readers (chat/) are typed with
            assert set(c) - {"id", "text"} == set(ChunkMetadata.__annotations__)
            # the offsets point at the exact place in the cleaned article
            assert doc.text[c["start_char"] : c["end_char"]] == c["text"]
    sections = {c["section"] for c in by_source[COINMELA]}
    assert {"The Valuation Gap", "Interest Rate Dynamics", "Investment Strategies"} <= sections


def test_chunks_fit_the_embedder_and_keep_headings_with_text(embedder, settings, store):
    indexer = app_module.build_indexer(settings, store)
    doc_text = (
        "# Heading one\n\n" + "Short intro sentence about small caps. " * 3 + "\n\n"
        "## A very long section\n\n"
        + " ".join(f"Sentence number {i} talks about the Russell 2000 index and rates." for i in range(120))
        + "\n\n## Run-on\n\n"
        + "word " * 900
        + "\n\n## Tail\n\nThe end of the article is here."
    )
    for source, text in [("synthetic.md", doc_text)] + [
        (s, parse_document(s, CORPUS / s, (CORPUS / s).read_bytes(), {}).text) for s in (AINVEST, COINMELA)
    ]:
        chunks = indexer.splitter.split(source, text)
        assert chunks
        for c in chunks:
            assert embedder.count_tokens(c.embed_text) <= embedder.max_tokens == 256
            last_line = c.text.rstrip().splitlines()[-1]
            assert not last_line.startswith("#"), f"heading cut off from its text: {last_line!r}"
            assert text[c.start : c.end] == c.text
        covered = set()
        for c in chunks:
            covered.update(range(c.start, c.end))
        assert all(i in covered for i, ch in enumerate(text) if not ch.isspace()), "text lost between chunks"


# --- idempotent and incremental --------------------------------------------------------------------


def test_rerun_embeds_nothing(indexer, store):
    first = run(indexer, CORPUS)
    before = snapshot(store)
    second = run(indexer, CORPUS)
    assert second.counts() == {"added": 0, "unchanged": 2, "updated": 0, "deleted": 0, "skipped": 0, "failed": 0}
    assert second.chunks_embedded == 0 and first.chunks_embedded > 0
    assert snapshot(store) == before


def test_changed_deleted_renamed_and_duplicate_files(indexer, store, tmp_path):
    corpus = copy_corpus(tmp_path)
    run(indexer, corpus)
    total = store.count()

    # a changed paragraph: only that text is embedded again, the old text is gone
    path = corpus / COINMELA
    raw = path.read_text(encoding="utf-8")
    path.write_text(
        raw.replace("with net assets of approximately $75 billion", "with net assets of approximately $81 billion"),
        encoding="utf-8",
    )
    r = run(indexer, corpus)
    assert (r.updated, r.unchanged, r.added) == (1, 1, 0)
    assert 0 < r.chunks_embedded < total / 2
    texts = [c["text"] for c in all_chunks(store)]
    assert any("$81 billion" in t for t in texts) and not any("$75 billion" in t for t in texts)
    assert store.count() == total

    # a renamed file keeps its embeddings and moves its chunks
    (corpus / AINVEST).rename(corpus / "renamed.txt")
    r = run(indexer, corpus)
    assert (r.renamed, r.added, r.deleted, r.chunks_embedded) == (1, 0, 0, 0)
    sources = {c["source"] for c in all_chunks(store)}
    assert sources == {"renamed.txt", COINMELA}

    # two files with identical content are both kept (the second embeds nothing new)
    shutil.copy(corpus / COINMELA, corpus / "copy-of-coinmela.txt")
    r = run(indexer, corpus)
    assert (r.added, r.chunks_embedded) == (1, 0)
    chunks = all_chunks(store)
    n_copy = sum(c["source"] == "copy-of-coinmela.txt" for c in chunks)
    assert n_copy == sum(c["source"] == COINMELA for c in chunks) > 0

    # a deleted file loses its chunks
    (corpus / "renamed.txt").unlink()
    r = run(indexer, corpus)
    assert (r.deleted, r.unchanged) == (1, 2)
    assert {c["source"] for c in all_chunks(store)} == {COINMELA, "copy-of-coinmela.txt"}
    assert len({c["id"] for c in all_chunks(store)}) == store.count()


def test_a_stopped_run_s_files_are_reported_as_what_they_were_by_the_run_that_finishes_them(
    indexer, store, tmp_path, monkeypatch
):
    """A run stopped after marking its files `pending` leaves them for the next run, which reports a file that was
    new as added and a changed one as updated (before, every pending file came back as "updated")."""
    corpus = copy_corpus(tmp_path)

    def stopped_run() -> None:
        """An ingest of the corpus stopped after its files are marked pending (at the sentence-vector step)."""

        def stop(*args, **kwargs):
            raise RuntimeError("stopped mid-run")

        with monkeypatch.context() as m:
            m.setattr(indexer, "_write_sentences", stop)
            with pytest.raises(RuntimeError, match="stopped mid-run"):
                run(indexer, corpus)

    stopped_run()
    r = run(indexer, corpus)
    assert r.counts() == {"added": 2, "unchanged": 0, "updated": 0, "deleted": 0, "skipped": 0, "failed": 0}

    path = corpus / COINMELA
    path.write_text(path.read_text(encoding="utf-8").replace("$75 billion", "$81 billion"), encoding="utf-8")
    (corpus / "copy-of-ainvest.txt").write_text((corpus / AINVEST).read_text(encoding="utf-8"), encoding="utf-8")
    stopped_run()
    r = run(indexer, corpus)
    assert r.counts() == {"added": 1, "unchanged": 1, "updated": 1, "deleted": 0, "skipped": 0, "failed": 0}
    assert any("$81 billion" in c["text"] for c in all_chunks(store))

    # a new file a stopped run left pending, gone before the next run: it was never added, so it is not "deleted"
    (corpus / "draft.md").write_text("# Draft\n\nSmall caps rose 3% in a week of thin trading.", encoding="utf-8")
    stopped_run()
    (corpus / "draft.md").unlink()
    r = run(indexer, corpus)
    assert r.counts() == {"added": 0, "unchanged": 3, "updated": 0, "deleted": 0, "skipped": 0, "failed": 0}
    assert "draft.md" not in {c["source"] for c in all_chunks(store)}


def test_rebuild_gives_the_same_index(indexer, store):
    run(indexer, CORPUS)
    before = snapshot(store)
    r = run(indexer, CORPUS, rebuild=True)
    assert r.added == 2 and r.chunks_embedded > 0
    assert snapshot(store) == before


def test_sidecar_metadata_change_updates_chunks(indexer, store, tmp_path):
    corpus = copy_corpus(tmp_path)
    run(indexer, corpus)
    meta = json.loads((corpus / "metadata.json").read_text())
    meta[AINVEST]["url"] = "https://example.org/ainvest-small-caps"
    (corpus / "metadata.json").write_text(json.dumps(meta))
    r = run(indexer, corpus)
    assert (r.updated, r.unchanged, r.chunks_embedded) == (1, 1, 0)
    urls = {c["url"] for c in all_chunks(store) if c["source"] == AINVEST}
    assert urls == {"https://example.org/ainvest-small-caps"}


# --- formats ---------------------------------------------------------------------------------------


def make_pdf(lines: list[str], title: str) -> bytes:
    """A minimal, valid one-page PDF with real text objects (what pypdf reads from a born-digital PDF)."""
    content = "BT /F1 11 Tf 72 720 Td 14 TL " + " ".join(f"({ln}) Tj T*" for ln in lines) + " ET"
    objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        "/Resources << /Font << /F1 5 0 R >> >> >>",
        f"<< /Length {len(content)} >>\nstream\n{content}\nendstream",
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        f"<< /Title ({title}) /Author (Research Desk) /CreationDate (D:20260115093000Z) >>",
    ]
    out = b"%PDF-1.4\n"
    offsets = []
    for i, obj in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{i} 0 obj\n{obj}\nendobj\n".encode()
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R /Info 6 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return out


HTML = """<!doctype html><html><head><title>Midcaps rally | Example Wire</title>
<meta property="og:site_name" content="Example Wire"><meta name="author" content="Dana Whitfield">
<meta property="article:published_time" content="2026-02-03T08:00:00Z">
<link rel="canonical" href="https://wire.example.com/midcaps-rally"></head><body>
<nav><a href="/">Home</a> <a href="/markets">Markets</a> <a href="/crypto">Crypto</a></nav>
<div class="cookie">We use cookies to improve your experience. Accept all</div>
<article><h1>Midcaps rally</h1>
<p>The S&amp;P MidCap 400 gained 4.2% in January, its best start to a year since 2019, as investors rotated
out of megacap technology shares and into cheaper domestic companies.</p>
<h2>Earnings picture</h2>
<p>Analysts expect midcap earnings to grow 12.7% in 2026, compared with 10.1% for the S&amp;P 500, according
to the latest consensus estimates compiled by the exchange.</p></article>
<aside><h3>Most read</h3><ul><li><a href="/x">Gold hits record</a></li></ul></aside>
<footer>Copyright 2026 Example Wire. All rights reserved.</footer></body></html>"""

MD = """---
title: Regional banks and the rate path
publisher: Markdown Monthly
author: Lee Chen
date: 2026-01-20
url: https://md.example.org/banks
---
# Regional banks and the rate path

Regional bank shares rose 9% in two weeks as traders priced two more rate cuts for 2026.

## Deposits

Deposit costs fell for the first time in three years, easing pressure on net interest margins.
"""


def test_formats_and_metadata(indexer, store, tmp_path):
    corpus = tmp_path / "mixed"
    (corpus / "nested" / "deeper").mkdir(parents=True)
    (corpus / "wire.html").write_text(HTML, encoding="utf-8")
    (corpus / "nested" / "banks.md").write_text(MD, encoding="utf-8")
    (corpus / "nested" / "deeper" / "report.pdf").write_bytes(
        make_pdf(
            [
                "Quarterly small-cap outlook.",
                "Small caps trade at 15.6 times forward earnings.",
                "Floating-rate debt makes them sensitive to Fed cuts.",
            ],
            "Small-cap outlook Q1",
        )
    )
    r = run(indexer, corpus)
    assert r.counts()["added"] == 3 and r.failed == 0
    chunks = {c["source"]: c for c in all_chunks(store)}
    html = chunks["wire.html"]
    assert (html["title"], html["publisher"], html["author"], html["published"], html["url"]) == (
        "Midcaps rally",
        "Example Wire",
        "Dana Whitfield",
        "2026-02-03",
        "https://wire.example.com/midcaps-rally",
    )
    assert "12.7%" in html["text"] and "Home" not in html["text"] and "cookies" not in html["text"]
    assert "Gold hits record" not in html["text"] and "All rights reserved" not in html["text"]
    md = chunks["nested/banks.md"]
    assert (md["title"], md["publisher"], md["author"], md["published"], md["url"]) == (
        "Regional banks and the rate path",
        "Markdown Monthly",
        "Lee Chen",
        "2026-01-20",
        "https://md.example.org/banks",
    )
    assert "title:" not in md["text"] and "9%" in md["text"]
    pdf = chunks["nested/deeper/report.pdf"]
    assert (pdf["title"], pdf["author"], pdf["published"]) == ("Small-cap outlook Q1", "Research Desk", "2026-01-15")
    assert "15.6 times" in pdf["text"]


# --- bad input -------------------------------------------------------------------------------------


def test_bad_files_are_reported_and_the_rest_ingests(settings, store, tmp_path, monkeypatch):
    corpus = copy_corpus(tmp_path)
    bad = corpus / "bad"
    bad.mkdir()
    (bad / "empty.txt").write_bytes(b"")
    (bad / "binary.txt").write_bytes(bytes(range(256)) * 40)
    (bad / "latin1.txt").write_bytes("Caf\xe9 au lait prices rose 3% in Paris this week.".encode("latin-1"))
    (bad / "corrupt.pdf").write_bytes(b"%PDF-1.7\n1 0 obj << /Type /Catalog >> garbage without xref")
    with open(bad / "huge.txt", "wb") as fh:  # 50 MB of real text
        line = b"Small caps rallied again today as investors rotated into cheaper domestic stocks.\n"
        fh.write(line * (50_000_000 // len(line) + 1))
    (bad / "locked.txt").write_text("Some article text that nobody may read.", encoding="utf-8")
    os.chmod(bad / "locked.txt", 0)
    (bad / "notes.docx").write_bytes(b"PK\x03\x04 not supported")
    os.symlink(bad, bad / "loop")  # a folder that contains itself
    os.symlink(bad / "self.txt", bad / "self.txt")  # a link to itself
    if os.geteuid() == 0:  # root reads mode-000 files; make the read fail as it does for everyone else
        real_read = Path.read_bytes

        def read_bytes(self):
            if self.name == "locked.txt":
                raise PermissionError(13, "Permission denied", str(self))
            return real_read(self)

        monkeypatch.setattr(Path, "read_bytes", read_bytes)

    indexer = app_module.build_indexer(settings, store)
    r = run(indexer, corpus)
    reasons = {p["source"]: (p["status"], p["reason"]) for p in r.problems}
    assert reasons["bad/empty.txt"] == ("skipped", "empty file")
    assert reasons["bad/binary.txt"][0] == "failed" and "binary" in reasons["bad/binary.txt"][1]
    assert reasons["bad/latin1.txt"][0] == "failed" and "UTF-8" in reasons["bad/latin1.txt"][1]
    assert reasons["bad/corrupt.pdf"][0] == "failed" and "PDF" in reasons["bad/corrupt.pdf"][1]
    assert reasons["bad/huge.txt"][0] == "skipped" and "too large" in reasons["bad/huge.txt"][1]
    assert reasons["bad/locked.txt"] == ("failed", "cannot read: Permission denied")
    assert reasons["bad/notes.docx"][0] == "skipped" and ".docx" in reasons["bad/notes.docx"][1]
    assert reasons["bad/loop"][0] == "failed" and "loop" in reasons["bad/loop"][1]
    assert reasons["bad/self.txt"][0] == "failed"
    assert r.added == 2 and {c["source"] for c in all_chunks(store)} == {AINVEST, COINMELA}
    assert (r.skipped, r.failed) == (3, 6)


def test_concurrent_ingest_is_refused(settings, store):
    indexer = app_module.build_indexer(settings, store)
    indexer.lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(indexer.lock_path, "a+") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        fh.write("4242")
        fh.flush()
        with pytest.raises(IngestLocked, match="another ingest is already running .*pid 4242"):
            run(indexer, CORPUS)
    assert store.count() == 0
    assert run(indexer, CORPUS).added == 2  # the lock is free again


# --- crash safety ------------------------------------------------------------------------------------


def synthetic_corpus(folder: Path, n: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    sectors = ["banks", "utilities", "semiconductors", "retail", "biotech", "energy", "industrials", "insurers"]
    for i in range(n):
        sector = sectors[i % len(sectors)]
        paras = [
            f"Shares of {sector} companies moved {i % 9 + 1}.{i % 7}% on day {i}, as traders weighed the outlook "
            f"for rates, margins and demand in the {sector} industry over the coming quarters."
            for _ in range(1)
        ] + [
            f"Paragraph {j} of report {i}: analysts at firm {j * i % 13} said {sector} valuations of "
            f"{10 + (i + j) % 20}.{j} times earnings looked {'cheap' if j % 2 else 'stretched'} versus history, "
            "citing balance sheets, refinancing needs, buybacks and the path of the dollar."
            for j in range(14)
        ]
        (folder / f"report-{i:03d}.md").write_text(
            f"# Report {i} on {sector}\n\n" + "\n\n".join(paras), encoding="utf-8"
        )


def test_killed_ingest_converges(tmp_path, model_path):
    corpus = tmp_path / "corpus"
    synthetic_corpus(corpus, 60)
    env = {
        **os.environ,
        "CORPUS_DIR": str(corpus),
        "CHROMA_PATH": str(tmp_path / "chroma"),
        "COLLECTION": "crash",
        "EMBEDDING_MODEL": model_path,
        "LOG_LEVEL": "WARNING",
    }
    cmd = [sys.executable, str(ROOT / "app.py"), "ingest", "--quiet"]
    for delay in (4.0, 7.0, 10.0):
        proc = subprocess.Popen(cmd, env=env, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
        proc.wait()
    done = subprocess.run(cmd + ["--json"], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["failed"] == 0 and report["added"] + report["updated"] + report["unchanged"] == 60

    settings = app_module.Settings(
        _env_file=None,
        corpus_dir=corpus,
        chroma_path=tmp_path / "chroma",
        collection="crash",
        embedding_model=model_path,
    )
    killed = app_module.build_store(settings)
    clean = app_module.build_store(settings.model_copy(update={"collection": "clean"}), killed.embedder)
    run(app_module.build_indexer(settings, clean), corpus)
    assert snapshot(killed) == snapshot(clean)  # no duplicate, no missing chunk
    again = subprocess.run(cmd + ["--json"], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert json.loads(again.stdout)["unchanged"] == 60


# --- CLI and settings --------------------------------------------------------------------------------


def test_cli_help_documents_commands():
    out = subprocess.run([sys.executable, str(ROOT / "app.py"), "--help"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0
    for command in ("serve", "ingest"):
        assert command in out.stdout
    out = subprocess.run([sys.executable, str(ROOT / "app.py"), "ingest", "--help"], capture_output=True, text=True)
    assert "--corpus" in out.stdout and "--rebuild" in out.stdout


def test_cli_ingest_prints_the_report(tmp_path, model_path):
    env = {**os.environ, "CHROMA_PATH": str(tmp_path / "chroma"), "EMBEDDING_MODEL": model_path}
    cmd = [sys.executable, str(ROOT / "app.py"), "ingest", "--corpus", str(CORPUS)]
    first = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert first.returncode == 0, first.stderr
    assert '{"added": 2, "unchanged": 0, "updated": 0, "deleted": 0, "skipped": 0, "failed": 0}' in first.stdout
    second = subprocess.run(cmd + ["--json"], env=env, capture_output=True, text=True, timeout=300)
    assert json.loads(second.stdout)["unchanged"] == 2
    missing = subprocess.run(cmd[:-1] + [str(tmp_path / "nope")], env=env, capture_output=True, text=True)
    assert missing.returncode == 1 and "corpus folder not found" in missing.stderr


def test_ask_and_eval_on_an_empty_index_ingest_the_corpus_first(tmp_path, model_path):
    """A first run from any command: `ask` (and `eval`) on a fresh clone ingest CORPUS_DIR, as `serve` does,
    showing the model load as its own step before the embedding bar."""
    env = {
        **os.environ,
        "CHROMA_PATH": str(tmp_path / "chroma"),
        "CORPUS_DIR": str(CORPUS),
        "EMBEDDING_MODEL": model_path,
        "LOG_LEVEL": "INFO",
    }
    ask = [sys.executable, str(ROOT / "app.py"), "ask", "What is the maturity wall?"]
    first = subprocess.run(ask, env=env, capture_output=True, text=True, timeout=300)
    assert first.returncode == 0, first.stderr
    assert f"The index is empty: ingesting {CORPUS} first." in first.stderr
    assert first.stderr.index("loading the embedding model") < first.stderr.index("embedding:")
    assert '"added": 2' in first.stderr and "Maturity Wall" in first.stdout and "[1]" in first.stdout
    assert "question answered in" not in first.stderr  # the CLI prints what the per-question log line says
    again = subprocess.run(ask, env=env, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0 and "The index is empty" not in again.stderr
    empty = tmp_path / "empty"
    empty.mkdir()
    nothing = subprocess.run(
        ask, env={**env, "CORPUS_DIR": str(empty), "CHROMA_PATH": str(tmp_path / "c2")}, capture_output=True, text=True
    )
    assert nothing.returncode == 1 and f"nothing to answer from: {empty} holds no articles" in nothing.stderr


def test_every_setting_is_documented_in_the_readme():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for name, field in app_module.Settings.model_fields.items():
        assert f"`{name.upper()}`" in readme, f"setting {name.upper()} missing from the README table"
        assert field.description, f"setting {name} has no description"


def test_only_store_errors_become_index_unavailable_around_an_ingest():
    """Around a whole ingest run, a store that cannot be reached gets the ingest's own message, but a broken pipe to
    a closed `| head` (a ConnectionError too) or a missing corpus folder stays what it is."""
    import httpx

    from ingest.index import INTERRUPTED
    from ingest.store import IndexUnavailable, reaching_index

    with pytest.raises(IndexUnavailable) as hung:
        with reaching_index(INTERRUPTED, store_only=True):
            raise httpx.ReadTimeout("timed out")
    assert str(hung.value) == INTERRUPTED and hung.value.detail == "ReadTimeout: timed out"
    with pytest.raises(IndexUnavailable) as inner:
        with reaching_index(INTERRUPTED, store_only=True):
            raise IndexUnavailable("ConnectError: refused")
    assert str(inner.value) == INTERRUPTED and inner.value.detail == "ConnectError: refused"
    for other in (BrokenPipeError(32, "Broken pipe"), FileNotFoundError("corpus does not exist")):
        with pytest.raises(type(other)):
            with reaching_index(INTERRUPTED, store_only=True):
                raise other
    with pytest.raises(IndexUnavailable):  # serving reads keep the broader rule
        with reaching_index():
            raise ConnectionResetError(104, "reset")
