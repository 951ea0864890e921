"""The question log as a Rasa event broker (endpoints.yml `event_broker`).

Rasa hands every event of every conversation, whatever the channel, to the
broker; this one turns them into question-log rows (turns.py) and leaves the
writing to a background thread (writer.py). The database is DATABASE_URL.
"""
from __future__ import annotations

import logging
from asyncio import AbstractEventLoop
from typing import Any, Dict, Optional

from rasa.core.brokers.broker import EventBroker
from rasa.utils.endpoints import EndpointConfig

from bot.db.engine import database_url, session_factory
from bot.questionlog.pseudonym import Pseudonymiser, hash_key
from bot.questionlog.turns import TurnAssembler
from bot.questionlog.writer import LogWriter

logger = logging.getLogger(__name__)


class QuestionLogBroker(EventBroker):
    def __init__(self, writer: LogWriter) -> None:
        self.writer = writer
        self.turns = TurnAssembler()

    @classmethod
    async def from_endpoint_config(
        cls, broker_config: EndpointConfig, event_loop: Optional[AbstractEventLoop] = None
    ) -> "QuestionLogBroker":
        url = database_url()
        logger.info("question log: writing to %s", url.split("@")[-1])
        return cls(LogWriter(session_factory(url), Pseudonymiser(hash_key())))

    def publish(self, event: Dict[str, Any]) -> None:
        try:
            turn = self.turns.feed(event)
        except Exception:
            logger.exception("question log: could not read event %s", event.get("event"))
            return
        if turn is not None:
            self.writer.put(turn)

    async def close(self) -> None:
        for turn in self.turns.drain():
            self.writer.put(turn)
        self.writer.close()
