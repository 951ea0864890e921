"""What a message means inside a journey: a command, or an interruption.

Returns a command for :meth:`bot.journeys.engine.Catalogue.apply`, or ``None``
when the message is about something else (another topic, a scam warning, a
request for a person): the dialogue then answers it and offers to come back.
"""
from __future__ import annotations

from typing import Iterable, Optional

from bot.journeys.engine import BACK, CHOICE_PREFIX, INVALID, NEXT, NO, RESUME, STOP, YES, Step
from bot.nlu.normalizer import has_words, nfc_lower

NAVIGATION = {"journey_next": NEXT, "journey_back": BACK, "journey_stop": STOP, "journey_resume": RESUME}
# Never swallowed by a journey: the safety answer and the way to a person win.
ALWAYS_INTERRUPT = {"report_scam", "request_human", "start_journey"}
NOT_UNDERSTOOD = {"nlu_fallback", "out_of_scope"}
# Words the folded NLU view cannot tell apart ("dừng" and "đúng" both fold to
# "dung"): when typed with diacritics, the raw text decides.
RAW_COMMANDS = {"dừng": STOP, "dừng lại": STOP, "tạm dừng": STOP, "ngừng": STOP}


def interpret(intent: Optional[str], text: str, entities: Iterable[dict], step: Step) -> Optional[str]:
    """The journey command a message gives at ``step``, or None if it is an interruption."""
    if intent in ALWAYS_INTERRUPT:
        return None
    raw = " ".join(nfc_lower(text or "").strip(" .!?").split())
    if raw in RAW_COMMANDS:
        return RAW_COMMANDS[raw]
    if intent in NAVIGATION:
        return NAVIGATION[intent]
    chosen = next((e.get("value") for e in entities if e.get("entity") == "journey_choice"), None)
    if chosen is not None:
        return CHOICE_PREFIX + str(chosen)
    if step.is_question:
        typed = step.match_typed(text or "")
        if typed is not None:
            return CHOICE_PREFIX + typed.value
    if intent == "affirm":
        return CHOICE_PREFIX + YES
    if intent == "deny":
        return CHOICE_PREFIX + NO
    if intent in NOT_UNDERSTOOD or intent is None or not has_words(text or ""):
        return INVALID
    return None
