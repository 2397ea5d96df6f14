"""The embeddable widget: `/widget.js` (the one-line loader other sites include; it checks the page's origin against
ALLOWED_EMBED_ORIGINS), `/widget` (the iframe page, whose CSP frame-ancestors enforces the same list) and its
script and style."""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from chat.web.context import WebContext, context
from chat.web.limits import ApiError

STATIC = Path(__file__).with_name("static")
WIDGET_JS = (STATIC / "widget.js").read_text(encoding="utf-8")
WIDGET_HTML = (STATIC / "widget.html").read_text(encoding="utf-8")
WIDGET_APP = (STATIC / "widget-app.js").read_text(encoding="utf-8")
WIDGET_CSS = (STATIC / "widget.css").read_text(encoding="utf-8")
router = APIRouter()
Context = Annotated[WebContext, Depends(context)]


def frame_ancestors(origins: list[str]) -> str:
    if "*" in origins:
        return "frame-ancestors *"
    return "frame-ancestors " + " ".join(["'self'", *origins])


@router.get("/widget.js")
def widget_loader(web: Context) -> Response:
    body = WIDGET_JS.replace("__ALLOWED_ORIGINS__", json.dumps(web.allowed_origins))
    return Response(
        body,
        media_type="application/javascript",
        headers={"Cache-Control": "no-cache", "Access-Control-Allow-Origin": "*"},
    )


@router.get("/widget")
def widget_page(request: Request, web: Context) -> Response:
    if len(request.url.query) > 1024:
        raise ApiError(400, "widget parameters too long (title: 60 characters, greeting: 240)")
    csp = (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        f"connect-src 'self'; base-uri 'none'; form-action 'none'; {frame_ancestors(web.allowed_origins)}"
    )
    examples = html.escape(json.dumps(web.examples[:3]), quote=True)  # a data attribute, read as JSON by app.js
    return Response(
        WIDGET_HTML.replace("__EXAMPLES__", examples),
        media_type="text/html",
        headers={"Content-Security-Policy": csp, "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"},
    )


@router.get("/widget/app.js")
def widget_script() -> Response:
    return Response(WIDGET_APP, media_type="application/javascript", headers={"X-Content-Type-Options": "nosniff"})


@router.get("/widget/app.css")
def widget_style() -> Response:
    return Response(WIDGET_CSS, media_type="text/css", headers={"X-Content-Type-Options": "nosniff"})
