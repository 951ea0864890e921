"""The question log's RabbitMQ message: masked, reduced events of one save.

Built by the Rasa server (broker.py `MaskingPikaBroker`), read by
`python -m bot questionlog-consumer` (consumer.py); no Rasa import here.
"""
from __future__ import annotations

import uuid
from typing import Any, Callable, Dict, List, Optional

from bot.questionlog.masking import mask
from bot.questionlog.turns import RANKING_SIZE

BATCH_KIND = "trolyso.turn-events/1"
USER_FIELDS = ("event", "timestamp", "input_channel")


def reduced_event(event: Dict[str, Any]) -> Optional[Dict[str, Any]]:
    """What the question log needs of an event, personal data masked; None: not needed.

    Only `user` (masked text, intent, ranking), `action` (name) and
    `session_started` events go out; slots, entities and bot texts never leave
    the Rasa server.
    """
    kind = event.get("event")
    if kind == "user":
        parse = event.get("parse_data") or {}
        intent = parse.get("intent") or {}
        reduced = {key: event.get(key) for key in USER_FIELDS}
        reduced["text"] = mask(str(event.get("text") or ""))
        reduced["parse_data"] = {
            "intent": {"name": intent.get("name"), "confidence": intent.get("confidence")},
            "intent_ranking": [
                {"name": item.get("name"), "confidence": item.get("confidence")}
                for item in (parse.get("intent_ranking") or [])[:RANKING_SIZE]
            ],
        }
        return reduced
    if kind == "action":
        return {"event": kind, "timestamp": event.get("timestamp"), "name": event.get("name")}
    if kind == "session_started":
        return {"event": kind, "timestamp": event.get("timestamp")}
    return None


def batch_message(
    pseudonym: Callable[..., str], sender_id: str, session_started: Optional[float], events: List[Dict[str, Any]]
) -> Optional[Dict[str, Any]]:
    """One RabbitMQ message: a save's events of one conversation, masked, sender hashed."""
    reduced = [r for r in (reduced_event(e) for e in events) if r is not None]
    if not reduced:
        return None
    return {
        "kind": BATCH_KIND,
        "id": uuid.uuid4().hex,
        "sender": pseudonym(sender_id),
        "session_started": session_started,
        "events": reduced,
    }
