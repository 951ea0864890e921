"""`python -m bot questionlog-consumer`: RabbitMQ -> question-log rows.

Reads the durable queue the Rasa servers publish to (broker.py
`MaskingPikaBroker`), turns each message (one conversation's events of one
save, already masked, sender already hashed) into rows with the same
TurnAssembler and row format as the in-process writer, and commits rows and
roll-ups in one transaction per batch. A message is acknowledged only after
that commit: if the database is down the batch is retried until it is back,
and if this process dies RabbitMQ hands the unacknowledged messages to
another consumer. A message whose rows are already stored (redelivered, or
re-published after a reconnect) is not written twice. Run one or more; each
also prunes rows past QUESTION_LOG_RETENTION_DAYS hourly (idempotent).
"""
from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import time
from datetime import datetime
from typing import Any, Callable, Dict, List, Optional, Sequence

from sqlalchemy import insert, select
from sqlalchemy.orm import sessionmaker

from bot.db.engine import database_url, session_factory
from bot.db.models import QuestionLogEntry, as_utc
from bot.questionlog import rollups
from bot.questionlog.published import BATCH_KIND
from bot.questionlog.pseudonym import Pseudonymiser, hash_key
from bot.questionlog.turns import Turn, TurnAssembler
from bot.questionlog.writer import PRUNE_EVERY_SECONDS, prune, retention_days, row_for
from bot.scale.endpoints import question_log_queue, rabbitmq_url

logger = logging.getLogger(__name__)

PREFETCH = 200
BATCH_SECONDS = 0.2
RETRY_MAX_SECONDS = 10.0


def prehashed(key: bytes) -> Callable[..., str]:
    """row_for's pseudonym when the sender id already is its keyed hash."""
    pseudonymiser = Pseudonymiser(key)

    def pseudonym(*parts: str) -> str:
        return parts[0] if len(parts) == 1 else pseudonymiser(*parts)

    return pseudonym


def turns_of(message: Dict[str, Any]) -> List[Turn]:
    """The finished turns in one published message (each message stands alone)."""
    if message.get("kind") != BATCH_KIND:
        raise ValueError(f"not a question-log message: {message.get('kind')!r}")
    sender = str(message["sender"])
    assembler = TurnAssembler()
    if message.get("session_started") is not None:
        assembler.feed({"event": "session_started", "sender_id": sender, "timestamp": message["session_started"]})
    turns = []
    for event in message.get("events") or []:
        turn = assembler.feed({**event, "sender_id": sender})
        if turn is not None:
            turns.append(turn)
    return turns + assembler.drain()


class RowStore:
    """Writes rows of several messages in one transaction, skipping stored ones."""

    def __init__(self, sessions: sessionmaker, pseudonym: Callable[..., str]) -> None:
        self._sessions = sessions
        self._pseudonym = pseudonym

    def rows_for(self, messages: Sequence[Dict[str, Any]]) -> List[dict]:
        return [row_for(turn, self._pseudonym) for message in messages for turn in turns_of(message)]

    def write(self, rows: List[dict]) -> int:
        """Insert the rows not stored yet, with their roll-ups; how many were new."""
        if not rows:
            return 0
        with self._sessions() as session:
            stored = self._stored(session, rows)
            fresh = [row for row in rows if (row["conversation_id"], _moment(row["asked_at"])) not in stored]
            if fresh:
                session.execute(insert(QuestionLogEntry), fresh)
                rollups.record(session, fresh)
            session.commit()
            return len(fresh)

    @staticmethod
    def _stored(session, rows: List[dict]) -> set:  # noqa: ANN001
        conversations = sorted({row["conversation_id"] for row in rows})
        found = session.execute(
            select(QuestionLogEntry.conversation_id, QuestionLogEntry.asked_at).where(
                QuestionLogEntry.conversation_id.in_(conversations)
            )
        )
        return {(conversation, _moment(asked)) for conversation, asked in found}


def _moment(value: datetime) -> datetime:
    """A timestamp comparable across databases (SQLite returns naive UTC datetimes)."""
    return as_utc(value).replace(tzinfo=None)


class Consumer:
    def __init__(self, url: str, queue: str, store: RowStore, sessions: sessionmaker) -> None:
        self.url = url
        self.queue_name = queue
        self.store = store
        self.sessions = sessions
        self.written = 0
        self._pending: List[Any] = []
        self._wake = asyncio.Event()
        self._stop = asyncio.Event()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()

    async def run(self) -> None:
        import aio_pika

        connection = await aio_pika.connect_robust(self.url, timeout=10)
        async with connection:
            channel = await connection.channel()
            await channel.set_qos(prefetch_count=PREFETCH)
            queue = await channel.declare_queue(self.queue_name, durable=True)
            await queue.consume(self._received)
            logger.info("question log: consuming %s", self.queue_name)
            next_prune = time.monotonic()
            while not self._stop.is_set():
                try:
                    await asyncio.wait_for(self._wake.wait(), timeout=1.0)
                except asyncio.TimeoutError:
                    pass
                self._wake.clear()
                await asyncio.sleep(BATCH_SECONDS)  # let a batch gather
                await self._flush()
                if time.monotonic() >= next_prune:
                    next_prune = time.monotonic() + PRUNE_EVERY_SECONDS
                    await asyncio.to_thread(self._prune)
            await self._flush(retry=False)

    async def _received(self, message: Any) -> None:
        self._pending.append(message)
        self._wake.set()

    async def _flush(self, retry: bool = True) -> None:
        if not self._pending:
            return
        batch, self._pending = self._pending, []
        good, bodies = [], []
        for message in batch:
            try:
                bodies.append(json.loads(message.body))
                good.append(message)
            except ValueError:
                logger.error("question log: dropped a message that is not JSON")
                await _settle(message.reject(requeue=False))
        try:
            rows = self.store.rows_for(bodies)
        except Exception:
            logger.exception("question log: a batch could not be read; written one by one")
            rows = None
        if rows is None:
            for message, body in zip(good, bodies):
                try:
                    await self._write_until_stored(self.store.rows_for([body]), retry)
                    await _settle(message.ack())
                except ValueError:
                    await _settle(message.reject(requeue=False))
            return
        if await self._write_until_stored(rows, retry):
            for message in good:
                await _settle(message.ack())

    async def _write_until_stored(self, rows: List[dict], retry: bool) -> bool:
        delay = 0.5
        while True:
            try:
                self.written += await asyncio.to_thread(self.store.write, rows)
                return True
            except Exception as error:  # database away: keep the messages, try again
                if not retry or self._stop.is_set():
                    logger.error("question log: not written (%s); RabbitMQ keeps the messages", error)
                    return False
                logger.warning("question log: database write failed (%s); retrying in %.1fs", error, delay)
                await asyncio.sleep(delay)
                delay = min(RETRY_MAX_SECONDS, delay * 2)

    def _prune(self) -> None:
        try:
            removed = prune(self.sessions, retention_days())
            if removed:
                logger.info("question log: deleted %d rows past retention", removed)
        except Exception:
            logger.exception("question log: retention clean-up failed")


async def _settle(awaitable: Any) -> None:
    try:
        await awaitable
    except Exception:  # channel gone: RabbitMQ redelivers, the row check avoids a double
        logger.warning("question log: could not acknowledge a message", exc_info=True)


def run(env: Optional[Dict[str, str]] = None) -> int:
    env = dict(os.environ) if env is None else env
    url = rabbitmq_url(env)
    if not url:
        logger.error("questionlog-consumer needs RABBITMQ_URL")
        return 2
    sessions = session_factory(database_url(env))
    consumer = Consumer(url, question_log_queue(env), RowStore(sessions, prehashed(hash_key(env))), sessions)

    async def main() -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, consumer.stop)
        await consumer.run()

    asyncio.run(main())
    return 0
