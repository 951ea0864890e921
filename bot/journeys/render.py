"""Turn journey states and prompts into messages (text + buttons) for any channel."""
from __future__ import annotations

import datetime
import json
from typing import Any, Dict, List, Optional

from bot.formatting import format_long_date
from bot.journeys.engine import Journey, JourneyState, Step, default_catalogue
from bot.prompts import section


Message = Dict[str, Any]

NEXT_PAYLOAD = "/journey_next"
BACK_PAYLOAD = "/journey_back"
STOP_PAYLOAD = "/journey_stop"
RESUME_PAYLOAD = "/journey_resume"
HUMAN_PAYLOAD = "/request_human"
MENU_PAYLOAD = "/ask_help_menu"


def choice_payload(value: str) -> str:
    return "/journey_choose" + json.dumps({"journey_choice": value}, ensure_ascii=False)


def start_payload(journey_id: str) -> str:
    return "/start_journey" + json.dumps({"journey_name": journey_id}, ensure_ascii=False)


def prompts() -> Dict[str, Any]:
    return section("journey")


def _button(key: str, payload: str) -> Dict[str, str]:
    return {"title": prompts()["buttons"][key], "payload": payload}


def _context(journey: Optional[Journey], state: JourneyState) -> Dict[str, str]:
    context = {"title": journey.title if journey else "", "date": "", "position": ""}
    if state.started:
        context["date"] = format_long_date(datetime.date.fromisoformat(state.started))
    if journey and state.step in journey.steps:
        i, n = journey.position(state.step, list(state.history))
        context["position"] = prompts()["step_prefix"].format(i=i, n=n).rstrip(": ")
    return context


def prompt(key: str, journey: Optional[Journey] = None, state: JourneyState = JourneyState(), buttons=None) -> Message:
    message: Message = {"text": prompts()[key].format(**_context(journey, state))}
    if buttons:
        message["buttons"] = buttons
    return message


def step_message(journey: Journey, state: JourneyState) -> Message:
    """'Bước i/n: …' with the step's choices and the navigation buttons."""
    step: Step = journey.step(state.step)
    i, n = journey.position(state.step, list(state.history))
    text = prompts()["step_prefix"].format(i=i, n=n) + step.text
    buttons: List[Dict[str, str]] = [{"title": c.title, "payload": choice_payload(c.value)} for c in step.choices]
    if step.is_last:
        if step.offer_journey:
            buttons.append({"title": "🧭 " + _title_of(step.offer_journey), "payload": start_payload(step.offer_journey)})
        buttons += [_button("menu", MENU_PAYLOAD), _button("human", HUMAN_PAYLOAD)]
    else:
        if not step.is_question:
            buttons.append(_button("next", NEXT_PAYLOAD))
        if state.history:
            buttons.append(_button("back", BACK_PAYLOAD))
        buttons += [_button("stop", STOP_PAYLOAD), _button("human", HUMAN_PAYLOAD)]
    return {"text": text, "buttons": buttons}


def resume_offer(journey: Journey, state: JourneyState) -> Message:
    """After an answer on another topic: offer to go back to the open journey."""
    return prompt(
        "offer_resume", journey, state,
        buttons=[_button("resume", RESUME_PAYLOAD), _button("stop", STOP_PAYLOAD)],
    )


def paused_message(journey: Journey, state: JourneyState) -> Message:
    return prompt("paused", journey, state, buttons=[_button("resume", RESUME_PAYLOAD), _button("menu", MENU_PAYLOAD)])


def journey_menu(key: str = "choose_journey") -> Message:
    """The list of journeys as buttons."""
    buttons = [
        {"title": "🧭 " + journey.button, "payload": start_payload(journey.id)}
        for journey in default_catalogue().journeys.values()
    ]
    return prompt(key, buttons=buttons + [_button("menu", MENU_PAYLOAD)])


def _title_of(journey_id: str) -> str:
    journey = default_catalogue().get(journey_id)
    return journey.button if journey else journey_id


def render_notes(notes: List[str], journey: Optional[Journey], state: JourneyState) -> List[Message]:
    return [prompt(key, journey, state) for key in notes]

