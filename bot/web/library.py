"""The answer library at /library: search every scripted answer, copy it, print a handout.

Public pages (no login) for community-team volunteers and residents:

- ``GET /library?q=...&topic=...``: search box and topic filter; the results
  are rendered here, server-side (the page works without JavaScript; the
  script only adds the copy buttons' clipboard work and auto-submits the
  topic filter).
- ``GET /library/print/{topic}[?entry=<id>]``: the printable handout of a
  topic (or of one entry of it): large type, one journey or answer per page.

The entries come from :mod:`bot.library` (generated from the domain and the
journeys); everything shown goes through Jinja2 with autoescape on, so a query
like ``<script>`` is shown as text, never run.
"""
from __future__ import annotations

import asyncio
import logging
import re
from pathlib import Path
from typing import Any, Optional

import jinja2
from aiohttp import web

from bot.answers.published import library_catalogue as catalogue
from bot.library.catalogue import JOURNEY
from bot.library.search import prepare, search

logger = logging.getLogger(__name__)

TEMPLATES = Path(__file__).with_name("templates")
MAX_QUERY_CHARS = 200
MAX_RESULTS = 20
HEADERS = {
    "Cache-Control": "no-cache",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
}

environment = jinja2.Environment(
    loader=jinja2.FileSystemLoader(str(TEMPLATES)),
    autoescape=True,
    trim_blocks=True,
    lstrip_blocks=True,
)
environment.globals["JOURNEY"] = JOURNEY
_STEP_LABEL = re.compile(r"^(Bước \d+\.) (.*)$", re.DOTALL)


def step_parts(message: str) -> tuple:
    """('Bước 3.', the rest) of a journey step, ('', message) of anything else (shown in bold / plain)."""
    match = _STEP_LABEL.match(message)
    return (match.group(1), match.group(2)) if match else ("", message)


environment.filters["step_parts"] = step_parts


def render(name: str, status: int = 200, **context: Any) -> web.Response:
    library = catalogue()
    html = environment.get_template(name).render(topics=library.topics, library=library, **context)
    response = web.Response(text=html, status=status, content_type="text/html", charset="utf-8")
    response.headers.update(HEADERS)
    return response


def clean_query(raw: str) -> tuple:
    """(query, was it cut): control characters dropped, at most MAX_QUERY_CHARS."""
    text = "".join(ch if ch.isprintable() else " " for ch in raw or "").strip()
    if len(text) > MAX_QUERY_CHARS:
        return text[:MAX_QUERY_CHARS].rstrip(), True
    return text, False


async def library_page(request: web.Request) -> web.Response:
    library = catalogue()
    query, cut = clean_query(request.query.get("q", ""))
    notices = []
    if cut:
        notices.append(f"Câu tìm kiếm dài quá; em chỉ dùng {MAX_QUERY_CHARS} ký tự đầu.")
    topic: Optional[str] = request.query.get("topic") or None
    if topic is not None and library.topic(topic) is None:
        notices.append("Không có chủ đề này; đang tìm trong mọi chủ đề.")
        topic = None
    results = search(query, limit=MAX_RESULTS if query else 0, topic=topic, library=library)
    return render(
        "library/index.html", query=query, topic=topic, results=results, notices=notices,
        topic_label=library.topic_label(topic) if topic else None,
    )


async def print_page(request: web.Request) -> web.Response:
    library = catalogue()
    topic = library.topic(request.match_info["topic"])
    if topic is None:
        return not_found("Không có chủ đề này trong thư viện.")
    entries = library.in_topic(topic.key)
    entry_id = request.query.get("entry")
    if entry_id:
        entries = [e for e in entries if e.id == entry_id]
        if not entries:
            return not_found("Không có câu trả lời này trong chủ đề.")
    return render("library/print.html", topic=topic, entries=entries, single=bool(entry_id))


def not_found(message: str) -> web.Response:
    return render("library/not_found.html", status=404, message=message)


async def _warm_up(app: web.Application) -> None:
    """Build the catalogue and the search index before the first visitor waits for it."""
    try:
        await asyncio.get_running_loop().run_in_executor(None, prepare)
    except Exception:  # noqa: BLE001 - the chat must start even if the library data is broken
        logger.exception("The answer library could not be built")


def add_routes(app: web.Application) -> None:
    app.router.add_get("/library", library_page)
    app.router.add_get("/library/print/{topic}", print_page)
    app.on_startup.append(_warm_up)
