"""The README's screenshots, at desktop (1280×900) and phone (390×844) size, written to .ci/screenshots/.

    .venv/bin/python .ci/screenshots.py

Starts `app.py serve` over a copy of corpus/ (with an ADMIN_TOKEN, so the library shows its upload panel) and a
stand-in third-party site that embeds the widget, then drives Debian's chromium: the empty screen, an answer with
its sources (on a phone: the sources sheet opened from a marker), the article viewer opened from a citation, the
library, and the widget open on the third-party page. Regenerate after a visible change to the window or widget.
"""

from __future__ import annotations

import http.server
import shutil
import sys
import tempfile
import threading
from pathlib import Path

from playwright.sync_api import Page, expect, sync_playwright

from benchmarks.harness import ChatbotServer

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / ".ci" / "screenshots"
SIZES = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}
QUESTION = "How does the maturity wall affect small caps differently than large caps?"
TOKEN = "screenshot-admin-token"
ANSWER_TIMEOUT = 90_000


def third_party_site(chatbot: str) -> http.server.ThreadingHTTPServer:
    page = (ROOT / "tests" / "data" / "web" / "embed.html").read_text(encoding="utf-8").replace("__CHATBOT__", chatbot)

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            body = page.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:
            pass

    site = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=site.serve_forever, daemon=True).start()
    return site


def shoot(page: Page, name: str, size: str) -> None:
    page.mouse.move(0, 0)
    page.wait_for_timeout(400)  # transitions (the phone's sources sheet slides in)
    path = OUT / f"{name}-{size}.png"
    page.screenshot(path=str(path))
    print(f"wrote {path.relative_to(ROOT)}")


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="screenshots-"))
    shutil.copytree(ROOT / "corpus", work / "corpus")
    server = ChatbotServer(work, env={"CORPUS_DIR": str(work / "corpus"), "ADMIN_TOKEN": TOKEN})
    try:
        server.start()
        site = third_party_site(server.base)
        server.env["ALLOWED_EMBED_ORIGINS"] = f"http://127.0.0.1:{site.server_address[1]}"
        server.stop()
        server.start()  # again, with the site's origin allowed to embed the widget
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path="/usr/bin/chromium", args=["--headless", "--no-sandbox", "--disable-gpu"]
            )
            for size, viewport in SIZES.items():
                context = browser.new_context(viewport=viewport)
                page = context.new_page()
                page.goto(server.base + "/")
                expect(page.locator("#chat")).to_contain_text("Indexed: 2 articles", timeout=30_000)
                shoot(page, "empty", size)

                page.locator("#question textarea").fill(QUESTION)
                page.locator("#question textarea").press("Enter")
                cite = page.locator("#chat .cite").first
                expect(cite).to_be_visible(timeout=ANSWER_TIMEOUT)
                cite.click()
                shoot(page, "answer", size)

                link = page.locator("#sources .src a.open").first.get_attribute("href")
                viewer = context.new_page()
                viewer.goto(server.base + link)
                expect(viewer.locator("mark.hl").first).to_be_visible()
                shoot(viewer, "article", size)

                viewer.goto(server.base + "/library")
                viewer.locator("#admin summary").click()
                viewer.locator("#token").fill(TOKEN)
                shoot(viewer, "library", size)

                host = context.new_page()
                host.goto(f"http://127.0.0.1:{site.server_address[1]}/embed.html")
                host.locator("#research-chatbot-button").click()
                frame = host.frame_locator("#research-chatbot-frame")
                frame.locator(".suggest.starter .chip").first.click()
                expect(frame.locator(".sources .open").first).to_be_visible(timeout=ANSWER_TIMEOUT)
                frame.locator(".msg.bot button.cite").first.click()
                shoot(host, "widget", size)
                context.close()
            browser.close()
        site.shutdown()
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
