"""Writes question-log rows from a background thread, in batches.

The Rasa server only puts a finished turn on a queue (microseconds); masking,
hashing and the INSERT happen in this thread, so a slow database never slows
an answer. Rows older than QUESTION_LOG_RETENTION_DAYS are deleted hourly.
"""
from __future__ import annotations

import logging
import os
import queue
import threading
import time
from datetime import datetime, timedelta, timezone
from typing import Callable, List, Optional

from sqlalchemy import delete, insert
from sqlalchemy.orm import sessionmaker

from bot.db.models import QuestionLogEntry
from bot.handoff.tickets import prune as prune_tickets
from bot.questionlog import rollups
from bot.questionlog.masking import mask
from bot.questionlog.pseudonym import Pseudonymiser
from bot.questionlog.turns import Turn

logger = logging.getLogger(__name__)

BATCH_SIZE = 200
FLUSH_SECONDS = 0.5
# Turns arriving this soon after the first of a batch share its transaction.
GATHER_SECONDS = 0.25
PRUNE_EVERY_SECONDS = 3600
DEFAULT_RETENTION_DAYS = 180
_STOP = object()


def retention_days(env=None) -> int:  # noqa: ANN001
    env = os.environ if env is None else env
    raw = env.get("QUESTION_LOG_RETENTION_DAYS", "").strip()
    return int(raw) if raw else DEFAULT_RETENTION_DAYS


def row_for(turn: Turn, pseudonym: Callable[..., str]) -> dict:
    """The stored form of a turn: masked text, hashed ids."""
    return {
        "asked_at": turn.asked_at,
        "channel": turn.channel,
        "sender_hash": pseudonym(turn.sender_id),
        "conversation_id": pseudonym(turn.sender_id, str(turn.session_started or turn.asked_at.date())),
        "text_masked": mask(turn.text),
        "intent": turn.intent,
        "confidence": turn.confidence,
        "ranking": turn.ranking,
        "fallback": turn.fallback,
        "out_of_scope": turn.out_of_scope,
        "answer": ", ".join(turn.answer),
        "handoff": turn.handoff,
    }


def prune(sessions: sessionmaker, days: int, now: Optional[datetime] = None) -> int:
    """Delete log rows (and closed hand-off tickets) older than `days` days; how many log rows went."""
    cutoff = (now or datetime.now(timezone.utc)) - timedelta(days=days)
    with sessions() as session:
        result = session.execute(delete(QuestionLogEntry).where(QuestionLogEntry.asked_at < cutoff))
        rollups.prune(session, cutoff)
        prune_tickets(session, cutoff, now)
        session.commit()
        return result.rowcount or 0


class LogWriter:
    def __init__(self, sessions: sessionmaker, pseudonym: Pseudonymiser, days: Optional[int] = None) -> None:
        self._sessions = sessions
        self._pseudonym = pseudonym
        self._days = retention_days() if days is None else days
        self._queue: "queue.Queue" = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="question-log-writer", daemon=True)
        self._idle = threading.Event()
        self._thread.start()

    def put(self, turn: Turn) -> None:
        self._idle.clear()
        self._queue.put(turn)

    def flush(self, timeout: float = 10) -> bool:
        """Wait until everything queued so far is written (tests, shutdown)."""
        marker = threading.Event()
        self._queue.put(marker)
        return marker.wait(timeout)

    def close(self, timeout: float = 10) -> None:
        self._queue.put(_STOP)
        self._thread.join(timeout)

    def _run(self) -> None:
        next_prune = time.monotonic()
        while True:
            batch, markers, stop = self._collect()
            if batch:
                self._write(batch)
            for marker in markers:
                marker.set()
            if time.monotonic() >= next_prune:
                next_prune = time.monotonic() + PRUNE_EVERY_SECONDS
                self._prune()
            if stop:
                return

    def _collect(self):  # noqa: ANN202
        """The next batch: what arrives within GATHER_SECONDS of its first turn
        (one transaction for many turns under load), cut short by a flush
        marker, the stop signal or BATCH_SIZE."""
        batch: List[Turn] = []
        markers: List[threading.Event] = []
        try:
            item = self._queue.get(timeout=FLUSH_SECONDS)
        except queue.Empty:
            return batch, markers, False
        deadline = time.monotonic() + GATHER_SECONDS
        while True:
            if item is _STOP:
                return batch, markers, True
            if isinstance(item, threading.Event):
                markers.append(item)
                return batch, markers, False
            batch.append(item)
            remaining = deadline - time.monotonic()
            if len(batch) >= BATCH_SIZE or remaining <= 0:
                return batch, markers, False
            try:
                item = self._queue.get(timeout=remaining)
            except queue.Empty:
                return batch, markers, False

    def _write(self, batch: List[Turn]) -> None:
        try:
            self._insert([row_for(turn, self._pseudonym) for turn in batch])
        except Exception:
            # one bad row must not cost the others: write them one by one
            for turn in batch:
                try:
                    self._insert([row_for(turn, self._pseudonym)])
                except Exception:  # never take the assistant down
                    logger.exception("question log: could not write a row of %s", turn.channel)

    def _insert(self, rows: List[dict]) -> None:
        with self._sessions() as session:
            session.execute(insert(QuestionLogEntry), rows)
            rollups.record(session, rows)
            session.commit()

    def _prune(self) -> None:
        try:
            removed = prune(self._sessions, self._days)
            if removed:
                logger.info("question log: deleted %d rows older than %d days", removed, self._days)
        except Exception:
            logger.exception("question log: retention clean-up failed")
