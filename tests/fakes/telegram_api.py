"""A fake Telegram Bot API: `{base}/bot<token>/<method>`, as python-telegram-bot calls it."""
from __future__ import annotations

import asyncio
import itertools
import json
import time
from typing import Any, Dict, List

from aiohttp import web

from tests.fakes.server import Call, FakeServer

JSON_FIELDS = {
    "reply_markup", "allowed_updates", "chat_id", "offset", "timeout", "limit", "cache_time", "results",
    "message_id", "reply_to_message_id", "reply_parameters",
}
BOT_USER = {"id": 7000001, "is_bot": True, "first_name": "Trợ lý số", "username": "tro_ly_so_bot"}


class FakeTelegram(FakeServer):
    def __init__(self, token: str = "7000001:TEST-token") -> None:
        super().__init__()
        self.token = token
        self.failures: Dict[str, List[Dict[str, Any]]] = {}
        self.pending_updates: List[Dict[str, Any]] = []
        self._message_ids = itertools.count(1)
        self._update_ids = itertools.count(10_000)

    @property
    def base_url(self) -> str:
        """What TELEGRAM_API_BASE_URL is set to (PTB appends the token)."""
        return f"{self.base}/bot"

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/bot{token}/{method}", self.handle)

    # -- test controls ------------------------------------------------------
    def fail_next(self, method: str, status: int, description: str, **parameters: Any) -> None:
        body = {"ok": False, "error_code": status, "description": description}
        if parameters:
            body["parameters"] = parameters
        self.failures.setdefault(method, []).append({"status": status, "body": body})

    def sent_to(self, chat_id: int, method: str = "sendMessage"):  # noqa: ANN201
        return lambda call: call.method == method and call.params.get("chat_id") == chat_id

    def queue_update(self, update: Dict[str, Any]) -> None:
        """For getUpdates (polling mode)."""
        self.pending_updates.append(update)

    def next_update_id(self) -> int:
        return next(self._update_ids)

    # -- the API --------------------------------------------------------------
    async def handle(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.json_response({"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401)
        method = request.match_info["method"]
        params = await self._params(request)
        call = Call(method, params, dict(request.headers))
        if self.failures.get(method):
            self.record(call)
            failure = self.failures[method].pop(0)
            return web.json_response(failure["body"], status=failure["status"])
        call.result = await self.result(method, params)
        self.record(call)
        return web.json_response({"ok": True, "result": call.result})

    async def result(self, method: str, params: Dict[str, Any]) -> Any:
        if method == "getMe":
            return {**BOT_USER, "can_join_groups": True, "can_read_all_group_messages": False, "supports_inline_queries": True}
        if method in {"sendMessage", "sendPhoto"}:
            chat_id = params.get("chat_id")
            chat_type = "supergroup" if isinstance(chat_id, int) and chat_id < 0 else "private"
            return {
                "message_id": next(self._message_ids), "date": int(time.time()),
                "chat": {"id": chat_id, "type": chat_type}, "from": BOT_USER,
                "text": params.get("text", ""),
            }
        if method == "getUpdates":
            for _ in range(10):
                if self.pending_updates:
                    break
                await asyncio.sleep(0.1)
            updates, self.pending_updates = self.pending_updates, []
            return updates
        return True  # answerCallbackQuery, setWebhook, deleteWebhook, answerInlineQuery ...

    @staticmethod
    async def _params(request: web.Request) -> Dict[str, Any]:
        if request.content_type == "application/json":
            body = await request.json()
            return body if isinstance(body, dict) else {}
        form = await request.post()
        params: Dict[str, Any] = {}
        for key, value in form.items():
            if key in JSON_FIELDS and isinstance(value, str):
                try:
                    value = json.loads(value)
                except ValueError:
                    pass
            params[key] = value
        return params


def private_text_update(update_id: int, chat_id: int, text: str, message_id: int = 1) -> Dict[str, Any]:
    """A resident's message, as Telegram posts it to the webhook."""
    user = {"id": chat_id, "is_bot": False, "first_name": "Bác", "language_code": "vi"}
    return {
        "update_id": update_id,
        "message": {
            "message_id": message_id, "date": int(time.time()), "text": text,
            "chat": {"id": chat_id, "type": "private", "first_name": "Bác"}, "from": user,
        },
    }


def callback_update(update_id: int, chat_id: int, data: str, query_id: str = "cbq-1") -> Dict[str, Any]:
    """A resident pressing an inline button under one of the bot's messages."""
    user = {"id": chat_id, "is_bot": False, "first_name": "Bác"}
    return {
        "update_id": update_id,
        "callback_query": {
            "id": query_id, "from": user, "chat_instance": "ci-1", "data": data,
            "message": {
                "message_id": 99, "date": int(time.time()), "text": "…",
                "chat": {"id": chat_id, "type": "private"}, "from": BOT_USER,
            },
        },
    }


def team_member(user_id: int = 8800001, first_name: str = "Lan", last_name: str = "Nguyễn") -> Dict[str, Any]:
    return {"id": user_id, "is_bot": False, "first_name": first_name, "last_name": last_name}


def group_reply_update(update_id: int, chat_id: int, replied_to: Dict[str, Any], text: str, member=None) -> Dict[str, Any]:
    """A team member's reply, in the team's group, to one of the bot's messages (`replied_to`: sendMessage's result)."""
    return {
        "update_id": update_id,
        "message": {
            "message_id": 50_000 + update_id, "date": int(time.time()), "text": text,
            "chat": {"id": chat_id, "type": "supergroup", "title": "Tổ CNS"}, "from": member or team_member(),
            "reply_to_message": replied_to,
        },
    }


def group_callback_update(update_id: int, chat_id: int, message: Dict[str, Any], data: str, member=None) -> Dict[str, Any]:
    """A team member pressing a button under the bot's message in the group."""
    return {
        "update_id": update_id,
        "callback_query": {
            "id": f"gcb-{update_id}", "from": member or team_member(), "chat_instance": "ci-group", "data": data,
            "message": message,
        },
    }


def inline_query_update(update_id: int, user_id: int, query: str) -> Dict[str, Any]:
    """A team member typing `@bot <query>` in any chat."""
    return {
        "update_id": update_id,
        "inline_query": {
            "id": f"iq-{update_id}", "from": team_member(user_id), "query": query, "offset": "", "chat_type": "private",
        },
    }
