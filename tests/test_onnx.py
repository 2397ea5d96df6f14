"""The ONNX Runtime encoder (ingest/onnx_encoder.py) and the backend as part of the index's identity.

    python -m pytest tests/test_onnx.py            # exports the bundled model once per session (~15 s)

Vectors are compared with torch's (sentence-transformers) on the same sentences; the cache is checked for reuse,
atomic writes and a corrupt file being made again; an index switched between backends is re-embedded, never mixed.
No wall-clock assertions: speed is the benchmark's business (benchmarks/encoder_gate.py).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import click
import numpy as np
import pytest

import app as app_module
from ingest import onnx_encoder
from ingest.embed import Embedder

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "corpus"

SENTENCES = [
    "How cheap are small caps compared with the S&P 500?",
    "The S&P Small Cap 600 trades at about 15.6 times 2026 earnings estimates, versus 22.6 times for the S&P 500.",
    "",
    "  leading and trailing spaces  ",
    "Café “quotes” — 15.6% of $75 bil. 😀",
    # Longer than the model's 256 word pieces: truncated alike by both backends.
    "The Russell 2000 outperformed the S&P 500 for fourteen straight sessions as rate-cut bets grew. " * 20,
]


@pytest.fixture(scope="session")
def torch_embedder(model_path) -> Embedder:
    """The reference: sentence-transformers on torch (the `embedder` fixture is the default backend's)."""
    return Embedder(model_path)


@pytest.fixture(scope="session")
def onnx_cache(tmp_path_factory, model_path) -> Path:
    """One cache folder for the session, with both variants exported (the export itself is tested once here)."""
    cache = tmp_path_factory.mktemp("onnx-cache")
    for variant in ("fp32", "int8"):
        path = onnx_encoder.cached_onnx(model_path, cache, variant)
        assert path.is_file() and path.parent == cache
    return cache


def cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * b).sum(1)


def test_fp32_vectors_match_torch(torch_embedder, model_path, onnx_cache):
    reference = torch_embedder.encode(SENTENCES)
    onnx = Embedder(model_path, backend="onnx", cache_dir=onnx_cache).encode(SENTENCES)
    assert onnx.shape == reference.shape and onnx.dtype == np.float32
    assert np.allclose(np.linalg.norm(onnx, axis=1), 1.0, atol=1e-5)
    assert cosines(onnx, reference).min() >= 0.999
    assert np.abs(onnx - reference).max() < 1e-4  # the same model, not merely a close one


def test_int8_vectors_stay_close_to_torch(torch_embedder, model_path, onnx_cache):
    # Text only: an empty string (never a chunk, never a question) is [CLS][SEP] alone, where int8 reaches 0.97.
    texts = [s for s in SENTENCES if s]
    reference = torch_embedder.encode(texts)
    int8 = Embedder(model_path, backend="onnx-int8", cache_dir=onnx_cache).encode(texts)
    assert np.allclose(np.linalg.norm(int8, axis=1), 1.0, atol=1e-5)
    assert cosines(int8, reference).min() >= 0.98
    assert np.abs(int8 - reference).max() > 1e-4  # really quantized (a distinct identity in the index)


def test_batching_and_padding_do_not_change_a_vector(model_path, onnx_cache):
    encoder = Embedder(model_path, backend="onnx", cache_dir=onnx_cache)
    together = encoder.encode(SENTENCES, batch_size=4)  # padded to the longest of each batch, longest first
    alone = np.vstack([encoder.encode([s]) for s in SENTENCES])
    assert np.abs(together - alone).max() < 1e-5
    assert encoder.encode([]).shape == (0, 384)


def test_passes_are_packed_longest_first_within_their_text_and_word_piece_limits():
    lengths = [12, 200, 30, 30, 5, 300, 199, 64]
    passes = onnx_encoder.plan_batches(lengths, 64, 512)
    assert sorted(i for rows in passes for i in rows) == list(range(len(lengths)))  # every text once
    order = [i for rows in passes for i in rows]
    assert [lengths[i] for i in order] == sorted(lengths, reverse=True)  # longest first (ties in given order)
    for rows in passes:  # each pass within the limit, padding included (as wide as its first, longest text)...
        assert len(rows) == 1 or len(rows) * lengths[rows[0]] <= 512
    assert passes[0] == [5]  # ...and a text alone when it has to be: 300 + 200 padded to 600 > 512
    assert [len(rows) for rows in passes] == [1, 2, 5]  # 200 + 199 (400); then 64, 30, 30, 12, 5 (320)
    # The text count still caps a pass, and 0 word pieces means no word-piece limit: fixed passes as before.
    assert [len(rows) for rows in onnx_encoder.plan_batches(lengths, 3, 0)] == [3, 3, 2]
    assert [len(rows) for rows in onnx_encoder.plan_batches(lengths, 64, 10_000)] == [8]
    assert onnx_encoder.plan_batches([], 64, 512) == []
    assert onnx_encoder.plan_batches([600, 10, 10], 64, 512) == [[0], [1, 2]]  # longer than the limit: alone


@pytest.mark.parametrize("backend", ["onnx", "torch"])
def test_passes_packed_by_word_pieces_give_the_same_vectors(
    model_path, onnx_cache, torch_embedder, backend, monkeypatch
):
    cache = onnx_cache if backend != "torch" else None
    packed = Embedder(model_path, backend=backend, cache_dir=cache, batch_tokens=64)
    unpacked = Embedder(model_path, backend=backend, cache_dir=cache, batch_tokens=0)
    texts = SENTENCES * 3  # 18 texts of 3 to 256 word pieces: passes of one long text, and of several short ones
    planned = []
    plan = onnx_encoder.plan_batches
    monkeypatch.setattr(onnx_encoder, "plan_batches", lambda *a: planned.append(plan(*a)) or planned[-1])
    vectors = packed.encode(texts)
    assert len(planned) == 1 and len(planned[0]) > 3  # really cut into passes by word pieces
    assert vectors.shape == (len(texts), 384) and vectors.dtype == np.float32
    assert np.abs(vectors - torch_embedder.encode(texts)).max() < 1e-4
    assert np.abs(vectors - unpacked.encode(texts)).max() < 1e-5


def test_tokenization_matches_sentence_transformers(torch_embedder, model_path):
    tokenizer, pad_id = onnx_encoder.load_tokenizer(model_path, 256)
    expected = torch_embedder.model.tokenize(SENTENCES)["input_ids"].numpy()
    feed = onnx_encoder._feed(tokenizer.encode_batch(SENTENCES), onnx_encoder.INPUTS, pad_id)
    assert np.array_equal(feed["input_ids"], expected)  # truncation at 256, padding to the longest, [PAD] = 0
    assert feed["attention_mask"].sum(1).max() == 256


def test_the_export_is_cached_and_reused_without_torch(model_path, onnx_cache, monkeypatch):
    files = {p: p.stat().st_mtime_ns for p in onnx_cache.glob("*.onnx")}
    assert len(files) == 2

    def no_export(*args, **kwargs):
        raise AssertionError("exported again")

    monkeypatch.setattr(onnx_encoder, "export", no_export)
    monkeypatch.setattr(onnx_encoder, "quantize", no_export)
    Embedder(model_path, backend="onnx-int8", cache_dir=onnx_cache).encode(["reused"])
    assert {p: p.stat().st_mtime_ns for p in onnx_cache.glob("*.onnx")} == files
    # A second process finds the file and never imports torch (nor sentence-transformers or transformers).
    code = (
        "import sys\n"
        "from ingest.embed import Embedder\n"
        f"e = Embedder({model_path!r}, backend='onnx-int8', cache_dir={str(onnx_cache)!r})\n"
        "print(e.encode(['a fresh process']).shape)\n"
        "print(sorted(m for m in ('torch', 'transformers', 'sentence_transformers') if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.splitlines() == ["(1, 384)", "[]"]


def test_a_corrupt_cache_file_is_made_again(model_path, onnx_cache, tmp_path, torch_embedder):
    cache = tmp_path / "cache"
    shutil.copytree(onnx_cache, cache)
    int8 = onnx_encoder.cache_path(model_path, cache, "int8")
    good = int8.read_bytes()
    int8.write_bytes(good[: len(good) // 3])  # as if the disk lost the end of it
    vectors = Embedder(model_path, backend="onnx-int8", cache_dir=cache).encode(SENTENCES[:2])
    assert int8.stat().st_size == len(good)  # quantized again from the intact fp32 file (no torch export needed)
    assert cosines(vectors, torch_embedder.encode(SENTENCES[:2])).min() >= 0.98
    assert not list(cache.glob("*.tmp"))


def test_a_crash_mid_write_leaves_nothing_under_the_final_name(tmp_path):
    target = tmp_path / "model-abc-fp32.onnx"

    def half_written(tmp: Path) -> None:
        tmp.write_bytes(b"\x08\x07partial protobuf")
        raise KeyboardInterrupt  # killed mid-export

    with pytest.raises(KeyboardInterrupt):
        onnx_encoder._atomic_write(target, half_written, None)
    assert not target.exists() and list(tmp_path.iterdir()) == []

    def failing_check(tmp: Path) -> None:
        raise onnx_encoder.OnnxExportError("differs from torch")

    with pytest.raises(onnx_encoder.OnnxExportError):
        onnx_encoder._atomic_write(target, lambda tmp: tmp.write_bytes(b"x"), failing_check)
    assert list(tmp_path.iterdir()) == []


def fake_model_folder(path: Path, pooling: dict | None = None) -> Path:
    path.mkdir()
    (path / "config.json").write_text('{"hidden_size": 8}')
    (path / "tokenizer.json").write_text("{}")
    (path / "sentence_bert_config.json").write_text('{"max_seq_length": 16}')
    (path / "1_Pooling").mkdir()
    (path / "1_Pooling" / "config.json").write_text(json.dumps(pooling or {"pooling_mode_mean_tokens": True}))
    return path


def test_a_second_process_waits_for_the_export_and_reuses_it(tmp_path, monkeypatch):
    model = fake_model_folder(tmp_path / "model")
    cache = tmp_path / "cache"
    cache.mkdir()
    target = onnx_encoder.cache_path(model, cache, "fp32")
    monkeypatch.setattr(onnx_encoder, "export", lambda *a, **k: pytest.fail("exported although a file was made"))
    got: list[Path] = []
    with onnx_encoder._file_lock(cache / f".{target.stem}.lock"):  # "the first process", exporting
        waiter = threading.Thread(target=lambda: got.append(onnx_encoder.cached_onnx(model, cache, "fp32")))
        waiter.start()
        time.sleep(0.3)
        assert waiter.is_alive() and not got  # waits for the lock instead of exporting alongside
        target.write_bytes(b"made by the first process")
    waiter.join(10)
    assert got == [target] and target.read_bytes() == b"made by the first process"


def test_a_changed_model_folder_gets_its_own_cache_file(tmp_path):
    model = fake_model_folder(tmp_path / "model")
    (model / "model.safetensors").write_bytes(b"weights")
    before = onnx_encoder.cache_path(model, tmp_path, "int8")
    (model / "model.safetensors").write_bytes(b"other weights")
    assert onnx_encoder.cache_path(model, tmp_path, "int8") != before
    assert onnx_encoder.cache_path(model, tmp_path, "fp32") != onnx_encoder.cache_path(model, tmp_path, "int8")


def test_models_the_onnx_path_cannot_reproduce_are_refused(tmp_path):
    cls = fake_model_folder(tmp_path / "cls", {"pooling_mode_cls_token": True, "pooling_mode_mean_tokens": False})
    with pytest.raises(onnx_encoder.OnnxExportError, match="not mean pooling"):
        onnx_encoder.model_settings(cls)
    assert onnx_encoder.model_settings(fake_model_folder(tmp_path / "mean")) == {
        "max_length": 16,
        "lower_case": False,
        "dimension": 8,
    }


def test_backend_names_and_settings(tmp_path, monkeypatch):
    model = fake_model_folder(tmp_path / "model")
    names = {b: Embedder(model, backend=b, cache_dir=tmp_path).name for b in ("torch", "onnx", "onnx-int8")}
    assert "+" not in names["torch"]  # as before backends existed: indexes built then keep their identity
    assert names["onnx"] == names["torch"] + "+onnx" and names["onnx-int8"] == names["torch"] + "+onnx-int8"
    with pytest.raises(ValueError, match="cache folder"):
        Embedder(model, backend="onnx")
    with pytest.raises(ValueError, match="unknown embedding backend"):
        Embedder(model, backend="tensorflow")
    monkeypatch.setenv("EMBEDDING_BACKEND", "onnx-int9")
    with pytest.raises(ValueError):
        app_module.Settings(_env_file=None)
    monkeypatch.setenv("EMBEDDING_BACKEND", "onnx-int8")
    monkeypatch.delenv("EMBEDDING_CACHE", raising=False)  # the session's shared cache (conftest)
    monkeypatch.setenv("TORCH_THREADS", "3")  # the setting's former name is still read
    settings = app_module.Settings(_env_file=None, chroma_path=tmp_path / "index")
    assert settings.embed_threads == 3 and settings.embedding_cache_dir() == tmp_path / "index" / "models"
    embedder = app_module.build_embedder(settings)
    assert embedder.backend == "onnx-int8" and embedder.cache_dir == tmp_path / "index" / "models"


# --- the backend is part of the index's identity -----------------------------------------------------------------


def embedded_as(store, indexer) -> tuple[np.ndarray, np.ndarray]:
    """(stored vectors, the store's embedder's vectors of the same chunks' texts), row by row."""
    from ingest.load import discover, parse_document, read_sidecar, sidecar_entry

    found, sidecar = discover(CORPUS), read_sidecar(CORPUS)
    texts = {}
    for source, path in found.files:
        doc = parse_document(source, path, path.read_bytes(), sidecar_entry(sidecar, source))
        texts.update({c.chunk_id: c.embed_text for c in indexer.splitter.split(source, doc.text)})
    got = store.chunks.get(include=["embeddings"])
    assert sorted(got["ids"]) == sorted(texts)
    return np.asarray(got["embeddings"], dtype=np.float32), store.embedder.encode([texts[i] for i in got["ids"]])


def test_switching_the_backend_re_embeds_the_index(tmp_path, model_path, torch_embedder, onnx_cache):
    settings = app_module.Settings(
        _env_file=None,
        corpus_dir=CORPUS,
        chroma_path=tmp_path / "chroma",
        collection=f"t{uuid.uuid4().hex[:10]}",
        embedding_model=model_path,
        embedding_backend="torch",
        embedding_cache=onnx_cache,
        log_level="WARNING",
    )
    torch_store = app_module.build_store(settings, torch_embedder)
    first = app_module.build_indexer(settings, torch_store).run(CORPUS, progress=False)
    assert first.rebuilt == "" and first.chunks_embedded == first.chunks_total > 0

    int8_settings = settings.model_copy(update={"embedding_backend": "onnx-int8"})
    int8_store = app_module.build_store(int8_settings)
    with pytest.raises(click.ClickException, match="run `python app.py ingest`"):
        app_module.check_index_model(int8_store)  # `ask` and `eval` refuse to query torch vectors with int8 ones
    indexer = app_module.build_indexer(int8_settings, int8_store)
    switched = indexer.run(CORPUS, progress=False)
    assert switched.rebuilt == f"embedding model changed: {torch_embedder.name} -> {int8_store.embedder.name}"
    assert switched.as_dict()["rebuilt"] == switched.rebuilt
    # Every chunk embedded again (nothing reused from the torch vectors) into a new index version.
    assert switched.chunks_embedded == switched.chunks_total == first.chunks_total and switched.chunks_reused == 0
    assert int8_store.version(refresh=True) != "" and int8_store.versions() == [int8_store.version()]
    stored, fresh = embedded_as(int8_store, indexer)
    assert np.abs(stored - fresh).max() < 1e-5  # the int8 encoder's own vectors, not torch's that are close
    app_module.check_index_model(int8_store)  # now answers

    unchanged = app_module.build_indexer(int8_settings, int8_store).run(CORPUS, progress=False)
    assert unchanged.rebuilt == "" and unchanged.chunks_embedded == 0

    torch_again = app_module.build_store(settings, torch_embedder)
    indexer = app_module.build_indexer(settings, torch_again)
    back = indexer.run(CORPUS, progress=False)
    assert back.rebuilt.endswith(f"-> {torch_embedder.name}") and back.chunks_embedded == back.chunks_total
    stored, fresh = embedded_as(torch_again, indexer)
    assert np.abs(stored - fresh).max() < 1e-5


def test_ask_with_the_onnx_backend_never_imports_torch_nor_langchains_tracing(tmp_path, model_path, onnx_cache):
    """Nor LangChain's retriever base with langsmith, nor scipy: ~0.6 s of a ~2 s `ask` (see the README)."""
    env = {
        "PATH": "/usr/bin:/bin",
        "CORPUS_DIR": str(CORPUS),
        "CHROMA_PATH": str(tmp_path / "chroma"),
        "EMBEDDING_MODEL": model_path,
        "EMBEDDING_BACKEND": "onnx-int8",
        "EMBEDDING_CACHE": str(onnx_cache),
        "LOG_LEVEL": "WARNING",
    }
    ingest = subprocess.run(
        [sys.executable, "app.py", "ingest", "--json"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert ingest.returncode == 0, ingest.stderr[-3000:]
    code = (
        "import sys, app\n"
        "try:\n    app.cli.main(['ask', 'How cheap are small caps compared with the S&P 500?'], standalone_mode=False)\n"
        "finally:\n"
        "    heavy = ('torch', 'transformers', 'sentence_transformers', 'langsmith', 'langchain_core.retrievers',\n"
        "             'langchain_core.callbacks.manager', 'scipy', 'ingest.index')\n"
        "    print(sorted(m for m in heavy if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "15.6" in done.stdout and done.stdout.strip().splitlines()[-1] == "[]", done.stdout[-2000:]
    # Refused before the model is needed, while it still loads on its own thread (slowed down here): `ask` waits
    # for the load before it returns, or the process would exit while ONNX Runtime builds its session on the other
    # thread, which aborts it (exit status 134, 1 run in 3 before the wait).
    slow = (
        "import json, sys, threading, time, app\n"
        "from ingest import onnx_encoder\n"
        "real = onnx_encoder.open_encoder\n"
        "def slow(*a, **k):\n    time.sleep(5)\n    return real(*a, **k)\n"
        "onnx_encoder.open_encoder = slow\n"
        "app.cli.main(['ask', 'What is the capital of Australia?', '--json'], standalone_mode=False)\n"
        "print(json.dumps([t.name for t in threading.enumerate() if t.name == 'load-embedding-model']))\n"
    )
    refused = subprocess.run(
        [sys.executable, "-c", slow], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert refused.returncode == 0, (refused.returncode, refused.stderr[-3000:])
    *answer, loaders = refused.stdout.strip().splitlines()
    assert json.loads("\n".join(answer))["refused"] is True and json.loads(loaders) == []


def test_the_model_loads_in_the_background_once_and_the_first_encode_waits_for_it(model_path, onnx_cache, monkeypatch):
    opened = []
    real = onnx_encoder.open_encoder

    def counted(*args, **kwargs):
        opened.append(threading.current_thread().name)
        time.sleep(0.3)  # a slow load: the encode below arrives while it runs
        return real(*args, **kwargs)

    monkeypatch.setattr(onnx_encoder, "open_encoder", counted)
    encoder = Embedder(model_path, backend="onnx", cache_dir=onnx_cache)
    thread = encoder.load_in_background()
    vectors = encoder.encode(["loaded while the caller went on"])
    thread.join(timeout=60)
    assert opened == ["load-embedding-model"] and encoder.loaded
    assert vectors.shape == (1, 384) and abs(float(np.linalg.norm(vectors[0])) - 1) < 1e-5


def test_a_failed_background_load_is_made_again_by_the_first_encode(model_path, onnx_cache, monkeypatch):
    real, calls = onnx_encoder.open_encoder, []

    def fails_once(*args, **kwargs):
        calls.append(threading.current_thread().name)
        if len(calls) == 1:
            raise RuntimeError("the disk went away")
        return real(*args, **kwargs)

    monkeypatch.setattr(onnx_encoder, "open_encoder", fails_once)
    encoder = Embedder(model_path, backend="onnx", cache_dir=onnx_cache)
    encoder.load_in_background().join(timeout=60)
    assert not encoder.loaded
    assert encoder.encode(["loaded again"]).shape == (1, 384)
    assert calls == ["load-embedding-model", "MainThread"]


def test_only_an_exported_onnx_model_loads_in_the_background(model_path, onnx_cache, tmp_path):
    # a first export (or torch) takes seconds to minutes, for a question that may not need the model at all
    assert Embedder(model_path, backend="onnx", cache_dir=tmp_path / "empty").load_in_background() is None
    assert Embedder(model_path, backend="torch").load_in_background() is None
    assert Embedder(tmp_path / "no-model", backend="onnx", cache_dir=onnx_cache).load_in_background() is None
    with pytest.raises(FileNotFoundError, match="embedding model folder not found"):
        Embedder(tmp_path / "no-model", backend="onnx", cache_dir=onnx_cache).encode(["anything"])


def test_threads_follow_the_setting(model_path, onnx_cache, monkeypatch):
    from ingest import embed

    monkeypatch.setattr(embed, "_threads", 1)  # what `serve` sets (app.set_threads)
    encoder = Embedder(model_path, backend="onnx-int8", cache_dir=onnx_cache)
    first = encoder.encode(["one thread while serving"])
    assert encoder.model.threads == 1
    monkeypatch.setattr(embed, "_threads", 2)  # what `ingest` sets: the session is opened again at the next call
    again = encoder.encode(["one thread while serving"])
    assert encoder.model.threads == 2 and np.abs(first - again).max() < 1e-5


@pytest.mark.server
def test_serve_re_embeds_an_index_of_another_backend_before_serving(tmp_path, model_path, torch_embedder, onnx_cache):
    from conftest import ChatbotServer

    settings = app_module.Settings(
        _env_file=None,
        corpus_dir=CORPUS,
        chroma_path=tmp_path / "chroma",
        embedding_model=model_path,
        embedding_backend="torch",
        log_level="WARNING",
    )
    built = app_module.build_indexer(settings, app_module.build_store(settings, torch_embedder)).run(CORPUS)
    server = ChatbotServer(
        tmp_path,
        name="switched",
        env={
            "EMBEDDING_MODEL": model_path,
            "EMBEDDING_BACKEND": "onnx-int8",
            "EMBEDDING_CACHE": str(onnx_cache),
            "CORPUS_DIR": str(CORPUS),
            "LOG_LEVEL": "INFO",
        },
    ).start()
    try:
        import httpx

        answer = httpx.post(f"{server.base}/api/ask", json={"question": "How cheap are small caps?"}, timeout=60)
        assert answer.status_code == 200 and not answer.json()["refused"]
        assert httpx.get(f"{server.base}/healthz", timeout=10).json()["chunks"] == built.chunks_total
    finally:
        server.stop()
    assert "rebuilt: embedding model changed: model-" in server.log_tail() and "+onnx-int8" in server.log_tail()
    from ingest.store import index_model

    reopened = app_module.build_store(settings.model_copy(update={"embedding_backend": "onnx-int8"}))
    assert index_model(reopened) == reopened.embedder.name == f"{torch_embedder.name}+onnx-int8"
