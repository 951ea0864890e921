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
from typing import Any, Dict, List, Optional

from rasa.core.channels.channel import InputChannel, OutputChannel
from sanic.request import Request
from telegram import (
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQuery,
    InlineQueryResultArticle,
    InputTextMessageContent,
    Message,
    Update,
)
from telegram.error import Forbidden, NetworkError, RetryAfter, TelegramError, TimedOut

from bot.channels.common import (
    MENU_PAYLOAD,
    NON_TEXT,
    SERVICE,
    TEXT,
    ButtonPayloads,
    Incoming,
    MalformedDelivery,
    MessengerOutput,
    WebhookInput,
    messenger_id,
)
from bot.channels import registry
from bot.channels.telegram_bot import BotHandle, TelegramConfig, build_bot
from bot.db.engine import session_factory
from bot.log_safety import hashed
from bot.handoff.relay import reminder_after
from bot.scale.once import first_to_claim
from bot.handoff.team_chat import parse_callback
from bot.library.search import search as search_library

logger = logging.getLogger(__name__)

CHANNEL = "telegram"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MESSAGE_LIMIT = 4096
CALLBACK_DATA_LIMIT = 64  # bytes
ALLOWED_UPDATES = ["message", "callback_query", "inline_query"]
NETWORK_RETRIES = 2
GROUP_TYPES = {"group", "supergroup"}
INLINE_RESULTS = 10  # answerInlineQuery allows 50; a phone shows about 5
INLINE_CACHE_SECONDS = 300
INLINE_DESCRIPTION_CHARS = 120
REMINDER_SWEEP_MAX_SECONDS = 60.0
SET_WEBHOOK_ONCE_SECONDS = 60  # one setWebhook per deployment start, not one per Rasa server
# What a resident can send that is not text; each gets the "please type" answer.
NON_TEXT_FIELDS = (
    "photo", "sticker", "voice", "audio", "video", "video_note", "animation",
    "document", "location", "venue", "contact", "poll", "dice",
)


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
                logger.info("telegram: %s blocked the bot; message dropped", hashed(recipient_id))
                return
            except RetryAfter as error:  # still limited after the rate limiter's retries
                logger.error("telegram: flood limit for %s, message dropped: %s", hashed(recipient_id), error)
                return
            except TimedOut:
                # Telegram may have delivered it: a retry could send it twice.
                logger.error("telegram: sending to %s timed out; not retried", hashed(recipient_id))
                return
            except NetworkError as error:
                if attempt == NETWORK_RETRIES:
                    logger.error("telegram: sending to %s failed: %s", hashed(recipient_id), error)
                    return
                await asyncio.sleep(0.5 * 2 ** attempt)
            except TelegramError as error:
                logger.error("telegram: sending to %s refused: %s", hashed(recipient_id), error)
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
        registry.register(self.output)
        self._reminders: Optional[asyncio.Task] = None

    def get_output_channel(self) -> OutputChannel:
        return self.output

    def authentic_headers(self, request: Request) -> bool:
        given = request.headers.get(SECRET_HEADER, "")
        return bool(self.config.secret) and hmac.compare_digest(given.encode(), self.config.secret.encode())

    def authentic(self, request: Request, raw: bytes, data: Any) -> bool:
        return self.authentic_headers(request)

    async def on_server_start(self) -> None:
        if self._reminders is None and self.relay.team_chat is not None:
            waited = reminder_after()
            every = min(REMINDER_SWEEP_MAX_SECONDS, max(waited.total_seconds() / 4, 0.5))
            self._reminders = asyncio.ensure_future(self.relay.remind_forever(waited, every))
        if not self.config.webhook_url:
            return
        if not await asyncio.to_thread(first_to_claim, "telegram-set-webhook", SET_WEBHOOK_ONCE_SECONDS):
            return  # another Rasa server of this deployment registers it
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
        if update.inline_query is not None:
            query = update.inline_query
            return Incoming(SERVICE, str(query.from_user.id), delivery_id=delivery, run=lambda: self._answer_inline(query))
        if update.callback_query is not None:
            return self._callback(update, delivery)
        message = update.message
        if message is None:  # edited messages, channel posts, member updates ...
            return Incoming.ignored("not a new message")
        if message.chat.type in GROUP_TYPES:
            return self._group_message(message, delivery)
        if message.chat.type != "private":
            return Incoming.ignored("channel post")
        if message.from_user is None or message.from_user.is_bot:
            return Incoming.ignored("from a bot")
        sender = str(message.chat.id)
        meta = {"message_id": message.message_id}
        if message.text is not None:
            return Incoming(TEXT, sender, message.text, delivery, metadata=meta)
        if any(getattr(message, name, None) for name in NON_TEXT_FIELDS):
            return Incoming(NON_TEXT, sender, delivery_id=delivery, metadata=meta)
        return Incoming.ignored("service message")

    def _group_message(self, message: Message, delivery: str) -> Incoming:
        """In a team's group only replies to a hand-off ticket's posts matter."""
        replied = message.reply_to_message
        if replied is None or message.from_user is None or message.from_user.is_bot:
            return Incoming.ignored("group chat")
        member = message.from_user.full_name
        chat_id, text = message.chat.id, message.text
        return Incoming(
            SERVICE, str(chat_id), delivery_id=delivery,
            run=lambda: self.relay.team_reply(chat_id, replied.message_id, member, text),
        )

    def _callback(self, update: Update, delivery: str) -> Incoming:
        query = update.callback_query
        if query.from_user.is_bot:
            return Incoming.ignored("from a bot")
        chat = query.message.chat if query.message is not None else None
        if chat is not None and chat.type != "private":
            return self._team_callback(query, chat.id, delivery)
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

    async def _answer_callback(self, query_id: str, text: Optional[str] = None) -> None:
        bot = await self.bot_handle.ready()
        await bot.answer_callback_query(query_id, text=text)

    def _team_callback(self, query: CallbackQuery, chat_id: int, delivery: str) -> Incoming:
        """Nhận / Đóng under a ticket in a team's group."""
        action = parse_callback(query.data or "")
        if action is None:
            return Incoming.ignored("group button")
        verb, ticket_id = action
        member = query.from_user.full_name

        async def run() -> None:
            act = self.relay.take if verb == "take" else self.relay.close
            await self._answer_callback(query.id, await act(ticket_id, member, chat_id))

        return Incoming(SERVICE, str(chat_id), delivery_id=delivery, run=run)

    async def _answer_inline(self, query: InlineQuery) -> None:
        """A team member typed `@bot <words>` in any chat: the library's best answers to post."""
        entries = await asyncio.to_thread(search_library, query.query or "", INLINE_RESULTS)
        results = [
            InlineQueryResultArticle(
                id=entry.id[:64],
                title=entry.title,
                description=entry.text.replace("\n", " ")[:INLINE_DESCRIPTION_CHARS],
                input_message_content=InputTextMessageContent(entry.text[:MESSAGE_LIMIT]),
            )
            for entry in entries
        ]
        bot = await self.bot_handle.ready()
        await bot.answer_inline_query(query.id, results, cache_time=INLINE_CACHE_SECONDS)
