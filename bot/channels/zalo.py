"""Zalo Official Account (webhook `/webhooks/zalo/webhook`).

Each request is checked against `X-ZEvent-Signature: mac=<sha256 hex of
app_id + raw body + timestamp + OA secret key>` in constant time, and refused
when its timestamp is more than five minutes away from now. `user_send_text`
goes to the assistant, `follow` gets the welcome and menu, pictures, stickers,
voice, files and locations get the "please type" answer, and the OA's own
`oa_send_*` echoes are ignored. Re-deliveries (same `msg_id`) are answered
once, also across a restart.

Buttons become template buttons of type `oa.query.show`. Zalo posts such a
button's payload back as the resident's own, visible chat message, so the
payload we send is the button's title and the tap is mapped back to the
assistant's payload (see OfferedButtons).
"""
from __future__ import annotations

import hashlib
import hmac
import logging
import os
import re
import time
from dataclasses import dataclass
from typing import Any, Dict, List, Mapping, Optional

from rasa.core.channels.channel import InputChannel, OutputChannel
from sanic.request import Request

from bot.channels.common import (
    NON_TEXT,
    TEXT,
    WELCOME,
    Incoming,
    MalformedDelivery,
    MessengerOutput,
    OfferedButtons,
    WebhookInput,
    messenger_id,
)
from bot.channels import registry
from bot.channels.zalo_client import TokenStore, ZaloClient
from bot.db.engine import session_factory

logger = logging.getLogger(__name__)

CHANNEL = "zalo"
SIGNATURE_HEADER = "X-ZEvent-Signature"
MAX_CLOCK_SKEW_MS = 5 * 60 * 1000
TIMESTAMP = re.compile(r"^[0-9]{1,16}$")  # ASCII digits only: str.isdigit() takes "²" and "١"
MESSAGE_LIMIT = 2000
BUTTON_TITLE_LIMIT = 100
BUTTON_PAYLOAD_LIMIT = 1000
NON_TEXT_EVENTS = {
    "user_send_image", "user_send_file", "user_send_audio", "user_send_video", "user_send_sticker",
    "user_send_gif", "user_send_location", "user_send_business_card", "user_send_link",
}
IGNORED_EVENTS = {"unfollow", "user_seen_message", "user_received_message", "user_click_chatnow"}


@dataclass(frozen=True)
class ZaloConfig:
    app_id: str
    oa_secret_key: str
    access_token: str
    refresh_token: str
    app_secret: str
    api_base_url: str
    oauth_base_url: str

    @classmethod
    def from_env(cls, env: Optional[Mapping[str, str]] = None) -> "ZaloConfig":
        env = os.environ if env is None else env
        get = lambda name, default="": env.get(name, "").strip() or default  # noqa: E731
        return cls(
            app_id=get("ZALO_APP_ID"),
            oa_secret_key=get("ZALO_OA_SECRET_KEY"),
            access_token=get("ZALO_ACCESS_TOKEN"),
            refresh_token=get("ZALO_REFRESH_TOKEN"),
            app_secret=get("ZALO_APP_SECRET"),
            api_base_url=get("ZALO_API_BASE_URL", "https://openapi.zalo.me"),
            oauth_base_url=get("ZALO_OAUTH_BASE_URL", "https://oauth.zaloapp.com"),
        )


def signature(app_id: str, raw_body: bytes, timestamp: str, oa_secret_key: str) -> str:
    """The hex digest Zalo puts after `mac=`."""
    return hashlib.sha256(app_id.encode() + raw_body + timestamp.encode() + oa_secret_key.encode()).hexdigest()


class ZaloOutput(MessengerOutput):
    """Sends the assistant's messages to a Zalo user."""

    @classmethod
    def name(cls) -> str:
        return CHANNEL

    def __init__(self, client: ZaloClient, offered: OfferedButtons) -> None:
        super().__init__()
        self.client = client
        self.offered = offered

    message_limit = MESSAGE_LIMIT

    async def send_part(self, recipient_id: str, text: str, buttons: Optional[List[Dict[str, Any]]] = None) -> None:
        user = messenger_id(recipient_id)
        message: Dict[str, Any] = {"text": text}
        if buttons:
            template, offered = self.template_buttons(buttons)
            self.offered.remember(CHANNEL, user, offered)
            message["attachment"] = {"type": "template", "payload": {"buttons": template}}
        await self.client.send(user, message)

    @staticmethod
    def template_buttons(buttons: List[Dict[str, Any]]):  # noqa: ANN205
        """Zalo template buttons, and the (title, payload) pairs to read taps back."""
        template, offered = [], []
        for button in buttons:
            title = str(button.get("title", ""))[:BUTTON_TITLE_LIMIT]
            if button.get("url"):
                template.append({"title": title, "type": "oa.open.url", "payload": {"url": button["url"]}})
                continue
            template.append({"title": title, "type": "oa.query.show", "payload": title[:BUTTON_PAYLOAD_LIMIT]})
            offered.append({"title": title, "payload": str(button.get("payload", title))})
        return template, offered


class ZaloInput(WebhookInput):
    """The Zalo OA webhook of the Rasa server."""

    @classmethod
    def name(cls) -> str:
        return CHANNEL

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[str, Any]]) -> InputChannel:
        config = ZaloConfig.from_env()
        if not (config.app_id and config.oa_secret_key):
            cls.raise_missing_credentials_exception()
        return cls(config)

    def __init__(self, config: ZaloConfig, sessions=None) -> None:  # noqa: ANN001
        sessions = sessions or session_factory()
        super().__init__(sessions)
        self.config = config
        self.offered = OfferedButtons(sessions)
        tokens = TokenStore(sessions, config.access_token, config.refresh_token)
        self.client = ZaloClient(config.api_base_url, config.oauth_base_url, config.app_id, config.app_secret, tokens)
        self.output = ZaloOutput(self.client, self.offered)
        registry.register(self.output)

    def get_output_channel(self) -> OutputChannel:
        return self.output

    def authentic_headers(self, request: Request) -> bool:
        return request.headers.get(SIGNATURE_HEADER, "").strip().startswith("mac=")

    def authentic(self, request: Request, raw: bytes, data: Any) -> bool:
        header = request.headers.get(SIGNATURE_HEADER, "").strip()
        if not header.startswith("mac="):
            return False
        if not isinstance(data, dict):
            return False  # a signed body is always a JSON object: a broken one is not Zalo's
        timestamp = str(data.get("timestamp", ""))
        if str(data.get("app_id", "")) != self.config.app_id or not TIMESTAMP.match(timestamp):
            return False
        if abs(time.time() * 1000 - int(timestamp)) > MAX_CLOCK_SKEW_MS:
            logger.warning("zalo: refused a delivery with a stale timestamp %s", timestamp)
            return False
        expected = signature(self.config.app_id, raw, timestamp, self.config.oa_secret_key)
        return hmac.compare_digest(header[4:].lower().encode(), expected.encode())

    def parse(self, data: Dict[str, Any]) -> Incoming:
        event = data.get("event_name")
        if not isinstance(event, str) or not event:
            raise MalformedDelivery("no event_name")
        if event.startswith("oa_") or event in IGNORED_EVENTS:
            return Incoming.ignored(event)
        if event == "follow":
            follower = _id(data.get("follower")) or _id(data.get("sender"))
            if not follower:
                raise MalformedDelivery("follow without follower.id")
            return Incoming(WELCOME, follower, delivery_id=f"follow:{follower}:{data.get('timestamp')}")
        if not event.startswith("user_"):
            return Incoming.ignored(event)
        sender = _id(data.get("sender"))
        message = data.get("message")
        if not sender or not isinstance(message, dict):
            raise MalformedDelivery(f"{event} without sender.id or message")
        msg_id = message.get("msg_id")
        if not isinstance(msg_id, str) or not msg_id:
            raise MalformedDelivery(f"{event} without message.msg_id")
        meta = {"message_id": msg_id, "event": event}
        if event in NON_TEXT_EVENTS:
            return Incoming(NON_TEXT, sender, delivery_id=f"msg:{msg_id}", metadata=meta)
        text = message.get("text")
        if not isinstance(text, str):
            return Incoming.ignored(event)
        payload = self.offered.resolve(CHANNEL, sender, text)
        if payload is not None:
            return Incoming(TEXT, sender, payload, f"msg:{msg_id}", typed=False, metadata={**meta, "button": True})
        return Incoming(TEXT, sender, text, f"msg:{msg_id}", metadata=meta)


def _id(value: Any) -> Optional[str]:
    if isinstance(value, dict) and value.get("id") not in (None, ""):
        return str(value["id"])
    return None
