"""`ask_community_team` and a commune named outside the hand-off: the team's
contact from the directory (bot/directory/teams.py), or the general answer with a
way to find one's team.

Sample rows of the directory ([MẪU], the shipped example) are never shown:
with only those, the resident is sent to the commune People's Committee.

Which commune: the `commune` entity (a button), else a commune named in the
text, else (for a question, not for a named commune) the `commune` slot left
by a hand-off. The rule then adds utter_community_team_safety (the safety line
with the buttons). Texts: bot/community_team.yml.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Dict, List, Optional, Text

import yaml
from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.handoff import MAX_COMMUNE_BUTTONS, UNKNOWN, commune_buttons
from bot.directory import Directory, Team, default_directory, in_sentence
from bot.settings import PROJECT_ROOT

TEXTS_PATH = PROJECT_ROOT / "bot" / "community_team.yml"
INFORM_COMMUNE = "inform_commune"


@lru_cache(maxsize=1)
def texts(path: Path = TEXTS_PATH) -> Dict[str, str]:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


class ActionCommunityTeam(Action):
    def name(self) -> Text:
        return "action_community_team"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        directory = default_directory().for_residents()
        message = tracker.latest_message or {}
        intent = (message.get("intent") or {}).get("name")
        named = next(tracker.get_latest_entity_values("commune"), None)
        team = directory.find(str(named or message.get("text") or ""))
        if team is None and not named and intent != INFORM_COMMUNE:
            team = self.from_slot(tracker, directory)
        say = texts()
        if team is not None:
            commune = in_sentence(team.commune)
            dispatcher.utter_message(text=say["contact"].format(commune=commune, team=team.team_name, phone=team.phone))
        elif named or intent == INFORM_COMMUNE:
            dispatcher.utter_message(text=say["not_found"])
        else:
            self.general(dispatcher, directory)
        return []

    @staticmethod
    def from_slot(tracker: Tracker, directory: Directory) -> Optional[Team]:
        commune = tracker.get_slot("commune")
        if not commune or commune == UNKNOWN:
            return None
        return directory.find(str(commune))

    @staticmethod
    def general(dispatcher: CollectingDispatcher, directory: Directory) -> None:
        say = texts()
        dispatcher.utter_message(text=say["intro"])
        if not directory.teams:
            dispatcher.utter_message(text=say["ask_locally"])
        elif len(directory.teams) <= MAX_COMMUNE_BUTTONS:
            dispatcher.utter_message(text=say["choose_commune"], buttons=commune_buttons(directory))
        else:
            dispatcher.utter_message(text=say["type_commune"].format(example=in_sentence(directory.teams[0].commune)))
