"""Scam guard: the narrow, always-on core of scam detection.

Placed after the intent classifiers, it sets the intent to ``report_scam`` with
full confidence when the normalised text matches a pattern of
``scam_patterns.yml``: someone asking the resident to give, read, pay, install
or click, the resident saying they already did, an impersonation or a named
scheme. A word alone ("OTP", "phí", "link") is not enough: the resident's own
trouble ("mã OTP không về") is a question for its topic, and the classifier
(intent ``report_scam``) decides the cases the core does not name.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.message_text import force_intent, typed_text
from bot.nlu.scam_detector import SCAM_INTENT, ScamDetector, default_detector


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class ScamGuard(GraphComponent):
    """Forces ``report_scam`` for messages that match a scam pattern."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {"patterns_path": None}

    def __init__(self, config: Dict[Text, Any]) -> None:
        path = config.get("patterns_path")
        self._detector = ScamDetector.from_file(Path(path)) if path else default_detector()

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "ScamGuard":
        return cls(config)

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            text = typed_text(message)
            if text is not None and self._detector.reason(text):
                force_intent(message, SCAM_INTENT)
        return messages
