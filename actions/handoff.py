"""Hand-off to a person: ask the commune, open a ticket in the team's group.

When Telegram is on and the commune's team has a group (or
TELEGRAM_HANDOFF_CHAT_ID is set), `action_handoff` opens a ticket and posts the
resident's recent messages (masked) to the group; from then on the relay
(bot/handoff/relay.py) carries the conversation. Otherwise, or if the post
fails, the resident gets the team's contact from the directory.

The shipped sample rows of the directory ([MẪU]) are never shown nor used: with
only those (no real directory imported yet), the resident is not offered
sample communes, no ticket goes to a sample group, and the answer is the
general way (the commune People's Committee), or a ticket in
TELEGRAM_HANDOFF_CHAT_ID if that is set.
"""
from __future__ import annotations

import json
import logging
import os
from datetime import timedelta
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.journey import open_journey, say, state_of
from bot.db.engine import session_factory
from bot.db.models import utcnow
from bot.directory import Directory, Team, default_directory, in_sentence
from bot.handoff.relay import HANDOFF_CAPPED, end_button
from bot.handoff.residents import WEB_CHANNEL
from bot.handoff.team_chat import TeamChat, fallback_chat_id
from bot.handoff.tickets import TicketStore
from bot.journeys import render
from bot.prompts import section

UNKNOWN = "-"  # the resident could not or would not name a commune we know
CANCEL_INTENTS = {"deny", "journey_stop", "goodbye"}
MAX_ATTEMPTS = 2
MAX_COMMUNE_BUTTONS = 8  # more would bury the other buttons
RECENT_MESSAGES = 5
GENERIC_TEAM = "Tổ công nghệ số cộng đồng"
_team_chat: Dict[str, Optional[TeamChat]] = {}


def commune_buttons(directory: Directory) -> List[Dict[str, str]]:
    """A button per commune of the directory: its tap says `inform_commune` with the commune."""
    return [
        {"title": team.commune, "payload": "/inform_commune" + json.dumps({"commune": team.commune}, ensure_ascii=False)}
        for team in directory.teams
    ]


def prompts() -> Dict[str, str]:
    return section("handoff")


def resident_directory() -> Directory:
    """The directory residents may be shown: without the shipped sample rows ([MẪU])."""
    return default_directory().for_residents()


class ActionAskCommune(Action):
    def name(self) -> Text:
        return "action_ask_commune"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        directory = resident_directory()
        buttons = commune_buttons(directory) if len(directory.teams) <= MAX_COMMUNE_BUTTONS else []
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
        directory = resident_directory()
        if not directory.teams:
            return {"commune": UNKNOWN, "commune_attempts": 0}  # nothing to look up: the general way
        team = directory.find(str(value or ""))
        if team is not None:
            return {"commune": team.commune, "commune_attempts": 0}
        attempts = int(tracker.get_slot("commune_attempts") or 0) + 1
        if attempts >= MAX_ATTEMPTS:
            return {"commune": UNKNOWN, "commune_attempts": 0}
        dispatcher.utter_message(text=prompts()["not_found"])
        return {"commune": None, "commune_attempts": attempts}


def team_chat() -> Optional[TeamChat]:
    """The action server's Telegram bot for team groups (None when Telegram is off)."""
    if "chat" not in _team_chat:
        _team_chat["chat"] = TeamChat.from_env(TicketStore(session_factory()))
    return _team_chat["chat"]


def recent_messages(tracker: Tracker, limit: int = RECENT_MESSAGES) -> List[str]:
    """The resident's last typed messages (not button presses); TeamChat masks them."""
    typed = [
        event.get("text") or ""
        for event in tracker.events
        if event.get("event") == "user" and (event.get("text") or "").strip()
        and not (event.get("text") or "").startswith("/")
    ]
    return typed[-limit:]


def group_is_flooded(tickets: TicketStore, chat_id: int) -> bool:
    """HANDOFF_MAX_TICKETS_PER_GROUP_HOUR (default 30) new tickets in the last hour: no more posts
    to that group for now (a loop of fake residents cannot bury a team's group)."""
    try:
        limit = int(os.environ.get("HANDOFF_MAX_TICKETS_PER_GROUP_HOUR", "") or 30)
    except ValueError:
        limit = 30
    if tickets.opened_for_group(chat_id, utcnow() - timedelta(hours=1)) < limit:
        return False
    logging.getLogger(__name__).warning("hand-off: group %s had %s new tickets this hour; no more posts", chat_id, limit)
    return True


def capped(tracker: Tracker) -> bool:
    """The web app marked the resident's message: their client address has opened
    WEB_HANDOFF_TICKETS_PER_IP_HOUR tickets this hour (bot/web/limits.py)."""
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            return bool((event.get("metadata") or {}).get(HANDOFF_CAPPED))
    return False


async def open_ticket(tracker: Tracker, team: Optional[Team]) -> bool:
    """Open a ticket and post it to the team's group; False when that is not possible."""
    chat = team_chat()
    chat_id = (team.telegram_chat_id if team is not None else None) or fallback_chat_id()
    if chat is None or chat_id is None:
        return False
    if chat.tickets.active_for(tracker.sender_id) is None and group_is_flooded(chat.tickets, chat_id):
        return False  # the resident gets the team's contact instead
    channel = tracker.get_latest_input_channel() or WEB_CHANNEL
    ticket, new = chat.tickets.open(channel, tracker.sender_id, team.commune if team else None, chat_id)
    if not new:
        return True  # already with the team
    if await chat.post_ticket(ticket, recent_messages(tracker)):
        return True
    chat.tickets.discard(ticket.id)
    return False


class ActionHandoff(Action):
    """Opens a ticket in the team's group; without one, gives the team's contact
    (or where to find the team), then offers to go back to an open journey."""

    def name(self) -> Text:
        return "action_handoff"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        text = prompts()
        commune = tracker.get_slot("commune")
        team = resident_directory().find(commune) if commune and commune != UNKNOWN else None
        over_cap = capped(tracker)
        if not over_cap and await open_ticket(tracker, team):
            relay = section("relay")
            dispatcher.utter_message(text=relay["opened"].format(team=team.team_name if team else GENERIC_TEAM))
            if team is not None:
                dispatcher.utter_message(text=text["contact"].format(team=team.team_name, commune=in_sentence(team.commune), phone=team.phone))
            dispatcher.utter_message(text=relay["opened_wait"])
            dispatcher.utter_message(text=text["safety"], buttons=[end_button()])
            return [] if team is not None else [SlotSet("commune", None)]
        if over_cap:  # too many tickets from the resident's address this hour: no ticket
            message = text["capped"]
        elif team is not None:
            message = text["contact"].format(team=team.team_name, commune=in_sentence(team.commune), phone=team.phone)
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
