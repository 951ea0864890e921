"""Small helpers shared by our NLU components."""
from __future__ import annotations

from typing import Optional

from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY, PREDICTED_CONFIDENCE_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message


def typed_text(message: Message) -> Optional[str]:
    """The text the resident typed, or None for button payloads ('/intent{...}')."""
    text = message.get(TEXT)
    if not isinstance(text, str) or text.startswith("/"):
        return None
    return text


def force_intent(message: Message, intent: str) -> None:
    """Set the message's intent with full confidence (the ranking is kept)."""
    message.set(INTENT, {INTENT_NAME_KEY: intent, PREDICTED_CONFIDENCE_KEY: 1.0}, add_to_output=True)
