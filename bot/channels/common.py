"""The shape every messenger channel shares.

A channel module (telegram.py, zalo.py) supplies three things:
- `authentic(request, raw, data)`: is the request really from the messenger;
- `parse(data)`: what the delivery asks of us, as an `Incoming`;
- an `OutputChannel` that sends the assistant's messages back.

`WebhookInput` does the rest the same way for every channel: 403 for a wrong
secret or signature, 400 for malformed JSON or an unknown shape, 200 for a
duplicate without processing it again, and 200 at once for anything accepted;
the message is then handled in the background and the answers go out through
the messenger's API. Above WEBHOOK_MAX_IN_FLIGHT deliveries being handled,
and while the server stops, it answers 503 so the messenger retries later; on
SIGTERM it finishes what is in flight (at most WEBHOOK_DRAIN_SECONDS). With
REDIS_URL set, accepted deliveries go through the durable inbox (inbox.py).
"""
from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Awaitable, Callable, Dict, Iterable, List, Optional

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import sessionmaker

from bot.channels.inbox import Inbox, inbox_enabled, sent_marks
from bot.db.models import ButtonPayload, ChannelDelivery, OfferedButton
from bot.handoff.relay import shared_relay
from bot.handoff.residents import send_message
from bot.journeys.render import MENU_PAYLOAD
from bot.log_safety import hashed
from bot.prompts import section

logger = logging.getLogger(__name__)

# Longer messages get a polite "please write less" instead of going to NLU;
# the web chat has the same limit.
MAX_INPUT_CHARS = 5000
DELIVERY_RETENTION = timedelta(days=3)
PRUNE_EVERY = 500
DEFAULT_MAX_IN_FLIGHT = 200
DEFAULT_DRAIN_SECONDS = 10.0
REPLAY_EVERY_SECONDS = 5.0
WELCOME_PAYLOAD = "/greet"
# Commands a resident may type in a messenger ("/start" is what Telegram sends
# when someone opens the bot).
TYPED_COMMANDS = {"/start": WELCOME_PAYLOAD, "/menu": MENU_PAYLOAD, "/help": MENU_PAYLOAD}

TEXT, NON_TEXT, WELCOME, IGNORE = "text", "non_text", "welcome", "ignore"
# Not for the assistant: work the channel does itself (a team member's reply to
# a hand-off ticket, an inline query), run in the background like a message.
SERVICE = "service"


class MalformedDelivery(ValueError):
    """The request is JSON but not a shape the messenger sends."""


@dataclass
class Incoming:
    """What one webhook delivery asks of the assistant."""

    kind: str  # TEXT, NON_TEXT, WELCOME, SERVICE or IGNORE
    sender: str = ""  # the messenger's id of the chat to answer
    text: str = ""
    delivery_id: Optional[str] = None  # de-duplication key
    typed: bool = True  # False when `text` is a button payload
    metadata: Dict[str, Any] = field(default_factory=dict)
    acknowledge: Optional[Callable[[], Awaitable[Any]]] = None  # e.g. answerCallbackQuery
    run: Optional[Callable[[], Awaitable[Any]]] = None  # the work of a SERVICE delivery

    @classmethod
    def ignored(cls, reason: str) -> "Incoming":
        return cls(IGNORE, metadata={"reason": reason})


def channel_prompts() -> Dict[str, str]:
    return section("channels")


def typed_command(text: str) -> str:
    """A typed "/word" is a command we know or plain text, never a raw intent."""
    stripped = text.strip()
    if not stripped.startswith("/"):
        return text
    command = stripped.split(maxsplit=1)[0].split("@", 1)[0].lower()
    if command in TYPED_COMMANDS:
        return TYPED_COMMANDS[command]
    return stripped.lstrip("/") or stripped


def split_text(text: str, limit: int) -> List[str]:
    """Cut a long answer into messages of at most `limit` characters.

    Cuts at a paragraph, then a line, then a space, and only inside a word
    when nothing else fits.
    """
    text = text.strip()
    parts: List[str] = []
    while len(text) > limit:
        window = text[:limit]
        cut = max(window.rfind("\n\n"), window.rfind("\n"))
        if cut < limit // 2:
            cut = window.rfind(" ")
        if cut < limit // 2:
            cut = limit
        parts.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    if text or not parts:
        parts.append(text)
    return parts


def conversation_id(channel: str, sender: str) -> str:
    """Rasa's sender id: the channel name keeps ids of two messengers apart."""
    return f"{channel}:{sender}"


def messenger_id(conversation: str) -> str:
    return conversation.split(":", 1)[1] if ":" in conversation else conversation


class DeliveryLog:
    """Which deliveries were already accepted, durable across restarts."""

    def __init__(self, sessions: sessionmaker) -> None:
        self._sessions = sessions
        self._claims = 0

    def claim(self, channel: str, delivery_id: str) -> bool:
        """True the first time a delivery is seen, False for a re-delivery."""
        with self._sessions() as session:
            session.add(ChannelDelivery(channel=channel, delivery_id=delivery_id[:128]))
            try:
                session.commit()
            except IntegrityError:
                session.rollback()
                return False
        self._claims += 1
        if self._claims % PRUNE_EVERY == 0:
            self.prune()
        return True

    def prune(self, older_than: timedelta = DELIVERY_RETENTION) -> int:
        cutoff = datetime.now(timezone.utc) - older_than
        with self._sessions() as session:
            result = session.execute(delete(ChannelDelivery).where(ChannelDelivery.received_at < cutoff))
            session.commit()
            return result.rowcount or 0


class ButtonPayloads:
    """Payloads too long for a messenger's button, kept under a short key."""

    PREFIX = "btn:"

    def __init__(self, sessions: sessionmaker) -> None:
        self._sessions = sessions

    def key_for(self, payload: str) -> str:
        key = self.PREFIX + hashlib.sha256(payload.encode("utf-8")).hexdigest()[:24]
        with self._sessions() as session:
            if session.get(ButtonPayload, key) is None:
                session.add(ButtonPayload(key=key, payload=payload))
                try:
                    session.commit()
                except IntegrityError:  # stored meanwhile by another request
                    session.rollback()
        return key

    def payload_for(self, key: str) -> Optional[str]:
        with self._sessions() as session:
            row = session.get(ButtonPayload, key)
            return row.payload if row else None


class OfferedButtons:
    """The buttons last shown to each recipient: a tap comes back as the title."""

    def __init__(self, sessions: sessionmaker) -> None:
        self._sessions = sessions

    def remember(self, channel: str, recipient: str, buttons: Iterable[Dict[str, str]]) -> None:
        now = datetime.now(timezone.utc)
        with self._sessions() as session:
            for button in buttons:
                session.merge(
                    OfferedButton(
                        channel=channel, recipient=recipient, title=button["title"],
                        payload=button["payload"], offered_at=now,
                    )
                )
            session.commit()

    def resolve(self, channel: str, recipient: str, text: str) -> Optional[str]:
        with self._sessions() as session:
            row = session.execute(
                select(OfferedButton).where(
                    OfferedButton.channel == channel,
                    OfferedButton.recipient == recipient,
                    OfferedButton.title == text.strip(),
                )
            ).scalar_one_or_none()
            return row.payload if row else None


def json_error(status: int, message: str) -> HTTPResponse:
    return response.json({"error": message}, status=status)


class MessengerOutput(OutputChannel):
    """What the channels' output classes share: long answers are split to the
    messenger's limit and buttons go under the last part. A channel supplies
    `message_limit` and `send_part`."""

    message_limit: int

    async def send_part(self, recipient_id: str, text: str, buttons: Optional[List[Dict[str, Any]]] = None) -> None:
        """Send one message of at most `message_limit` characters, with buttons if given."""
        raise NotImplementedError

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        for part in split_text(text, self.message_limit):
            await self.send_part(recipient_id, part)

    async def send_text_with_buttons(
        self, recipient_id: str, text: str, buttons: List[Dict[str, Any]], **kwargs: Any
    ) -> None:
        parts = split_text(text or "👇", self.message_limit)
        for part in parts[:-1]:
            await self.send_part(recipient_id, part)
        await self.send_part(recipient_id, parts[-1], buttons)

    async def send_image_url(self, recipient_id: str, image: str, **kwargs: Any) -> None:
        await self.send_text_message(recipient_id, image)

    async def send_attachment(self, recipient_id: str, attachment: str, **kwargs: Any) -> None:
        await self.send_text_message(recipient_id, attachment)

    async def send_custom_json(self, recipient_id: str, json_message: Dict[str, Any], **kwargs: Any) -> None:
        logger.warning("%s cannot send custom JSON; dropped a message to %s", self.name(), hashed(recipient_id))


class HeldOutput(OutputChannel):
    """Collects what Rasa says for one delivery; `send` passes it to the real
    channel afterwards (inbox.py: sent only once Rasa has saved the tracker)."""

    def __init__(self, real: OutputChannel) -> None:
        self.real = real
        self.messages: List[Dict[str, Any]] = []
        self.recipient: Optional[str] = None

    def name(self) -> str:  # Rasa picks channel-specific response variations by it
        return self.real.name()

    async def send_response(self, recipient_id: str, message: Dict[str, Any]) -> None:
        self.recipient = recipient_id
        self.messages.append(message)

    async def send(self, on_sent: Optional[Callable[[int], Awaitable[None]]] = None, skip: int = 0) -> None:
        """Send what was held (after the first `skip`); `on_sent(n)` after the n-th."""
        held, self.messages = self.messages, []
        for number, message in enumerate(held, start=1):
            if number <= skip:
                continue
            await self.real.send_response(self.recipient, message)
            if on_sent is not None:
                await on_sent(number)


class WebhookInput(InputChannel):
    """A Rasa input channel for a messenger that calls our webhook."""

    def __init__(self, sessions: sessionmaker) -> None:
        self.deliveries = DeliveryLog(sessions)
        self.inbox: Optional[Inbox] = Inbox(sessions) if inbox_enabled() else None
        self.sent_marks = sent_marks() if self.inbox is not None else None
        self.relay = shared_relay(sessions)
        self._tasks: set = set()
        self.max_in_flight = int(os.environ.get("WEBHOOK_MAX_IN_FLIGHT", "") or DEFAULT_MAX_IN_FLIGHT)
        self.drain_seconds = float(os.environ.get("WEBHOOK_DRAIN_SECONDS", "") or DEFAULT_DRAIN_SECONDS)
        self.draining = False
        self._replayer: Optional[asyncio.Task] = None

    # -- what each channel supplies ---------------------------------------
    def authentic_headers(self, request: Request) -> bool:
        """What the headers alone can tell, checked before the body is parsed."""
        return True

    def authentic(self, request: Request, raw: bytes, data: Any) -> bool:
        raise NotImplementedError

    def parse(self, data: Dict[str, Any]) -> Incoming:
        raise NotImplementedError

    def get_output_channel(self) -> OutputChannel:
        raise NotImplementedError

    async def on_server_start(self) -> None:
        """Hook run once the Rasa server listens (e.g. register the webhook)."""

    # -- shared -------------------------------------------------------------
    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        hook = Blueprint(f"{self.name()}_webhook", __name__)

        @hook.listener("after_server_start")
        async def started(app, loop) -> None:  # noqa: ANN001
            try:
                await self.on_server_start()
            except Exception:  # the assistant must come up even if the messenger is unreachable
                logger.exception("%s: start-up call to the messenger failed", self.name())
            if self.inbox is not None:
                self._replayer = asyncio.ensure_future(self._replay_forever(on_new_message))

        @hook.listener("before_server_stop")
        async def stopping(app, loop) -> None:  # noqa: ANN001
            await self.drain()

        @hook.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @hook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            return await self.receive(request, on_new_message)

        return hook

    async def receive(self, request: Request, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> HTTPResponse:
        raw = request.body or b""
        if not self.authentic_headers(request):  # a stranger's body is never parsed
            logger.warning("%s: refused a request with a missing or wrong signature", self.name())
            return json_error(403, "forbidden")
        try:
            data: Any = json.loads(raw)
        except (ValueError, UnicodeDecodeError, RecursionError):
            data = None
        if not self.authentic(request, raw, data):
            logger.warning("%s: refused a request with a missing or wrong signature", self.name())
            return json_error(403, "forbidden")
        if not isinstance(data, dict):
            return json_error(400, "malformed JSON")
        try:
            incoming = self.parse(data)
        except MalformedDelivery as error:
            logger.warning("%s: malformed delivery: %s", self.name(), error)
            return json_error(400, f"unknown shape: {error}")
        if incoming.kind == IGNORE:
            return response.json({"status": "ignored"})
        if self.draining or len(self._tasks) >= self.max_in_flight:
            # not claimed: the messenger's retry is processed, here or on another server
            return response.json({"error": "busy, retry later"}, status=503, headers={"Retry-After": "5"})
        item_id = None
        if incoming.delivery_id:
            try:
                if self.inbox is not None:
                    item_id = await asyncio.to_thread(
                        self.inbox.accept, self.name(), incoming.delivery_id, raw.decode("utf-8", "replace")
                    )
                    fresh = item_id is not None
                else:
                    fresh = await asyncio.to_thread(self.deliveries.claim, self.name(), incoming.delivery_id)
            except Exception as error:  # database away: not accepted, the messenger retries
                logger.warning("%s: could not record delivery %s (%s); answered 503",
                               self.name(), incoming.delivery_id, error.__class__.__name__)
                return response.json({"error": "busy, retry later"}, status=503, headers={"Retry-After": "5"})
            if not fresh:
                logger.info("%s: duplicate delivery %s ignored", self.name(), incoming.delivery_id)
                return response.json({"status": "duplicate"})
        self._start(incoming, on_new_message, item_id)
        return response.json({"status": "accepted"})

    def _start(self, incoming: Incoming, on_new_message: Callable[[UserMessage], Awaitable[Any]],
               item_id: Optional[int]) -> None:
        self._track(self._handle_and_finish(incoming, on_new_message, item_id))

    def _track(self, work: Awaitable[None]) -> None:
        """Run `work` in the background, counted in flight (the 503 bound, drain on stop)."""
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _handle_and_finish(self, incoming: Incoming, on_new_message: Callable[[UserMessage], Awaitable[Any]],
                                 item_id: Optional[int]) -> None:
        renewer = None
        if item_id is not None and self.inbox is not None:
            renewer = asyncio.ensure_future(self._keep_leased(item_id))
        try:
            await self.handle(incoming, on_new_message, hold=item_id is not None)
        finally:
            if renewer is not None:
                renewer.cancel()
        if item_id is not None and self.inbox is not None:
            try:
                await asyncio.to_thread(self.inbox.finish, item_id)
            except Exception:  # the lease runs out and a server handles it again
                logger.exception("%s: could not mark delivery %s done", self.name(), incoming.delivery_id)

    async def _keep_leased(self, item_id: int) -> None:
        """While a delivery is handled, keep other servers from taking it over."""
        every = max(0.1, self.inbox.lease.total_seconds() / 3)
        while True:
            await asyncio.sleep(every)
            try:
                await asyncio.to_thread(self.inbox.renew, item_id)
            except Exception:
                logger.warning("%s: could not renew the lease of inbox item %s", self.name(), item_id, exc_info=True)

    async def drain(self) -> None:
        """Stop taking deliveries and let those in flight finish (bounded)."""
        self.draining = True
        if self._replayer is not None:
            self._replayer.cancel()
        pending = list(self._tasks)
        if pending:
            logger.info("%s: finishing %d deliveries before stopping", self.name(), len(pending))
            done, left = await asyncio.wait(pending, timeout=self.drain_seconds)
            if left:
                logger.warning("%s: %d deliveries unfinished at stop%s", self.name(), len(left),
                               "; another server replays them" if self.inbox is not None else "")

    async def replay_expired(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> int:
        """Handle inbox deliveries whose server did not finish them; how many."""
        if self.inbox is None or self.draining:
            return 0
        room = self.max_in_flight - len(self._tasks)
        if room <= 0:
            return 0
        claimed = await asyncio.to_thread(self.inbox.claim_expired, self.name(), min(room, 50))
        for item_id, payload in claimed:
            try:
                incoming = self.parse(json.loads(payload))
            except (ValueError, MalformedDelivery):
                await asyncio.to_thread(self.inbox.finish, item_id, "failed")
                continue
            conversation = conversation_id(self.name(), incoming.sender)
            saved = None
            if incoming.delivery_id:
                saved = await asyncio.to_thread(self.inbox.answer_in_tracker, conversation, incoming.delivery_id)
            if saved is not None:
                # Rasa saved its answer, then the server stopped before (or while) sending it
                logger.info("%s: sending the saved answer of delivery %s left by a stopped server",
                            self.name(), incoming.delivery_id)
                self._start_saved_answer(conversation, saved, item_id, incoming.delivery_id)
                continue
            logger.info("%s: replaying delivery %s left by a stopped server", self.name(), incoming.delivery_id)
            self._start(incoming, on_new_message, item_id)
        return len(claimed)

    def _marker(self, delivery_id: str) -> Optional[Callable[[int], Awaitable[None]]]:
        if self.sent_marks is None or not delivery_id:
            return None
        marks = self.sent_marks

        async def mark(count: int) -> None:
            await marks.mark(self.name(), delivery_id, count)

        return mark

    def _start_saved_answer(self, conversation: str, messages: List[Dict[str, Any]], item_id: int,
                            delivery_id: str = "") -> None:
        async def send() -> None:
            held = HeldOutput(self.get_output_channel())
            held.recipient, held.messages = conversation, list(messages)
            try:
                skip = await self.sent_marks.count(self.name(), delivery_id) if self.sent_marks else 0
                await held.send(self._marker(delivery_id), skip=skip)
            except Exception:
                logger.exception("%s: could not send a saved answer", self.name())
            await asyncio.to_thread(self.inbox.finish, item_id)

        self._track(send())

    async def _replay_forever(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> None:
        while not self.draining:
            try:
                await self.replay_expired(on_new_message)
            except asyncio.CancelledError:
                raise
            except Exception:  # database away: try again next round
                logger.warning("%s: inbox replay failed", self.name(), exc_info=True)
            await asyncio.sleep(REPLAY_EVERY_SECONDS)

    async def handle(self, incoming: Incoming, on_new_message: Callable[[UserMessage], Awaitable[Any]],
                     hold: bool = False) -> None:
        """Process one accepted delivery; errors are logged, never raised. With
        `hold`, Rasa's answer is sent once Rasa returns (it has saved the tracker)."""
        output = self.get_output_channel()
        held: Optional[HeldOutput] = None
        conversation = conversation_id(self.name(), incoming.sender)
        try:
            if incoming.acknowledge is not None:
                try:
                    await incoming.acknowledge()
                except Exception:
                    logger.warning("%s: acknowledging %s failed", self.name(), incoming.delivery_id, exc_info=True)
            if incoming.kind == SERVICE:
                await incoming.run()
                return
            if incoming.kind == NON_TEXT:
                await output.send_text_message(conversation, channel_prompts()["non_text"])
                return
            if incoming.kind == WELCOME:
                text = WELCOME_PAYLOAD
            elif len(incoming.text) > MAX_INPUT_CHARS:
                await output.send_text_message(conversation, channel_prompts()["too_long"])
                return
            else:
                text = typed_command(incoming.text) if incoming.typed else incoming.text
            outcome = await self.relay.intercept(conversation, text)
            for reply in outcome.replies:
                await send_message(output, conversation, reply)
            if not outcome.to_assistant:
                return
            metadata = {"channel": self.name(), "delivery_id": incoming.delivery_id, **incoming.metadata}
            held = HeldOutput(output) if hold else None
            await on_new_message(
                UserMessage(text, held or output, conversation, input_channel=self.name(), metadata=metadata)
            )
            if held is not None:
                await held.send(self._marker(incoming.delivery_id))
        except Exception:
            logger.exception("%s: handling delivery %s failed", self.name(), incoming.delivery_id)
            if held is not None:
                try:
                    await held.send()  # what Rasa said before the failure
                except Exception:
                    logger.warning("%s: could not send a held answer", self.name(), exc_info=True)
            if incoming.kind != SERVICE:
                await self.apologise(output, conversation)

    async def apologise(self, output: OutputChannel, conversation: str) -> None:
        """A polite "please try again" (with the way to a person) when handling failed."""
        prompts = channel_prompts()
        try:
            await output.send_text_with_buttons(
                conversation, prompts["try_again"], [{"title": prompts["human_button"], "payload": "/request_human"}]
            )
        except Exception:
            logger.warning("%s: could not send the apology", self.name(), exc_info=True)

    def get_metadata(self, request: Request) -> Optional[Dict[str, Any]]:
        return None
