"""Hand-off to a person: ask the commune, give its community team's contact.

The live relay to the team's Telegram group comes with the team toolkit; until
a relay is configured the assistant gives the directory's contact.
"""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.journey import open_journey, say, state_of
from bot.directory import default_directory
from bot.journeys import render
from bot.prompts import section

UNKNOWN = "-"  # the resident could not or would not name a commune we know
CANCEL_INTENTS = {"deny", "journey_stop", "goodbye"}
MAX_ATTEMPTS = 2
MAX_COMMUNE_BUTTONS = 8


def prompts() -> Dict[str, str]:
    return section("handoff")


class ActionAskCommune(Action):
    def name(self) -> Text:
        return "action_ask_commune"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        teams = default_directory().teams
        buttons = []
        if len(teams) <= MAX_COMMUNE_BUTTONS:
            buttons = [
                {"title": team.commune, "payload": '/inform_commune{"commune": "%s"}' % team.commune}
                for team in teams
            ]
        dispatcher.utter_message(text=prompts()["ask_commune"], buttons=buttons)
        return []


class ActionExtractCommune(Action):
    """Custom slot mapping: what the resident answered to "which commune?"."""

    def name(self) -> Text:
        return "action_extract_commune"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        if tracker.active_loop_name != "handoff_form":
            return []
        message = tracker.latest_message or {}
        intent = (message.get("intent") or {}).get("name")
        if intent == "report_scam":
            return []  # the safety answer wins; the question is asked again after it
        if intent in CANCEL_INTENTS:
            return [SlotSet("commune", UNKNOWN)]
        named = next(tracker.get_latest_entity_values("commune"), None)
        return [SlotSet("commune", named or message.get("text") or "")]


class ValidateHandoffForm(FormValidationAction):
    def name(self) -> Text:
        return "validate_handoff_form"

    def validate_commune(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        if value == UNKNOWN:
            return {"commune": UNKNOWN, "commune_attempts": 0}
        team = default_directory().find(str(value or ""))
        if team is not None:
            return {"commune": team.commune, "commune_attempts": 0}
        attempts = int(tracker.get_slot("commune_attempts") or 0) + 1
        if attempts >= MAX_ATTEMPTS:
            return {"commune": UNKNOWN, "commune_attempts": 0}
        dispatcher.utter_message(text=prompts()["not_found"])
        return {"commune": None, "commune_attempts": attempts}


class ActionHandoff(Action):
    """Gives the team's contact (or where to find the team), then offers to go
    back to an open journey."""

    def name(self) -> Text:
        return "action_handoff"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        text = prompts()
        commune = tracker.get_slot("commune")
        team = default_directory().find(commune) if commune and commune != UNKNOWN else None
        if team is not None:
            message = text["contact"].format(team=team.team_name, commune=team.commune, phone=team.phone)
        else:
            message = text["generic"]
        dispatcher.utter_message(text=message)
        dispatcher.utter_message(
            text=text["safety"],
            buttons=[{"title": "📋 Menu", "payload": "/ask_help_menu"}],
        )
        journey = open_journey(tracker)
        if journey is not None:
            say(dispatcher, render.resume_offer(journey, state_of(tracker)))
        return [] if team is not None else [SlotSet("commune", None)]
