"""The web app (port 8080): web chat at `/`, health check, chat API, admin at `/admin`.

The chat page talks to `/api/chat` on this same origin; the app forwards each
message to the Rasa REST channel, so only one port needs to be reachable from a
resident's phone.
"""
from __future__ import annotations

import asyncio
import logging
import os
import re
from pathlib import Path
from typing import Any, Dict, List, Optional

import aiohttp
from aiohttp import web

from sqlalchemy.orm import sessionmaker

from bot.db.engine import session_factory
from bot.handoff.relay import END_PAYLOAD, HANDOFF_CAPPED, Relay
from bot.settings import Settings
from bot.web.admin import add_routes as add_admin_routes
from bot.web.answers_admin import add_routes as add_answer_routes
from bot.web.library import add_routes as add_library_routes
from bot.web.auth import AdminAccounts
from bot.web.limits import LIMITS_KEY, WebLimits

logger = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).with_name("static")
MAX_MESSAGE_CHARS = 5000
SENDER_PATTERN = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
RASA_TIMEOUT = aiohttp.ClientTimeout(total=30)

SETTINGS_KEY = web.AppKey("settings", Settings)
SESSION_KEY = web.AppKey("http", aiohttp.ClientSession)
RELAY_KEY = web.AppKey("relay", Relay)
TOO_FAST = "Dạ, anh/chị nhắn nhanh quá, em chưa kịp đọc hết. Anh/chị đợi khoảng một phút rồi nhắn tiếp giúp em ạ."
RETRY_AFTER_SECONDS = "60"
# On every answer (pages, API, static files).
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "
        "form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


async def chat_page(request: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC_DIR / "chat.html")


async def health(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def chat_api(request: web.Request) -> web.Response:
    """POST {"sender": "...", "message": "..."} -> {"messages": [...]} from Rasa."""
    try:
        body = await request.json()
    except (ValueError, UnicodeDecodeError):
        return _error(400, "Yêu cầu không hợp lệ (cần JSON).")
    if not isinstance(body, dict):
        return _error(400, "Yêu cầu không hợp lệ.")
    sender, message = body.get("sender"), body.get("message")
    if not isinstance(sender, str) or not SENDER_PATTERN.match(sender):
        return _error(400, "Mã cuộc trò chuyện không hợp lệ.")
    if not isinstance(message, str):
        return _error(400, "Thiếu nội dung tin nhắn.")
    if len(message) > MAX_MESSAGE_CHARS:
        return _error(413, f"Tin nhắn dài quá {MAX_MESSAGE_CHARS} ký tự. Anh/chị gõ ngắn gọn hơn giúp em ạ.")
    limits = request.app[LIMITS_KEY]
    address = limits.client_address(request)
    if not limits.chat_allowed(address, sender):
        answer = _error(429, TOO_FAST)
        answer.headers["Retry-After"] = RETRY_AFTER_SECONDS
        return answer
    outcome = await request.app[RELAY_KEY].intercept(sender, message)
    replies = _clean(outcome.replies)
    if not outcome.to_assistant:  # a person of the commune's team has the conversation
        return web.json_response({"messages": replies})
    messages = await forward_to_rasa(request.app, sender, message, handoff_capped=limits.handoff_capped(address))
    if messages is None:
        return _error(502, "Trợ lý số đang bận, anh/chị thử lại sau ít phút ạ.")
    if opened_ticket(messages):
        limits.handoff_opened(address)
    return web.json_response({"messages": replies + messages})


async def chat_updates(request: web.Request) -> web.Response:
    """GET ?sender=...: messages that came outside an answer (the team's replies in a hand-off)."""
    sender = request.query.get("sender", "")
    if not SENDER_PATTERN.match(sender):
        return _error(400, "Mã cuộc trò chuyện không hợp lệ.")
    relay = request.app[RELAY_KEY]
    messages = await asyncio.to_thread(relay.residents.outbox.take, sender)
    return web.json_response({"messages": _clean(messages)})


def opened_ticket(messages: List[Dict[str, Any]]) -> bool:
    """An answer of the assistant that opened a hand-off ticket (it offers to end the hand-off)."""
    return any(button.get("payload") == END_PAYLOAD for m in messages for button in m.get("buttons", []))


async def forward_to_rasa(app: web.Application, sender: str, message: str, handoff_capped: bool = False) -> Any:
    """The assistant's answer; `handoff_capped`: the client address may open no more tickets now."""
    settings = app[SETTINGS_KEY]
    url = f"{settings.rasa_url}/webhooks/rest/webhook"
    body: Dict[str, Any] = {"sender": sender, "message": message}
    if handoff_capped:
        body["metadata"] = {HANDOFF_CAPPED: True}
    try:
        async with app[SESSION_KEY].post(url, json=body) as response:
            if response.status != 200:
                logger.warning("Rasa answered %s", response.status)
                return None
            return _clean(await response.json())
    except (aiohttp.ClientError, TimeoutError, ValueError) as error:
        logger.warning("Rasa unreachable: %s", error)
        return None


def _clean(messages: Any) -> List[Dict[str, Any]]:
    """Keep only what the page renders: text, buttons (title, payload), image."""
    cleaned: List[Dict[str, Any]] = []
    for item in messages if isinstance(messages, list) else []:
        if not isinstance(item, dict):
            continue
        entry: Dict[str, Any] = {}
        if isinstance(item.get("text"), str):
            entry["text"] = item["text"]
        if isinstance(item.get("image"), str):
            entry["image"] = item["image"]
        buttons = [
            {"title": str(b.get("title", "")), "payload": str(b.get("payload", ""))}
            for b in item.get("buttons") or []
            if isinstance(b, dict)
        ]
        if buttons:
            entry["buttons"] = buttons
        if entry:
            cleaned.append(entry)
    return cleaned


async def _client_session(app: web.Application):
    app[SESSION_KEY] = aiohttp.ClientSession(timeout=RASA_TIMEOUT)
    yield
    await app[SESSION_KEY].close()


async def security_headers(request: web.Request, response: web.StreamResponse) -> None:
    """on_response_prepare: every answer, streamed, static, redirect or error, gets them."""
    response.headers.update(SECURITY_HEADERS)


def create_app(settings: Settings, sessions: Optional[sessionmaker] = None) -> web.Application:
    """The web app; `sessions` is the database (default DATABASE_URL) of the admin area."""
    app = web.Application(client_max_size=256 * 1024)
    app.on_response_prepare.append(security_headers)
    app[SETTINGS_KEY] = settings
    app[LIMITS_KEY] = WebLimits.from_env()
    app.cleanup_ctx.append(_client_session)
    app.router.add_get("/", chat_page)
    app.router.add_get("/health", health)
    app.router.add_post("/api/chat", chat_api)
    app.router.add_get("/api/chat/updates", chat_updates)
    app.router.add_static("/static/", STATIC_DIR)
    sessions = sessions or session_factory()
    app[RELAY_KEY] = Relay.from_env(sessions)
    created = AdminAccounts(sessions).bootstrap_from_env(os.environ)
    if created:
        logger.info("Created the first admin account %r from ADMIN_USERNAME/ADMIN_PASSWORD", created)
    add_admin_routes(app, sessions)
    add_answer_routes(app)
    add_library_routes(app)
    return app


def run() -> None:
    settings = Settings.from_env()
    web.run_app(create_app(settings), host=settings.host, port=settings.web_port, print=None)
