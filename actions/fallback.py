"""Fallback bookkeeping: two misunderstandings in a row lead to a person."""
from __future__ import annotations

from typing import List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet, UserUtteranceReverted
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


class ActionUnexpectedTurn(Action):
    """The dialogue's own fallback (RulePolicy's core fallback): no rule or
    story covers this turn. Like Rasa's action_default_fallback it forgets the
    message (so it cannot steer later turns), and it offers the topic menu,
    from which the community team is one tap away."""

    def name(self) -> Text:
        return "action_unexpected_turn"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        dispatcher.utter_message(response="utter_default")
        dispatcher.utter_message(response="utter_menu")
        return [UserUtteranceReverted()]
