"""The question log as a Rasa event broker (endpoints.yml `event_broker`).

Rasa hands every event of every conversation, whatever the channel, to the
broker; this one turns them into question-log rows (turns.py) and leaves the
writing to a background thread (writer.py). The database is DATABASE_URL.

With RABBITMQ_URL set, `MaskingPikaBroker` publishes the events instead
(masked) and `python -m bot questionlog-consumer` (consumer.py) writes them.
"""
from __future__ import annotations

import logging
from asyncio import AbstractEventLoop
from typing import Any, Callable, Dict, List, Optional
from urllib.parse import unquote, urlparse

from rasa.core.brokers.broker import EventBroker
import rasa.shared.core.events  # noqa: F401  (Rasa's pika module uses it without importing it)
from rasa.core.brokers.pika import PikaEventBroker
from rasa.utils.endpoints import EndpointConfig

from bot.db.engine import database_url, session_factory
from bot.questionlog.pseudonym import Pseudonymiser, hash_key
from bot.questionlog.published import BATCH_KIND, batch_message
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


# -- several Rasa servers: the question log through RabbitMQ ----------------

class MaskingPikaBroker(PikaEventBroker):
    """Rasa's RabbitMQ broker, publishing only masked, reduced events.

    endpoints.yml `event_broker: {type: bot.questionlog.broker.MaskingPikaBroker,
    url: amqp://user:password@host:5672/vhost, queues: [...]}`. The queue is
    durable and messages persistent (Rasa's defaults), so RabbitMQ keeps them on
    disk until `python -m bot questionlog-consumer` has committed them: that is
    why personal data is masked and the sender hashed here, before publishing.
    While RabbitMQ is unreachable Rasa keeps unpublished messages in memory and
    sends them when it reconnects.
    """

    def __init__(self, host: str, pseudonym: Optional[Callable[..., str]] = None, **kwargs: Any) -> None:
        parsed = urlparse(host)
        kwargs.setdefault("username", unquote(parsed.username or "guest"))
        kwargs.setdefault("password", unquote(parsed.password or "guest"))
        kwargs.setdefault("port", parsed.port or 5672)
        kwargs.setdefault("connection_attempts", 5)
        kwargs.setdefault("retry_delay_in_seconds", 2)
        super().__init__(host, **kwargs)
        self.pseudonym = pseudonym or Pseudonymiser(hash_key())

    def publish(self, event: Dict[str, Any], headers: Optional[Dict[str, str]] = None) -> None:
        if event.get("kind") == BATCH_KIND:  # ours, e.g. re-sent after a reconnect
            super().publish(event, headers)
            return
        self.publish_batch(str(event.get("sender_id", "")), None, [event])

    def publish_batch(self, sender_id: str, session_started: Optional[float], events: List[Dict[str, Any]]) -> None:
        try:
            message = batch_message(self.pseudonym, sender_id, session_started, events)
        except Exception:
            logger.exception("question log: could not prepare events for RabbitMQ")
            return
        if message is not None:
            super().publish(message)
