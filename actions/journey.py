"""Rasa SDK actions of the guided journeys (logic in bot/journeys/)."""
from __future__ import annotations

import datetime
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import ActiveLoop, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.answers import published
from bot.journeys import render
from bot.journeys.engine import CLOSED, Catalogue, Journey, JourneyState
from bot.journeys.interpret import interpret

FORM = "journey_form"
INPUT_SLOT = "journey_input"


def catalogue() -> Catalogue:
    """The journeys with the step texts published in the admin (bot/answers/)."""
    return published.journey_catalogue()


def today() -> datetime.date:
    return datetime.date.today()


def state_of(tracker: Tracker) -> JourneyState:
    return JourneyState.from_slots(tracker.current_slot_values())


def open_journey(tracker: Tracker) -> Optional[Journey]:
    state = state_of(tracker)
    journey = catalogue().get(state.journey)
    return journey if journey and state.step in journey.steps else None


def say(dispatcher: CollectingDispatcher, message: Dict[str, Any]) -> None:
    dispatcher.utter_message(text=message["text"], buttons=message.get("buttons", []))


def slot_events(values: Dict[str, Any]) -> List[EventType]:
    return [SlotSet(name, value) for name, value in values.items()]


class ActionStartJourney(Action):
    """Starts the journey named by the `journey_name` entity (replacing any open one)."""

    def name(self) -> Text:
        return "action_start_journey"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        journey_id = next(tracker.get_latest_entity_values("journey_name"), None)
        journey = catalogue().get(journey_id)
        if journey is None:  # no or unknown name: the form shows the list of journeys
            return [*slot_events(CLOSED.as_slots()), SlotSet(INPUT_SLOT, None)]
        state = catalogue().start(journey.id, today())
        say(dispatcher, render.prompt("started", journey, state))
        return [*slot_events(state.as_slots()), SlotSet(INPUT_SLOT, None)]


class ActionExtractJourneyInput(Action):
    """Custom slot mapping: turns the message into a journey command, or nothing
    (an interruption: the form is then rejected and the dialogue answers it)."""

    def name(self) -> Text:
        return "action_extract_journey_input"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        journey = open_journey(tracker)
        if tracker.active_loop_name != FORM or journey is None:
            return []
        message = tracker.latest_message or {}
        command = interpret(
            (message.get("intent") or {}).get("name"),
            message.get("text") or "",
            message.get("entities") or [],
            journey.step(state_of(tracker).step),
        )
        return [] if command is None else [SlotSet(INPUT_SLOT, command)]


class ValidateJourneyForm(FormValidationAction):
    """Applies the command to the journey; the form asks again (next step) or ends."""

    def name(self) -> Text:
        return "validate_journey_form"

    def validate_journey_input(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        if not value:  # the slot was only cleared (form activation): nothing to apply
            return {INPUT_SLOT: None}
        state = state_of(tracker)
        journey = catalogue().get(state.journey)
        outcome = catalogue().apply(state, str(value))
        for message in render.render_notes(outcome.notes, journey, state):
            say(dispatcher, message)
        slots: Dict[Text, Any] = dict(outcome.slots)
        if outcome.paused:
            say(dispatcher, render.paused_message(journey, state))
            return {**slots, INPUT_SLOT: "paused"}
        if outcome.completed:
            if journey is not None and outcome.state.step:
                say(dispatcher, render.step_message(journey, outcome.state))
            return {**slots, **CLOSED.as_slots(), INPUT_SLOT: "completed"}
        return {**slots, **outcome.state.as_slots(), INPUT_SLOT: None}


class ActionAskJourneyInput(Action):
    """What the form says when it waits for the resident: the current step."""

    def name(self) -> Text:
        return "action_ask_journey_input"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        journey = open_journey(tracker)
        if journey is None:
            say(dispatcher, render.journey_menu())
            return [SlotSet(INPUT_SLOT, None), ActiveLoop(None), SlotSet("requested_slot", None)]
        say(dispatcher, render.step_message(journey, state_of(tracker)))
        return []


class ActionResumeJourney(Action):
    """Back into the open journey ("tiếp tục", or a step button pressed later)."""

    def name(self) -> Text:
        return "action_resume_journey"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        journey = open_journey(tracker)
        if journey is not None:
            say(dispatcher, render.prompt("resumed", journey, state_of(tracker)))
        return [SlotSet(INPUT_SLOT, None)]


class ActionPauseJourney(Action):
    def name(self) -> Text:
        return "action_pause_journey"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        journey = open_journey(tracker)
        if journey is not None:
            say(dispatcher, render.paused_message(journey, state_of(tracker)))
        return []


class ActionNoJourneyOpen(Action):
    def name(self) -> Text:
        return "action_no_journey_open"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        say(dispatcher, render.journey_menu("none_open"))
        return []


class ActionJourneyDone(Action):
    """After the form ends: ready for the next journey."""

    def name(self) -> Text:
        return "action_journey_done"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        return [SlotSet(INPUT_SLOT, None)]


class ActionOfferResume(Action):
    """Ends every answer: if a journey was interrupted, leave it (kept open) and
    offer to continue where the resident was."""

    def name(self) -> Text:
        return "action_offer_resume"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        journey = open_journey(tracker)
        if tracker.active_loop_name != FORM or journey is None:
            return []
        say(dispatcher, render.resume_offer(journey, state_of(tracker)))
        return [ActiveLoop(None), SlotSet("requested_slot", None), SlotSet(INPUT_SLOT, None)]
