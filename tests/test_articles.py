"""The articles behind the answers: the article viewer, the library (list, upload, remove), and how the chat window
and the widget point at them (chat.library, chat.web.articles, chat.web.admin, chat.web.ui's sources panel).

Unit tests mount one router on a bare app with a stand-in assistant; the model tests run the real ingest, index and
answers (the browser tests in tests/test_browser.py click through the same pages)."""

from __future__ import annotations

import json
import re
import shutil
import uuid
from pathlib import Path

import pytest
from conftest import index_settings
from fastapi import FastAPI
from fastapi.testclient import TestClient

import app as app_module
from chat.library import stitch
from chat.schema import Answer, ArticleInfo, ArticlePassage, ArticleText, Citation, SentenceInfo, article_path
from chat.web import articles
from chat.web.admin import AdminIngest, admin_router
from chat.web.api import install_errors
from chat.web.context import WebContext
from chat.web.limits import RateLimiter
from chat.web.ui import answer_markdown, cited_paragraphs, conversation_markdown, format_sources, welcome

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "corpus"

TEXT = (
    "# Small caps <b>lead</b>\n\nThe Russell 2000 rose 5% in January. Analysts cheered.\n\n"
    "## Outlook\n\nRates may fall <script>window.x=1</script> later in 2026."
)


def passages_of(text: str, cuts: list[tuple[int, int]]) -> list[ArticlePassage]:
    return [ArticlePassage(chunk_id=f"c{i}", start_char=a, end_char=b) for i, (a, b) in enumerate(cuts)]


ARTICLE = ArticleText(
    source="news/a b.md",
    title="Small caps <lead>",
    publisher="Wire",
    published="2026-01-12",
    url="javascript:alert(1)",
    chunks=2,
    text=TEXT,
    passages=passages_of(TEXT, [(0, 80), (60, len(TEXT))]),
)
OTHER = ArticleInfo(source="b.txt", title="Mid caps lag", publisher="Daily", published="2026-02-01", chunks=1)


class LibraryAssistant:
    mode = "extractive"

    def library(self) -> list[ArticleInfo]:
        return [ArticleInfo(**ARTICLE.model_dump(exclude={"text", "passages"})), OTHER]

    def article(self, source: str) -> ArticleText | None:
        return ARTICLE if source == ARTICLE.source else None


def client(*routers, admin: bool = False) -> TestClient:
    app = FastAPI()
    app.state.web = WebContext(LibraryAssistant(), lambda: {}, [], RateLimiter(100))
    app.state.web.library_admin, app.state.web.max_upload_mb = admin, 1.0
    install_errors(app)
    for router in routers or (articles.router,):
        app.include_router(router)
    return TestClient(app)


# --- putting an article together from its passages ---------------------------------------------------------------


def test_stitch_takes_overlaps_once_and_keeps_offsets_across_gaps():
    text = "Alpha beta gamma.\n\nDelta epsilon zeta. Eta theta."
    pieces = [(0, 17, text[0:17]), (11, 38, text[11:38]), (39, len(text), text[39:]), (19, 24, text[19:24])]
    whole = stitch(pieces)
    assert len(whole) == len(text)
    for start, end, piece in pieces:
        assert whole[start:end] == piece
    assert stitch([]) == ""


# --- the viewer ----------------------------------------------------------------------------------------------------


def test_blocks_cut_headings_and_paragraphs_and_anchor_the_first_marked_piece():
    sentence = TEXT.index("The Russell")
    marks = [(ARTICLE.passages[0].start_char, 80, "passage"), (sentence, sentence + 36, "hl")]
    blocks = articles.blocks(TEXT, marks)
    assert [b.kind for b in blocks] == ["heading", "para", "heading", "para"]
    assert "".join(s.text for s in blocks[0].segments) == "Small caps <b>lead</b>"  # the '# ' is not text
    anchored = [s for b in blocks for s in b.segments if s.anchor]
    assert len(anchored) == 1 and anchored[0].classes == "passage"
    highlighted = "".join(s.text for b in blocks for s in b.segments if "hl" in s.classes)
    assert highlighted == "The Russell 2000 rose 5% in January."


def test_a_heading_right_under_a_line_is_still_a_heading():
    text = "Intro line.\n## Outlook\nRates may fall.\n\n# Next"
    got = [(b.kind, "".join(s.text for s in b.segments)) for b in articles.blocks(text, [])]
    assert got == [("para", "Intro line."), ("heading", "Outlook"), ("para", "Rates may fall."), ("heading", "Next")]


def test_the_article_page_marks_the_cited_passage_and_sentence_under_a_strict_csp():
    c = client()
    start = TEXT.index("The Russell")
    page = c.get(f"{article_path(ARTICLE.source)}?chunk=c0&hl={start}-{start + 36}")
    assert page.status_code == 200
    csp = page.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "script-src 'self'" in csp and "'unsafe-inline'" not in csp
    html = page.text
    assert '<mark class="passage hl">The Russell 2000 rose 5% in January.</mark>' in html
    assert 'id="cited"' in html and "<script" not in html.split("<footer>")[0]
    assert "&lt;script&gt;window.x=1&lt;/script&gt;" in html and "&lt;b&gt;lead&lt;/b&gt;" in html  # text, not markup
    assert "Small caps &lt;lead&gt;" in html
    assert "javascript:" not in html  # an original link that is not a web address is not shown


def test_a_passage_no_longer_in_the_article_is_said_not_marked():
    html = client().get(f"{article_path(ARTICLE.source)}?chunk=gone&hl=0-5").text
    assert "no longer in this article" in html and "<mark" not in html
    html = client().get(f"{article_path(ARTICLE.source)}?chunk=c0&hl=70-9999").text  # a sentence outside: passage only
    assert '<mark class="passage"' in html and "hl" not in re.findall(r'<mark class="([^"]+)"', html)


def test_an_article_not_in_the_index_is_a_404_page():
    page = client().get("/articles/nope<script>.txt")
    assert page.status_code == 404 and "Not in the index" in page.text and "nope&lt;script&gt;.txt" in page.text


# --- the library -----------------------------------------------------------------------------------------------------


def test_the_article_list_searches_pages_and_sorts_newest_first():
    c = client()
    body = c.get("/api/articles").json()
    assert body["total"] == 2 and [a["source"] for a in body["articles"]] == ["b.txt", "news/a b.md"]
    assert c.get("/api/articles", params={"q": "wire 2026-01"}).json()["total"] == 1
    assert c.get("/api/articles", params={"q": "nothing like it"}).json() == {"total": 0, "articles": []}
    assert c.get("/api/articles", params={"limit": 1, "offset": 1}).json()["articles"][0]["source"] == "news/a b.md"
    assert c.get("/api/articles", params={"limit": 0}).status_code == 422


def test_the_library_page_lists_and_searches_and_offers_upload_only_to_an_admin_server():
    page = client().get("/library", params={"q": "mid caps"})
    assert page.status_code == 200 and "Mid caps lag" in page.text and "Small caps &lt;lead&gt;" not in page.text
    assert "1 match for" in page.text and 'id="upload"' not in page.text and "library.js" not in page.text
    admin = client(admin=True).get("/library").text
    assert 'id="upload"' in admin and '<script src="/site/library.js"></script>' in admin
    assert 'class="remove" data-source="news/a b.md" hidden' in admin  # shown once a token is typed
    assert client().get("/site/library.js").headers["content-type"].startswith("application/javascript")


# --- upload and remove ----------------------------------------------------------------------------------------------


class FakeIngest:
    """Records each run; reports a failed file when asked to."""

    def __init__(self, corpus: Path, problems: list[dict] | None = None) -> None:
        self.corpus, self.calls, self.problems = corpus, [], problems or []

    def __call__(self, corpus, rebuild, allow_empty, on_progress):
        self.calls.append((corpus, rebuild, allow_empty, sorted(p.name for p in self.corpus.rglob("*") if p.is_file())))
        on_progress(1, 1)
        return {"added": 1, "problems": self.problems}


def admin_client(tmp_path: Path, ingest=None, max_bytes: int = 1000) -> tuple[TestClient, FakeIngest]:
    ingest = ingest or FakeIngest(tmp_path)
    admin = AdminIngest("tok", ingest, library=(tmp_path, frozenset({".md", ".txt"})), max_upload_bytes=max_bytes)
    return client(admin_router(admin)), ingest


def events(response) -> list[dict]:
    return [json.loads(line) for line in response.text.splitlines() if line.strip()]


AUTH = {"Authorization": "Bearer tok"}


def test_an_upload_needs_the_token_and_is_checked_whole_before_anything_is_written(tmp_path):
    c, ingest = admin_client(tmp_path)
    files = [("files", ("a.md", b"# A\n\nText."))]
    assert c.post("/admin/articles", files=files).status_code == 401
    assert c.post("/admin/articles", files=files, headers={"Authorization": "Bearer nope"}).status_code == 401
    bad = [
        ([("files", ("a.md", b"ok")), ("files", ("run.exe", b"MZ"))], 400, "only .md, .txt"),
        ([("files", ("big.md", b"x" * 1001))], 413, "limit is"),
        ([("files", ("empty.md", b"  \n"))], 400, "is empty"),
        ([("files", ("a.md", b"1")), ("files", ("a.md", b"2"))], 400, "sent twice"),
        ([("files", (".md", b"x"))], 400, "only .md, .txt"),
    ]
    for parts, status, message in bad:
        reply = c.post("/admin/articles", files=parts, headers=AUTH)
        assert reply.status_code == status and message in reply.json()["error"], (parts, reply.text)
    assert c.post("/admin/articles", data={"x": "1"}, headers=AUTH).status_code == 400
    assert not (tmp_path / "uploads").exists() and ingest.calls == []


def test_upload_names_are_made_safe_without_losing_their_type(tmp_path):
    admin = AdminIngest("tok", FakeIngest(tmp_path), library=(tmp_path, frozenset({".md", ".pdf"})))
    long = "Why small caps " * 12 + ".pdf"
    assert admin.upload_name(long).endswith(".pdf") and len(admin.upload_name(long)) <= 104
    assert admin.upload_name("Über den Markt.md") == "Uber-den-Markt.md"
    assert re.fullmatch(r"upload-[0-9a-f]{10}\.md", admin.upload_name("日本.md"))
    assert admin.upload_name("C:\\Users\\me\\Notes v2.MD") == "Notes-v2.md"
    for bad in (".md", "notes.exe", "...", "  .md"):
        with pytest.raises(Exception, match="only .md, .pdf files can be ingested"):
            admin.upload_name(bad)


def test_an_upload_is_saved_under_uploads_with_a_safe_name_and_reported_per_file(tmp_path):
    c, ingest = admin_client(tmp_path)
    parts = [("files", ("../../etc/My Report (1).md", b"# R\n\nText.")), ("files", ("b.txt", b"Body."))]
    reply = c.post("/admin/articles", files=parts, headers=AUTH)
    assert reply.status_code == 200
    got = events(reply)
    assert got[0] == {"event": "progress", "done": 1, "total": 1}
    report = got[-1]["report"]
    assert report["files"] == [
        {"source": "uploads/My-Report-1.md", "status": "added", "reason": ""},
        {"source": "uploads/b.txt", "status": "added", "reason": ""},
    ]
    assert (tmp_path / "uploads" / "My-Report-1.md").read_bytes() == b"# R\n\nText."
    assert ingest.calls[0][3] == ["My-Report-1.md", "b.txt"]  # written before the ingest ran
    again = events(c.post("/admin/articles", files=parts[1:], headers=AUTH))[-1]["report"]["files"]
    assert again == [{"source": "uploads/b.txt", "status": "unchanged", "reason": ""}]
    changed = events(c.post("/admin/articles", files=[("files", ("b.txt", b"New."))], headers=AUTH))
    assert changed[-1]["report"]["files"][0]["status"] == "updated"


def test_a_file_the_ingest_could_not_read_is_reported_with_its_reason(tmp_path):
    problem = {"source": "uploads/x.md", "status": "failed", "reason": "no text"}
    c, _ = admin_client(tmp_path, FakeIngest(tmp_path, [problem]))
    report = events(c.post("/admin/articles", files=[("files", ("x.md", b"junk"))], headers=AUTH))[-1]["report"]
    assert report["files"] == [problem]


def test_remove_deletes_only_an_indexed_articles_own_file_and_ingests(tmp_path):
    (tmp_path / "a.md").write_text("# A\n\nText.")
    outside = tmp_path.parent / f"outside-{uuid.uuid4().hex}.md"
    outside.write_text("keep me")
    for name in ("metadata.json", "faq.jsonl", ".hidden.md"):
        (tmp_path / name).write_text("{}")
    (tmp_path / "link.md").symlink_to(outside)
    c, ingest = admin_client(tmp_path)
    indexed = {"a.md", "metadata.json", "faq.jsonl", ".hidden.md", "link.md", "gone.md"}
    c.app.state.web.assistant.library = lambda: [ArticleInfo(source=s) for s in indexed]
    for source in ("metadata.json", "faq.jsonl", ".hidden.md", "link.md", "gone.md", "b.md"):
        assert c.delete(f"/admin/articles/{source}", headers=AUTH).status_code == 404, source
    assert all((tmp_path / n).exists() for n in ("metadata.json", "faq.jsonl", ".hidden.md", "link.md"))
    assert c.delete("/admin/articles/a.md").status_code == 401
    for source in ("missing.md", f"..%2F{outside.name}", "%2E%2E/" + outside.name, ""):
        assert c.delete(f"/admin/articles/{source}", headers=AUTH).status_code in (404, 405), source
    assert outside.exists()
    reply = events(c.delete("/admin/articles/a.md", headers=AUTH))
    assert reply[-1]["report"]["files"] == [{"source": "a.md", "status": "removed", "reason": ""}]
    assert not (tmp_path / "a.md").exists() and ingest.calls[-1][2] is True  # may empty the index
    outside.unlink()


def test_the_library_routes_exist_only_with_a_corpus_folder():
    c = client(admin_router(AdminIngest("tok", FakeIngest(Path(".")))))
    assert c.post("/admin/articles", headers=AUTH).status_code == 404


# --- the chat window's sources panel, copy and export -------------------------------------------------------------

QUOTE = "Intro paragraph.\n\nThe Russell 2000 rose 5% in January. Analysts cheered.\n\nClosing words."
CITES = [
    Citation(n=1, source="a.txt", title="Small caps", publisher="Wire", published="2026-01-12", quote=QUOTE,
             highlight="The Russell 2000 rose 5% in January.", chunk_id="c1", start_char=100, end_char=100 + len(QUOTE),
             support=0.9, section="Markets"),
    Citation(n=2, source="a.txt", title="Small caps", publisher="Wire", published="2026-01-12", quote="Rates fell.",
             highlight="Rates fell.", chunk_id="c2", start_char=400, end_char=411, support=0.6),
]  # fmt: skip
ANSWER = Answer(
    question="How did small caps do?",
    refused=False,
    sentences=[
        SentenceInfo(text="The Russell 2000 rose 5% in January", citations=[1]),
        SentenceInfo(text="Rates fell", citations=[2]),
    ],
    citations=CITES,
)


def test_a_citation_links_to_its_passage_and_sentence_in_the_viewer():
    link = CITES[0].article_link
    assert link.startswith("/articles/a.txt?chunk=c1&hl=") and link.endswith("#cited")
    a, b = map(int, re.search(r"hl=(\d+)-(\d+)", link).groups())
    assert QUOTE[a - 100 : b - 100] == CITES[0].highlight
    odd = CITES[0].model_copy(update={"source": "dir/a b#?.txt", "highlight": "not in the quote"})
    assert odd.article_link == "/articles/dir/a%20b%23%3F.txt?chunk=c1#cited"
    assert Citation.model_validate(CITES[0].model_dump()).article_link == link  # survives a round trip


def test_the_sources_panel_groups_citations_by_article_and_trims_quotes_to_the_cited_paragraph():
    html = format_sources(ANSWER)
    assert html.count("class='art'") == 1 and html.count("Small caps</a>") == 1  # one title for both quotes
    assert "id='src-1'" in html and "id='src-2'" in html and html.count("Open in article") == 2
    assert "Intro paragraph" not in html and "Closing words" not in html and "… " in html
    assert "<mark>The Russell 2000 rose 5% in January.</mark>" in html
    assert cited_paragraphs(QUOTE, ["nothing"]) == QUOTE


def test_copy_and_export_write_the_answer_with_numbered_sources():
    text = answer_markdown(ANSWER)
    assert text.startswith("The Russell 2000 rose 5% in January. [1]")
    assert "Sources:\n1. Small caps — Wire, 2026-01-12. “The Russell 2000 rose 5% in January.”" in text
    conversation = [
        {"role": "user", "content": "How did &lt;small&gt; caps do?"},
        {"role": "assistant", "content": "x"},
    ]
    doc = conversation_markdown(conversation, {"1": ANSWER.to_dict()}, "Research")
    assert doc.startswith("# Research\n") and "**Q:** How did <small> caps do?" in doc and "**A:** The Russell" in doc
    assert "2. Small caps — Wire, 2026-01-12. “Rates fell.”" in doc


def test_the_empty_screen_lists_what_is_indexed_with_links():
    many = [
        ArticleInfo(source=f"{i}.txt", title=f"T{i} [x](http://e.vil)", published=f"2026-01-{i + 10}") for i in range(8)
    ]
    text = welcome(many, limit=3)
    assert "**Indexed: 8 articles**" in text and "[T7 &#91;x&#93;&#40;http&#58;//e.vil&#41;](/articles/7.txt)" in text
    assert "… and 5 more in the [library](/library)" in text
    assert "Nothing is indexed yet" in welcome([]) and "Indexed" not in welcome(None)


# --- with the real index -------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def library_app(tmp_path_factory, model_path, embedder):
    work = tmp_path_factory.mktemp("library")
    corpus = work / "corpus"
    shutil.copytree(CORPUS, corpus)
    settings = index_settings(corpus, work, model_path, admin_token="s3cret")
    store = app_module.build_store(settings, embedder)
    app_module.build_indexer(settings, store).run(corpus, progress=False)
    with TestClient(app_module.create_app(settings, store, admin_token="s3cret")) as c:
        yield c, corpus


def test_every_passage_is_its_slice_of_the_article_text(library_app):
    c, _ = library_app
    listed = c.get("/api/articles").json()
    assert listed["total"] == 2 and all(a["ingested"] and a["chunks"] > 1 for a in listed["articles"])
    assistant = c.app.state.web.assistant
    for info in listed["articles"]:
        article = assistant.article(info["source"])
        got = assistant.lexicon.collection.get(where={"source": info["source"]}, include=["documents", "metadatas"])
        by_id = dict(zip(got["ids"], got["documents"]))
        assert len(article.passages) == info["chunks"]
        for p in article.passages:
            assert article.text[p.start_char : p.end_char] == by_id[p.chunk_id]


def test_a_real_answer_opens_its_article_at_the_highlighted_sentence(library_app):
    c, _ = library_app
    answer = c.post("/api/ask", json={"question": "What is the maturity wall?"}).json()
    citation = answer["citations"][0]
    page = c.get(citation["article_link"])
    assert page.status_code == 200
    marked = re.findall(r'<mark class="passage hl"[^>]*>(.*?)</mark>', page.text, re.S)
    assert marked and marked[0] == citation["highlight"].replace('"', "&#34;")


def test_an_uploaded_article_is_answerable_at_once_and_gone_after_removal(library_app):
    c, corpus = library_app
    body = b"# Quokka Mining doubles output\n\nQuokka Mining said its copper output doubled to 40,000 tonnes in 2026.\n"
    reply = c.post(
        "/admin/articles", files=[("files", ("quokka.md", body))], headers={"Authorization": "Bearer s3cret"}
    )
    report = events(reply)[-1]["report"]
    assert report["files"] == [{"source": "uploads/quokka.md", "status": "added", "reason": ""}]
    assert c.get("/api/articles", params={"q": "quokka"}).json()["total"] == 1
    answer = c.post("/api/ask", json={"question": "How much copper did Quokka Mining produce in 2026?"}).json()
    assert not answer["refused"] and "40,000" in answer["answer"]
    gone = events(c.delete("/admin/articles/uploads/quokka.md", headers={"Authorization": "Bearer s3cret"}))
    assert gone[-1]["report"]["deleted"] == 1 and not (corpus / "uploads" / "quokka.md").exists()
    assert c.get("/api/articles", params={"q": "quokka"}).json()["total"] == 0
    assert c.get("/articles/uploads/quokka.md").status_code == 404


def test_the_library_is_read_only_without_an_admin_token(tmp_path, model_path, embedder):
    settings = index_settings(CORPUS, tmp_path, model_path)
    store = app_module.build_store(settings, embedder)
    with TestClient(app_module.create_app(settings, store, admin_token="random-per-start")) as c:
        assert 'id="upload"' not in c.get("/library").text
        upload = c.post("/admin/articles", files=[("files", ("a.md", b"x"))], headers={"Authorization": "Bearer x"})
        assert upload.status_code in (404, 405)


def test_the_server_log_has_one_line_per_question_and_no_access_log(tmp_path, model_path):
    import httpx
    from conftest import ChatbotServer

    server = ChatbotServer(tmp_path, name="logs", env={"EMBEDDING_MODEL": model_path, "CORPUS_DIR": str(CORPUS),
                                                       "LOG_LEVEL": "INFO"}).start()  # fmt: skip
    try:
        httpx.get(server.base + "/", timeout=30)
        httpx.get(server.base + "/library", timeout=30)
        httpx.post(server.base + "/api/ask", json={"question": "What is the maturity wall?"}, timeout=60)
        httpx.post(server.base + "/api/ask", json={"question": "What is the best cake recipe?"}, timeout=60)
    finally:
        server.stop()
    log = server.log_path.read_text(encoding="utf-8")
    lines = [line for line in log.splitlines() if " question " in line and "chat.assistant" in line]
    assert len(lines) == 2, log  # the warm-up's question is not a user's
    assert re.search(r"INFO chat\.assistant: \w+ question answered in \d+ ms, \d+ sources?$", lines[0]), lines
    assert re.search(r"question refused \(not_covered\) in \d+ ms, 0 sources$", lines[1]), lines
    assert "maturity" not in log.lower() and "cake" not in log  # never the question's text
    assert '"GET /' not in log and '"POST /api/ask' not in log  # no access log unless ACCESS_LOG is set


def test_an_anonymous_upload_is_refused_before_its_body_is_read(tmp_path):
    """The upload limit is large, so only the token holder may send that much: without the token the guard answers
    401 from the headers alone (a declared 50 MB body is not read); with it, the size limit applies."""
    from chat.web.limits import WebGuard

    admin = AdminIngest("tok", FakeIngest(tmp_path), library=(tmp_path, frozenset({".md"})), max_upload_bytes=1000)
    app = FastAPI()
    app.state.web = WebContext(LibraryAssistant(), lambda: {}, [], RateLimiter(100))
    install_errors(app)
    app.include_router(admin_router(admin))
    app.add_middleware(WebGuard, limit=100, ui_limit=400, upload_limit=2000, upload_authorized=admin.authorized)
    c = TestClient(app)
    huge = {"content-type": "multipart/form-data; boundary=x", "content-length": str(50_000_000)}
    assert c.post("/admin/articles", content=b"--x--", headers=huge).status_code == 401
    assert c.post("/admin/articles", content=b"--x--", headers={**huge, **AUTH}).status_code == 413
    ok = c.post("/admin/articles", files=[("files", ("a.md", b"# A\n\n" + b"x" * 900))], headers=AUTH)
    assert ok.status_code == 200 and events(ok)[-1]["report"]["files"][0]["status"] == "added"
