"""The durable webhook inbox: no accepted delivery is lost when a server dies.

On with REDIS_URL (several Rasa servers share the conversations). Accepting a
delivery stores its de-duplication row and its raw body in one transaction,
leased to the accepting server for WEBHOOK_LEASE_SECONDS (renewed while it
is being handled); the server clears the body once the delivery is handled. Every live server looks for deliveries
whose lease ran out (their server died or was stopped mid-way) and handles
them again, claiming each with a conditional UPDATE so only one does. Before
replaying, the conversation's tracker in Redis is checked for the delivery's
id (channels put it in the message metadata, Rasa keeps it on the `user`
event): a delivery the dead server had answered and saved is not answered
again. A delivery that failed WEBHOOK_MAX_ATTEMPTS times is given up.

So that a delivery is answered exactly once, its answer is held while Rasa
handles it and sent only after Rasa has saved the conversation
(common.HeldOutput). A server that dies before that save has sent nothing, and
the delivery is handled again; one that dies after it has saved the answer in
the tracker, and the replaying server sends those saved messages instead of
asking Rasa again, skipping the messages the dead server had marked as sent
(SentMarks, in Redis, right after each send). Only a server that dies between
a message reaching the messenger and its mark (one turn of the event loop)
leaves a message that is sent twice.
"""
from __future__ import annotations

import json
import os
from datetime import datetime, timedelta, timezone
from typing import List, Mapping, Optional, Tuple

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import sessionmaker

from bot.db.models import ChannelDelivery, WebhookInboxItem

PENDING, DONE, FAILED = "pending", "done", "failed"
DEFAULT_LEASE_SECONDS = 60.0
DEFAULT_MAX_ATTEMPTS = 3
RETENTION = timedelta(days=3)


def inbox_enabled(env: Optional[Mapping[str, str]] = None) -> bool:
    env = os.environ if env is None else env
    return bool(env.get("REDIS_URL", "").strip())


def _number(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name, "").strip()
    return float(raw) if raw else default


def answer_after(events: List[dict], delivery_id: str) -> Optional[List[dict]]:
    """The messages of the bot events after the user event of ``delivery_id``, as
    Rasa sent them (BotUttered.message()); None without that user event."""
    answer: Optional[List[dict]] = None
    for event in events:
        kind = event.get("event")
        if kind == "user":
            if answer is not None:
                break
            if (event.get("metadata") or {}).get("delivery_id") == delivery_id:
                answer = []
        elif kind == "bot" and answer is not None:
            message = dict(event.get("data") or {})
            message["text"] = event.get("text")
            message["timestamp"] = event.get("timestamp")
            message.update(event.get("metadata") or {})
            if message.get("image") == message.get("attachment"):
                message["attachment"] = None
            answer.append(message)
    return answer


class SentMarks:
    """How many messages of a delivery's answer have been sent, in Redis.

    Written (asynchronously, without leaving the event loop) right after each
    message goes out, so a replaying server skips what a dead server had
    already sent. Kept a day; never holds a message or a resident's id.
    """

    TTL_SECONDS = 24 * 3600

    def __init__(self, url: str, prefix: str) -> None:
        self._url = url
        self._prefix = prefix
        self._clients: dict = {}

    def _client(self):  # noqa: ANN202
        import asyncio

        import redis.asyncio as aioredis

        loop = id(asyncio.get_running_loop())
        client = self._clients.get(loop)
        if client is None:
            client = aioredis.Redis.from_url(self._url, socket_connect_timeout=2.0, socket_timeout=2.0)
            self._clients[loop] = client
        return client

    def _key(self, channel: str, delivery_id: str) -> str:
        return f"{self._prefix}:sent:{channel}:{delivery_id[:128]}"

    async def mark(self, channel: str, delivery_id: str, count: int) -> None:
        try:
            await self._client().set(self._key(channel, delivery_id), count, ex=self.TTL_SECONDS)
        except Exception:  # Redis away: a replay may send this message again
            pass

    async def count(self, channel: str, delivery_id: str) -> int:
        try:
            value = await self._client().get(self._key(channel, delivery_id))
        except Exception:
            return 0
        return int(value) if value is not None else 0


def sent_marks(env: Optional[Mapping[str, str]] = None) -> Optional[SentMarks]:
    env = os.environ if env is None else env
    url = env.get("REDIS_URL", "").strip()
    if not url:
        return None
    from bot.tracker_store import key_prefix_from

    return SentMarks(url, key_prefix_from(env.get("REDIS_KEY_PREFIX")))


class Inbox:
    def __init__(self, sessions: sessionmaker, env: Optional[Mapping[str, str]] = None) -> None:
        env = os.environ if env is None else env
        self._sessions = sessions
        self.lease = timedelta(seconds=_number(env, "WEBHOOK_LEASE_SECONDS", DEFAULT_LEASE_SECONDS))
        self.max_attempts = int(_number(env, "WEBHOOK_MAX_ATTEMPTS", DEFAULT_MAX_ATTEMPTS))

    def accept(self, channel: str, delivery_id: str, payload: str) -> Optional[int]:
        """Store a new delivery leased to us; its id, or None for a re-delivery."""
        now = datetime.now(timezone.utc)
        delivery_id = delivery_id[:128]
        with self._sessions() as session:
            session.add(ChannelDelivery(channel=channel, delivery_id=delivery_id, received_at=now))
            item = WebhookInboxItem(
                channel=channel, delivery_id=delivery_id, payload=payload, status=PENDING,
                attempts=1, lease_until=now + self.lease, received_at=now,
            )
            session.add(item)
            try:
                session.commit()
            except IntegrityError:
                session.rollback()
                return None
            return item.id

    def finish(self, item_id: int, status: str = DONE) -> None:
        """The delivery is handled: forget its body."""
        with self._sessions() as session:
            session.execute(
                update(WebhookInboxItem).where(WebhookInboxItem.id == item_id)
                .values(status=status, payload=None, lease_until=None)
            )
            session.commit()

    def renew(self, item_id: int) -> None:
        """Extend the lease of a delivery still being handled (e.g. waiting for the conversation's lock)."""
        with self._sessions() as session:
            session.execute(
                update(WebhookInboxItem)
                .where(WebhookInboxItem.id == item_id, WebhookInboxItem.status == PENDING)
                .values(lease_until=datetime.now(timezone.utc) + self.lease)
            )
            session.commit()

    def claim_expired(self, channel: str, limit: int = 20) -> List[Tuple[int, str]]:
        """Deliveries of `channel` whose server did not finish them, now leased to us."""
        now = datetime.now(timezone.utc)
        claimed: List[Tuple[int, str]] = []
        with self._sessions() as session:
            candidates = session.execute(
                select(WebhookInboxItem.id, WebhookInboxItem.payload, WebhookInboxItem.attempts)
                .where(
                    WebhookInboxItem.channel == channel,
                    WebhookInboxItem.status == PENDING,
                    WebhookInboxItem.lease_until < now,
                )
                .order_by(WebhookInboxItem.id).limit(limit)
            ).all()
            for item_id, payload, attempts in candidates:
                gave_up = attempts >= self.max_attempts or payload is None
                values = (
                    {"status": FAILED, "payload": None, "lease_until": None}
                    if gave_up else {"attempts": attempts + 1, "lease_until": now + self.lease}
                )
                result = session.execute(
                    update(WebhookInboxItem)
                    .where(
                        WebhookInboxItem.id == item_id,
                        WebhookInboxItem.status == PENDING,
                        WebhookInboxItem.attempts == attempts,
                    )
                    .values(**values)
                )
                session.commit()
                if result.rowcount == 1 and not gave_up:
                    claimed.append((item_id, payload))
        return claimed

    def prune(self, older_than: timedelta = RETENTION) -> int:
        cutoff = datetime.now(timezone.utc) - older_than
        with self._sessions() as session:
            result = session.execute(
                delete(WebhookInboxItem).where(
                    WebhookInboxItem.received_at < cutoff, WebhookInboxItem.status != PENDING
                )
            )
            session.commit()
            return result.rowcount or 0

    def answer_in_tracker(self, conversation: str, delivery_id: str) -> Optional[List[dict]]:
        """The bot messages Rasa saved in the shared tracker in answer to this
        delivery, or None when Rasa did not save the delivery's message."""
        from bot.tracker_store import key_prefix_from, redis_client

        url = os.environ.get("REDIS_URL", "").strip()
        if not url:
            return None
        client = redis_client(url)
        try:
            stored = client.get(f"{key_prefix_from(None)}:tracker:{conversation}")
        finally:
            client.close()
        if stored is None or json.dumps({"delivery_id": delivery_id})[1:-1].encode() not in stored:
            return None
        return answer_after(json.loads(stored).get("events") or [], delivery_id)

    def pending(self) -> int:
        with self._sessions() as session:
            return len(session.execute(
                select(WebhookInboxItem.id).where(WebhookInboxItem.status == PENDING)
            ).all())
