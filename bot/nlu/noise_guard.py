"""Sends messages with no words in them (empty, digits, unknown emoji) to fallback.

The intent classifier has nothing to go on for "", "🤔🤔" or "0912345678", yet it still returns
its most likely intent. This component, placed after the FallbackClassifier,
makes such messages an ``nlu_fallback`` with full confidence, so the resident
gets the "please type your question" answer instead of a guess.
"""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.fallback_classifier import FallbackClassifier
from rasa.shared.constants import DEFAULT_NLU_FALLBACK_INTENT_NAME
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.message_text import force_intent, typed_text
from bot.nlu.normalizer import has_words


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False
)
class NoWordsFallback(GraphComponent):
    """Marks messages without any word as ``nlu_fallback``."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {}

    @classmethod
    def required_components(cls) -> List[type]:
        return [FallbackClassifier]

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "NoWordsFallback":
        return cls()

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            if message.get(TEXT) is None:
                continue
            text = typed_text(message)  # None for button payloads: they carry their intent
            if text is not None and not has_words(text):
                force_intent(message, DEFAULT_NLU_FALLBACK_INTENT_NAME)
        return messages
