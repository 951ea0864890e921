"""The published answers in the shapes their readers use (journey catalogue, responses, sources).

Built from :func:`bot.answers.live.snapshot` and rebuilt only when its revision
changes. Rasa-free: the action server and the web app use it.
"""
from __future__ import annotations

import datetime
import threading
from dataclasses import replace
from typing import Any, Callable, Dict, List, Optional, Tuple

from bot.answers import live
from bot.journeys.engine import Catalogue, default_catalogue
from bot.library.catalogue import AnswerCatalogue, build_catalogue

class PerRevision:
    """A value built from the published answers' snapshot, rebuilt only when
    its revision changes (one build at a time)."""

    def __init__(self, build: Callable[[Any], Any]) -> None:
        self._build = build
        self._lock = threading.Lock()
        self._built: Tuple[Optional[int], Any] = (None, None)

    def get(self) -> Any:
        snapshot = live.snapshot()
        revision, value = self._built
        if revision == snapshot.revision and value is not None:
            return value
        with self._lock:
            revision, value = self._built
            if revision != snapshot.revision or value is None:
                value = self._build(snapshot)
                self._built = (snapshot.revision, value)
            return value


def journeys_with_texts(base: Catalogue, texts: Dict[str, Dict[str, str]]) -> Catalogue:
    """``base`` with the step texts of ``texts`` ({journey: {step: text}}); the structure stays the file's."""
    journeys = {}
    for journey_id, journey in base.journeys.items():
        published = texts.get(journey_id) or {}
        steps = {
            step_id: replace(step, text=published[step_id]) if published.get(step_id) else step
            for step_id, step in journey.steps.items()
        }
        journeys[journey_id] = replace(journey, steps=steps)
    return Catalogue(journeys)


def _journeys_of(snapshot: Any) -> Catalogue:
    return journeys_with_texts(default_catalogue(), snapshot.journey_texts())


_journeys = PerRevision(_journeys_of)


def journey_catalogue() -> Catalogue:
    """The journeys with their published step texts."""
    return _journeys.get()


def responses() -> Dict[str, List[Dict[str, Any]]]:
    return live.snapshot().responses()


def sources() -> Dict[str, List[Dict[str, Any]]]:
    return live.snapshot().sources()


def revision() -> int:
    return live.snapshot().revision


def as_date(value: Any) -> Optional[datetime.date]:
    if isinstance(value, datetime.date):
        return value
    try:
        return datetime.date.fromisoformat(str(value))
    except ValueError:
        return None


def checked_dates(sources: Dict[str, List[Dict[str, Any]]]) -> Dict[str, datetime.date]:
    """{intent: the latest check date of its sources}."""
    found: Dict[str, datetime.date] = {}
    for intent, items in sources.items():
        dates = [d for d in (as_date(item.get("checked")) for item in items if isinstance(item, dict)) if d]
        if dates:
            found[intent] = max(dates)
    return found


def _library_of(snapshot: Any) -> AnswerCatalogue:
    texts = snapshot.journey_texts()
    return build_catalogue(
        published_responses=snapshot.responses(),
        published_journeys=lambda base: journeys_with_texts(base, texts),
        published_dates=checked_dates(snapshot.sources()),
    )


_library = PerRevision(_library_of)


def library_catalogue() -> AnswerCatalogue:
    """The answer library (web pages, handouts, Telegram inline mode) of the published answers."""
    return _library.get()
