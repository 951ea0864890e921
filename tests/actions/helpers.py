"""Build rasa-sdk trackers for action tests."""
from typing import Any, Dict, List, Optional

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.journeys.engine import JourneyState


def tracker(
    slots: Optional[Dict[str, Any]] = None,
    intent: str = "",
    text: str = "",
    entities: Optional[List[dict]] = None,
    active_loop: Optional[str] = None,
    events: Optional[List[dict]] = None,
) -> Tracker:
    return Tracker(
        sender_id="test",
        slots=dict(slots or {}),
        latest_message={"intent": {"name": intent, "confidence": 1.0}, "text": text, "entities": entities or []},
        events=events or [],
        paused=False,
        followup_action=None,
        active_loop={"name": active_loop} if active_loop else {},
        latest_action_name="action_listen",
    )


def journey_slots(journey: str, step: str, history=(), started: str = "2026-11-25") -> Dict[str, Any]:
    return JourneyState(journey, step, tuple(history), started).as_slots()


def texts(dispatcher: CollectingDispatcher) -> List[str]:
    return [m.get("text") or "" for m in dispatcher.messages]


def payloads(dispatcher: CollectingDispatcher) -> List[str]:
    return [b["payload"] for m in dispatcher.messages for b in m.get("buttons", [])]


def events_dict(events) -> Dict[str, Any]:
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}
