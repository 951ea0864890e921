"""Telegram, built on python-telegram-bot 22 (webhook `/webhooks/telegram/webhook`).

Updates are parsed with PTB (`Update.de_json`), answers sent with PTB's bot on
TELEGRAM_API_BASE_URL, through PTB's AIORateLimiter (Telegram's limits; a 429
is waited out for its `retry_after` and the call retried). Buttons become an
inline keyboard; a press is acknowledged (answerCallbackQuery) and handled as
its payload. The polling command (telegram_polling.py) feeds the same webhook.
"""
from __future__ import annotations

import asyncio
import hmac
import logging
import os
from dataclasses import dataclass
from typing import Any, Dict, List, Mapping, Optional

from rasa.core.channels.channel import InputChannel, OutputChannel
from sanic.request import Request
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import Forbidden, NetworkError, RetryAfter, TelegramError, TimedOut
from telegram.ext import AIORateLimiter, ExtBot
from telegram.request import HTTPXRequest

from bot.channels.common import (
    MENU_PAYLOAD,
    NON_TEXT,
    TEXT,
    ButtonPayloads,
    Incoming,
    MalformedDelivery,
    MessengerOutput,
    WebhookInput,
    messenger_id,
)
from bot.db.engine import session_factory

logger = logging.getLogger(__name__)

CHANNEL = "telegram"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
DEFAULT_API_BASE_URL = "https://api.telegram.org/bot"
MESSAGE_LIMIT = 4096
CALLBACK_DATA_LIMIT = 64  # bytes
ALLOWED_UPDATES = ["message", "callback_query", "inline_query"]
NETWORK_RETRIES = 2
# What a resident can send that is not text; each gets the "please type" answer.
NON_TEXT_FIELDS = (
    "photo", "sticker", "voice", "audio", "video", "video_note", "animation",
    "document", "location", "venue", "contact", "poll", "dice",
)


@dataclass(frozen=True)
class TelegramConfig:
    token: str
    secret: str
    api_base_url: str
    webhook_url: str

    @classmethod
    def from_env(cls, env: Optional[Mapping[str, str]] = None) -> "TelegramConfig":
        env = os.environ if env is None else env
        return cls(
            token=env.get("TELEGRAM_BOT_TOKEN", "").strip(),
            secret=env.get("TELEGRAM_WEBHOOK_SECRET", "").strip(),
            api_base_url=env.get("TELEGRAM_API_BASE_URL", "").strip() or DEFAULT_API_BASE_URL,
            webhook_url=env.get("TELEGRAM_WEBHOOK_URL", "").strip(),
        )


def build_bot(config: TelegramConfig, rate_limited: bool = True) -> ExtBot:
    """PTB's bot on the configured Bot API base, with room for concurrent sends."""
    return ExtBot(
        config.token,
        base_url=config.api_base_url,
        request=HTTPXRequest(connection_pool_size=32, pool_timeout=10.0, read_timeout=15.0),
        get_updates_request=HTTPXRequest(connection_pool_size=2, read_timeout=40.0),
        rate_limiter=AIORateLimiter(max_retries=3) if rate_limited else None,
    )


class BotHandle:
    """One PTB bot per channel, initialised (getMe) on first use."""

    def __init__(self, bot: ExtBot) -> None:
        self.bot = bot
        self._lock = asyncio.Lock()
        self._ready = False

    async def ready(self) -> ExtBot:
        if not self._ready:
            async with self._lock:
                if not self._ready:
                    await self.bot.initialize()
                    self._ready = True
        return self.bot


class TelegramOutput(MessengerOutput):
    """Sends the assistant's messages to a Telegram chat."""

    @classmethod
    def name(cls) -> str:
        return CHANNEL

    def __init__(self, bot_handle: BotHandle, payloads: ButtonPayloads) -> None:
        super().__init__()
        self.bot_handle = bot_handle
        self.payloads = payloads

    message_limit = MESSAGE_LIMIT

    async def send_part(self, recipient_id: str, text: str, buttons: Optional[List[Dict[str, Any]]] = None) -> None:
        markup = self.keyboard(buttons) if buttons else None
        bot = await self.bot_handle.ready()
        await self._call(
            recipient_id, lambda: bot.send_message(messenger_id(recipient_id), text, reply_markup=markup)
        )

    async def send_image_url(self, recipient_id: str, image: str, **kwargs: Any) -> None:
        bot = await self.bot_handle.ready()
        await self._call(recipient_id, lambda: bot.send_photo(messenger_id(recipient_id), image))

    def keyboard(self, buttons: List[Dict[str, Any]]) -> InlineKeyboardMarkup:
        """One button per row: Vietnamese titles are long and phones narrow."""
        rows = []
        for button in buttons:
            if button.get("url"):
                rows.append([InlineKeyboardButton(button["title"], url=button["url"])])
                continue
            rows.append([InlineKeyboardButton(button["title"], callback_data=self.callback_data(button["payload"]))])
        return InlineKeyboardMarkup(rows)

    def callback_data(self, payload: str) -> str:
        if len(payload.encode("utf-8")) <= CALLBACK_DATA_LIMIT and not payload.startswith(ButtonPayloads.PREFIX):
            return payload
        return self.payloads.key_for(payload)

    async def _call(self, recipient_id: str, send) -> None:  # noqa: ANN001
        """One Bot API call; connection failures retried, nothing raised."""
        for attempt in range(NETWORK_RETRIES + 1):
            try:
                await send()
                return
            except Forbidden:
                logger.info("telegram: %s blocked the bot; message dropped", recipient_id)
                return
            except RetryAfter as error:  # still limited after the rate limiter's retries
                logger.error("telegram: flood limit for %s, message dropped: %s", recipient_id, error)
                return
            except TimedOut:
                # Telegram may have delivered it: a retry could send it twice.
                logger.error("telegram: sending to %s timed out; not retried", recipient_id)
                return
            except NetworkError as error:
                if attempt == NETWORK_RETRIES:
                    logger.error("telegram: sending to %s failed: %s", recipient_id, error)
                    return
                await asyncio.sleep(0.5 * 2 ** attempt)
            except TelegramError as error:
                logger.error("telegram: sending to %s refused: %s", recipient_id, error)
                return


class TelegramInput(WebhookInput):
    """The Telegram webhook of the Rasa server."""

    @classmethod
    def name(cls) -> str:
        return CHANNEL

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[str, Any]]) -> InputChannel:
        config = TelegramConfig.from_env()
        if not config.token:
            cls.raise_missing_credentials_exception()
        return cls(config)

    def __init__(self, config: TelegramConfig, sessions=None) -> None:  # noqa: ANN001
        sessions = sessions or session_factory()
        super().__init__(sessions)
        self.config = config
        if not config.secret:
            logger.error("telegram: TELEGRAM_WEBHOOK_SECRET is not set; every webhook request is refused")
        self.bot_handle = BotHandle(build_bot(config))
        self.payloads = ButtonPayloads(sessions)
        self.output = TelegramOutput(self.bot_handle, self.payloads)

    def get_output_channel(self) -> OutputChannel:
        return self.output

    def authentic(self, request: Request, raw: bytes, data: Any) -> bool:
        given = request.headers.get(SECRET_HEADER, "")
        return bool(self.config.secret) and hmac.compare_digest(given.encode(), self.config.secret.encode())

    async def on_server_start(self) -> None:
        if not self.config.webhook_url:
            return
        bot = await self.bot_handle.ready()
        await bot.set_webhook(
            self.config.webhook_url, secret_token=self.config.secret, allowed_updates=ALLOWED_UPDATES
        )
        logger.info("telegram: webhook registered at %s", self.config.webhook_url)

    def parse(self, data: Dict[str, Any]) -> Incoming:
        if not isinstance(data.get("update_id"), int):
            raise MalformedDelivery("no update_id")
        try:
            update = Update.de_json(data, self.bot_handle.bot)
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            raise MalformedDelivery(f"not a Telegram update ({error.__class__.__name__})") from None
        delivery = f"update:{update.update_id}"
        if update.callback_query is not None:
            return self._callback(update, delivery)
        message = update.message
        if message is None:  # edited messages, channel posts, inline queries, member updates ...
            return Incoming.ignored("not a new message")
        if message.chat.type != "private":
            return Incoming.ignored("group chat")
        if message.from_user is None or message.from_user.is_bot:
            return Incoming.ignored("from a bot")
        sender = str(message.chat.id)
        meta = {"message_id": message.message_id}
        if message.text is not None:
            return Incoming(TEXT, sender, message.text, delivery, metadata=meta)
        if any(getattr(message, name, None) for name in NON_TEXT_FIELDS):
            return Incoming(NON_TEXT, sender, delivery_id=delivery, metadata=meta)
        return Incoming.ignored("service message")

    def _callback(self, update: Update, delivery: str) -> Incoming:
        query = update.callback_query
        if query.from_user.is_bot:
            return Incoming.ignored("from a bot")
        chat = query.message.chat if query.message is not None else None
        if chat is not None and chat.type != "private":
            return Incoming.ignored("group chat")
        sender = str(chat.id if chat is not None else query.from_user.id)
        payload = query.data or ""
        if payload.startswith(ButtonPayloads.PREFIX):
            payload = self.payloads.payload_for(payload) or ""
        if not payload:  # a button whose payload we no longer know: show the menu
            payload = MENU_PAYLOAD
        return Incoming(
            TEXT, sender, payload, delivery, typed=False, metadata={"button": True},
            acknowledge=lambda: self._answer_callback(query.id),
        )

    async def _answer_callback(self, query_id: str) -> None:
        bot = await self.bot_handle.ready()
        await bot.answer_callback_query(query_id)
