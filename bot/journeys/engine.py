"""Guided journeys: the structure, the state, and how a command moves the state.

A journey is a graph of steps read from ``journeys.yml``. An information step
has ``next`` (the following step, or ``None`` at the end); a question step has
``choices``, each leading to its own next step. The step texts live there too:
with the domain's responses they are the one answer source of the bot and the
answer library.

Everything here is pure: :func:`apply` takes a state and a command and returns
the new state and what to tell the resident. The Rasa actions
(``actions/journey.py``) store the state in slots and render the steps.
"""
from __future__ import annotations

import datetime
import json
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import yaml

from bot.nlu.normalizer import normalize

DEFINITIONS_PATH = Path(__file__).with_name("journeys.yml")

YES, NO = "yes", "no"

# Commands the resident can give inside a journey.
NEXT, BACK, STOP, RESUME, INVALID = "next", "back", "stop", "resume", "invalid"
CHOICE_PREFIX = "choice:"


class JourneyDefinitionError(ValueError):
    """journeys.yml is inconsistent."""


@dataclass(frozen=True)
class Choice:
    title: str
    value: str
    next: Optional[str]


@dataclass(frozen=True)
class Step:
    id: str
    text: str
    next: Optional[str] = None
    choices: Tuple[Choice, ...] = ()
    slot: Optional[str] = None
    offer_journey: Optional[str] = None

    @property
    def is_question(self) -> bool:
        return bool(self.choices)

    @property
    def is_last(self) -> bool:
        return not self.choices and self.next is None

    def choice_for(self, value: str) -> Optional[Choice]:
        return next((c for c in self.choices if c.value == value), None)

    def match_typed(self, text: str) -> Optional[Choice]:
        """The choice a typed answer names ('tien dien' -> 'Tiền điện'): an exact
        match, else the one choice whose title the answer contains."""
        typed = normalize(text)
        if not typed:
            return None
        titles = {c.value: normalize(c.title) for c in self.choices}
        exact = [c for c in self.choices if titles[c.value] == typed]
        if exact:
            return exact[0]
        contained = [c for c in self.choices if f" {titles[c.value]} " in f" {typed} "]
        # "khong co" contains both "co" and "khong co": the longest title decides
        contained.sort(key=lambda c: len(titles[c.value]), reverse=True)
        if len(contained) == 1 or (
            len(contained) > 1 and len(titles[contained[0].value]) > len(titles[contained[1].value])
        ):
            return contained[0]
        return None


@dataclass(frozen=True)
class Journey:
    id: str
    title: str
    first: str
    steps: Dict[str, Step]
    button: str = ""  # short title for buttons (≤ 30 characters)

    def step(self, step_id: str) -> Step:
        return self.steps[step_id]

    def position(self, step_id: str, history: List[str]) -> Tuple[int, int]:
        """(i, n) of "Bước i/n": n follows the path taken so far, and beyond the
        current step the first choice of every question still ahead."""
        index = len(history) + 1
        remaining, current = 0, self.steps[step_id]
        while True:
            following = current.choices[0].next if current.choices else current.next
            if following is None:
                break
            remaining += 1
            current = self.steps[following]
        return index, index + remaining


@dataclass(frozen=True)
class JourneyState:
    """What is stored in the tracker's slots between messages."""

    journey: Optional[str] = None
    step: Optional[str] = None
    history: Tuple[str, ...] = ()
    started: Optional[str] = None  # ISO date the journey was started

    @property
    def is_open(self) -> bool:
        return self.journey is not None and self.step is not None

    def as_slots(self) -> Dict[str, Any]:
        return {
            "journey": self.journey,
            "journey_step": self.step,
            "journey_history": list(self.history),
            "journey_started": self.started,
            "journey_open": self.is_open,
        }

    @classmethod
    def from_slots(cls, slots: Dict[str, Any]) -> "JourneyState":
        history = slots.get("journey_history") or []
        if isinstance(history, str):  # tolerate a JSON string from older trackers
            history = json.loads(history)
        return cls(
            journey=slots.get("journey"),
            step=slots.get("journey_step"),
            history=tuple(history),
            started=slots.get("journey_started"),
        )


CLOSED = JourneyState()


@dataclass
class Outcome:
    """Result of a command: the new state and what to say before the next step."""

    state: JourneyState
    notes: List[str] = field(default_factory=list)  # prompt keys (prompts.yml) to say first
    show_step: bool = True  # render the (new) current step
    paused: bool = False  # leave the journey; the state is kept for "tiếp tục"
    completed: bool = False  # the last step is shown; then the journey is closed
    slots: Dict[str, Any] = field(default_factory=dict)  # extra slots (e.g. bank)

    @property
    def ends_form(self) -> bool:
        return self.paused or self.completed


class Catalogue:
    """All journeys, validated when loaded."""

    def __init__(self, journeys: Dict[str, Journey]) -> None:
        self.journeys = journeys
        for journey in journeys.values():
            _validate(journey, journeys)

    @classmethod
    def from_file(cls, path: Path = DEFINITIONS_PATH) -> "Catalogue":
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
        journeys = {}
        for journey_id, spec in data.items():
            steps = {}
            for step_id, step in (spec.get("steps") or {}).items():
                steps[step_id] = Step(
                    id=step_id,
                    text=str(step["text"]),
                    next=step.get("next"),
                    choices=tuple(
                        Choice(title=str(c["title"]), value=str(c["value"]), next=c.get("next"))
                        for c in step.get("choices") or []
                    ),
                    slot=step.get("slot"),
                    offer_journey=step.get("offer_journey"),
                )
            journeys[journey_id] = Journey(
                journey_id, str(spec["title"]), spec["first"], steps, str(spec.get("button") or spec["title"])
            )
        return cls(journeys)

    def get(self, journey_id: Optional[str]) -> Optional[Journey]:
        return self.journeys.get(journey_id or "")

    def start(self, journey_id: str, today: datetime.date) -> JourneyState:
        journey = self.journeys[journey_id]
        return JourneyState(journey_id, journey.first, (), today.isoformat())

    def apply(self, state: JourneyState, command: str) -> Outcome:
        """Move ``state`` by ``command`` (NEXT, BACK, STOP, RESUME, INVALID, 'choice:<value>')."""
        journey = self.get(state.journey)
        if journey is None or state.step not in journey.steps:
            return Outcome(CLOSED, notes=["none_open"], show_step=False, completed=True)
        step = journey.step(state.step)

        if command == STOP:
            return Outcome(state, show_step=False, paused=True)
        if command == RESUME:
            return Outcome(state)
        if command == BACK:
            if not state.history:
                return Outcome(state, notes=["first_step"])
            return Outcome(replace(state, step=state.history[-1], history=state.history[:-1]))
        if command == NEXT:
            if step.is_question:
                return Outcome(state, notes=["choose_first"])
            return self._go(journey, state, step, step.next)
        if command.startswith(CHOICE_PREFIX):
            value = command[len(CHOICE_PREFIX):]
            choice = step.choice_for(value)
            if choice is None:
                if not step.is_question and value == YES:
                    return self._go(journey, state, step, step.next)
                return Outcome(state, notes=[_expectation(step)])
            outcome = self._go(journey, state, step, choice.next)
            if step.slot and choice.value != "skip":
                outcome.slots[step.slot] = choice.value
            return outcome
        return Outcome(state, notes=[_expectation(step)])

    @staticmethod
    def _go(journey: Journey, state: JourneyState, step: Step, target: Optional[str]) -> Outcome:
        if target is None:  # defensive: a last step has no way forward
            return Outcome(CLOSED, show_step=False, completed=True)
        new_state = replace(state, step=target, history=state.history + (step.id,))
        return Outcome(new_state, completed=journey.step(target).is_last)


def _expectation(step: Step) -> str:
    """The prompt that says what this step expects."""
    return "expect_choice" if step.is_question else "expect_next"


def _validate(journey: Journey, journeys: Dict[str, Journey]) -> None:
    if journey.first not in journey.steps:
        raise JourneyDefinitionError(f"{journey.id}: first step {journey.first!r} is missing")
    for step in journey.steps.values():
        targets = [c.next for c in step.choices] or [step.next]
        for target in targets:
            if target is not None and target not in journey.steps:
                raise JourneyDefinitionError(f"{journey.id}.{step.id}: unknown next step {target!r}")
        if step.choices and any(c.next is None for c in step.choices):
            raise JourneyDefinitionError(f"{journey.id}.{step.id}: a choice must lead to a step")
        if step.offer_journey and step.offer_journey not in journeys:
            raise JourneyDefinitionError(f"{journey.id}.{step.id}: unknown journey {step.offer_journey!r}")
    # Every step reachable, no cycles (so every path ends).
    seen: set = set()

    def walk(step_id: str, path: Tuple[str, ...]) -> None:
        if step_id in path:
            raise JourneyDefinitionError(f"{journey.id}: cycle through {step_id!r}")
        seen.add(step_id)
        step = journey.steps[step_id]
        for target in [c.next for c in step.choices] or [step.next]:
            if target is not None:
                walk(target, path + (step_id,))

    walk(journey.first, ())
    unreachable = set(journey.steps) - seen
    if unreachable:
        raise JourneyDefinitionError(f"{journey.id}: unreachable steps {sorted(unreachable)}")


@lru_cache(maxsize=1)
def default_catalogue() -> Catalogue:
    return Catalogue.from_file()
