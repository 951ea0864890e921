"""The resident's side of a hand-off: deliver a message on their channel.

Telegram and Zalo residents get it through the messenger output channel
registered in this process (bot/channels/registry.py); web chat residents
("rest") find it in the web outbox, which the chat page polls.
"""
from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any, Dict, List

from sqlalchemy import select, update
from sqlalchemy.orm import sessionmaker

from bot.channels import registry
from bot.db.models import WebOutbox, utcnow

if TYPE_CHECKING:  # Rasa is only imported by the Rasa server itself
    from rasa.core.channels.channel import OutputChannel

logger = logging.getLogger(__name__)

WEB_CHANNEL = "rest"
OUTBOX_BATCH = 50


class WebOutboxStore:
    def __init__(self, sessions: sessionmaker) -> None:
        self._sessions = sessions

    def put(self, conversation_id: str, message: Dict[str, Any]) -> None:
        with self._sessions() as session:
            session.add(WebOutbox(conversation_id=conversation_id, message=message))
            session.commit()

    def take(self, conversation_id: str) -> List[Dict[str, Any]]:
        """Undelivered messages of a conversation, oldest first, marked delivered."""
        with self._sessions() as session:
            rows = session.execute(
                select(WebOutbox)
                .where(WebOutbox.conversation_id == conversation_id, WebOutbox.delivered_at.is_(None))
                .order_by(WebOutbox.id)
                .limit(OUTBOX_BATCH)
            ).scalars().all()
            if not rows:
                return []
            session.execute(
                update(WebOutbox).where(WebOutbox.id.in_([row.id for row in rows])).values(delivered_at=utcnow())
            )
            messages = [dict(row.message) for row in rows]
            session.commit()
            return messages


async def send_message(output: "OutputChannel", recipient: str, message: Dict[str, Any]) -> None:
    """One {"text", "buttons"} message through a channel's output."""
    if message.get("buttons"):
        await output.send_text_with_buttons(recipient, message.get("text", ""), message["buttons"])
    else:
        await output.send_text_message(recipient, message.get("text", ""))


class ResidentMessenger:
    def __init__(self, outbox: WebOutboxStore) -> None:
        self.outbox = outbox

    async def send(self, channel: str, conversation_id: str, message: Dict[str, Any]) -> bool:
        """Deliver a {"text", "buttons"} message; True if it went out (or was queued for the web chat)."""
        if channel == WEB_CHANNEL:
            await asyncio.to_thread(self.outbox.put, conversation_id, message)
            return True
        output = registry.output_for(channel)
        if output is None:
            logger.error("hand-off: no %s channel in this process; message for %s dropped", channel, conversation_id)
            return False
        await send_message(output, conversation_id, message)
        return True
