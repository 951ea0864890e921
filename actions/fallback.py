"""Fallback bookkeeping: two misunderstandings in a row lead to a person."""
from __future__ import annotations

from typing import List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

FALLBACK_INTENT = "nlu_fallback"


def previous_user_intent(events: List[dict]) -> str:
    """The intent of the user message before the latest one ('' if none)."""
    user_events = [e for e in events if e.get("event") == "user"]
    if len(user_events) < 2:
        return ""
    return ((user_events[-2].get("parse_data") or {}).get("intent") or {}).get("name") or ""


class ActionCheckFallback(Action):
    def name(self) -> Text:
        return "action_check_fallback"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        return [SlotSet("repeated_fallback", previous_user_intent(tracker.events) == FALLBACK_INTENT)]
