"""A fake Zalo OpenAPI (send) and OAuth (token refresh) server, with signed webhook events."""
from __future__ import annotations

import itertools
import json
import time
from typing import Any, Dict, List, Optional, Tuple

from aiohttp import web

from bot.channels.zalo import signature
from tests.fakes.server import Call, FakeServer


class FakeZalo(FakeServer):
    """Serves both ZALO_API_BASE_URL and ZALO_OAUTH_BASE_URL."""

    def __init__(self, app_secret: str = "app-secret-test", access_token: str = "at-0", refresh_token: str = "rt-0") -> None:
        super().__init__()
        self.app_secret = app_secret
        self.valid_access_token = access_token
        self.valid_refresh_token = refresh_token
        self.send_failures: List[Tuple[int, Dict[str, Any]]] = []  # (HTTP status, body) for the next sends
        self._generation = itertools.count(1)
        self._message_ids = itertools.count(1)

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/v3.0/oa/message/cs", self.send)
        app.router.add_post("/v4/oa/access_token", self.refresh)

    # -- test controls ------------------------------------------------------
    def expire_access_token(self) -> None:
        """The current access token stops working (Zalo answers -216)."""
        self.valid_access_token = f"expired-{time.monotonic()}"

    def fail_next_send(self, error: int, http_status: int = 200, message: str = "fake failure") -> None:
        self.send_failures.append((http_status, {"error": error, "message": message}))

    def sent_to(self, user_id: str):  # noqa: ANN201
        return lambda call: call.method == "send" and call.params["recipient"]["user_id"] == user_id

    # -- the API --------------------------------------------------------------
    async def send(self, request: web.Request) -> web.Response:
        try:
            body = await request.json()
        except ValueError:
            return web.json_response({"error": -201, "message": "Body is not JSON"})
        self.record(Call("send", body, dict(request.headers)))
        if request.headers.get("access_token") != self.valid_access_token:
            return web.json_response({"error": -216, "message": "Access token is invalid"})
        if self.send_failures:
            status, answer = self.send_failures.pop(0)
            return web.json_response(answer, status=status)
        user = body["recipient"]["user_id"]
        return web.json_response(
            {"error": 0, "message": "Success", "data": {"message_id": f"m{next(self._message_ids)}", "user_id": user}}
        )

    async def refresh(self, request: web.Request) -> web.Response:
        form = dict(await request.post())
        self.record(Call("refresh", form, dict(request.headers)))
        if request.headers.get("secret_key") != self.app_secret:
            return web.json_response({"error": -14002, "error_name": "Invalid secret key"})
        if form.get("grant_type") != "refresh_token" or form.get("refresh_token") != self.valid_refresh_token:
            return web.json_response({"error": -14014, "error_name": "Invalid refresh token"})
        generation = next(self._generation)
        self.valid_access_token = f"at-{generation}"
        self.valid_refresh_token = f"rt-{generation}"
        return web.json_response(
            {"access_token": self.valid_access_token, "refresh_token": self.valid_refresh_token, "expires_in": "90000"}
        )


class ZaloEvents:
    """Webhook deliveries as Zalo signs them."""

    def __init__(self, app_id: str, oa_secret_key: str, oa_id: str = "388613280878808645") -> None:
        self.app_id = app_id
        self.oa_secret_key = oa_secret_key
        self.oa_id = oa_id
        self._ids = itertools.count(1)

    def next_msg_id(self) -> str:
        return f"msg{time.time_ns()}{next(self._ids)}"

    def event(self, name: str, user_id: str, message: Optional[Dict[str, Any]] = None, timestamp: Optional[int] = None) -> Dict[str, Any]:
        event: Dict[str, Any] = {
            "app_id": self.app_id, "user_id_by_app": "55" + user_id, "event_name": name,
            "timestamp": str(timestamp if timestamp is not None else int(time.time() * 1000)),
            "sender": {"id": user_id}, "recipient": {"id": self.oa_id},
        }
        if name == "follow":
            event["follower"] = {"id": user_id}
            event["source"] = "oa_profile"
        if message is not None:
            event["message"] = message
        return event

    def text(self, user_id: str, text: str, msg_id: Optional[str] = None) -> Dict[str, Any]:
        return self.event("user_send_text", user_id, {"text": text, "msg_id": msg_id or self.next_msg_id()})

    def sign(self, event: Dict[str, Any]) -> Tuple[bytes, Dict[str, str]]:
        """The exact bytes to post and the headers Zalo would send with them."""
        raw = json.dumps(event, ensure_ascii=False).encode("utf-8")
        mac = signature(self.app_id, raw, event["timestamp"], self.oa_secret_key)
        return raw, {"Content-Type": "application/json", "X-ZEvent-Signature": f"mac={mac}"}
