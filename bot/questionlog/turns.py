"""Rasa events -> one question-log row per resident message.

Rasa publishes a conversation's events in order: `user` (the message with its
NLU result), then the `action`s and `bot` messages that answered, then
`action_listen`. `TurnAssembler.feed` collects them per conversation and
returns a finished `Turn` when the answer is complete (or when the next
message arrives first).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Dict, List, Optional

FALLBACK_INTENT = "nlu_fallback"
OUT_OF_SCOPE_INTENT = "out_of_scope"
FALLBACK_ACTIONS = {"action_default_fallback", "action_check_fallback", "action_two_stage_fallback"}
HANDOFF_ACTIONS = {"handoff_form", "action_handoff", "utter_request_human"}
LISTEN = "action_listen"
RANKING_SIZE = 3
# The channel a Rasa input channel name stands for in the log.
CHANNEL_NAMES = {"rest": "web"}


@dataclass
class Turn:
    sender_id: str
    session_started: Optional[float]
    asked_at: datetime
    channel: str
    text: str
    intent: Optional[str]
    confidence: Optional[float]
    ranking: List[Dict[str, Any]]
    fallback: bool
    out_of_scope: bool
    answer: List[str] = field(default_factory=list)
    handoff: bool = False


class TurnAssembler:
    def __init__(self) -> None:
        self._pending: Dict[str, Turn] = {}
        self._sessions: Dict[str, float] = {}

    def feed(self, event: Dict[str, Any]) -> Optional[Turn]:
        """Take one published event; a finished turn when this event completes one."""
        sender = str(event.get("sender_id", ""))
        kind = event.get("event")
        if kind == "session_started":
            self._sessions[sender] = float(event.get("timestamp") or 0)
            return None
        if kind == "user":
            finished = self._pending.pop(sender, None)
            self._pending[sender] = self._start(sender, event)
            return finished
        turn = self._pending.get(sender)
        if turn is None or kind != "action":
            return None
        name = str(event.get("name") or "")
        if name == LISTEN:
            return self._pending.pop(sender) if turn.answer else None
        if name.startswith("action_session_start"):
            return None
        turn.answer.append(name)
        turn.fallback = turn.fallback or name in FALLBACK_ACTIONS
        turn.handoff = turn.handoff or name in HANDOFF_ACTIONS
        return None

    def drain(self) -> List[Turn]:
        """Turns still waiting for their answer (at shutdown)."""
        pending, self._pending = list(self._pending.values()), {}
        return pending

    def _start(self, sender: str, event: Dict[str, Any]) -> Turn:
        parse = event.get("parse_data") or {}
        intent = parse.get("intent") or {}
        name = intent.get("name")
        ranking = [
            {"name": item.get("name"), "confidence": round(float(item.get("confidence") or 0), 4)}
            for item in (parse.get("intent_ranking") or [])[:RANKING_SIZE]
        ]
        channel = str(event.get("input_channel") or "unknown")
        return Turn(
            sender_id=sender,
            session_started=self._sessions.get(sender),
            asked_at=datetime.fromtimestamp(float(event.get("timestamp") or 0), timezone.utc),
            channel=CHANNEL_NAMES.get(channel, channel),
            text=str(event.get("text") or ""),
            intent=name,
            confidence=float(intent["confidence"]) if intent.get("confidence") is not None else None,
            ranking=ranking,
            fallback=name == FALLBACK_INTENT,
            out_of_scope=name == OUT_OF_SCOPE_INTENT,
        )
