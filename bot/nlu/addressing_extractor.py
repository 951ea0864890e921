"""Entity extractor: how the resident presents themself ("bác muốn…", "cháu ơi") -> address_form.

The slot ``address_form`` (domain/core.yml) maps from this entity, so the form
is kept for the conversation with no custom action per turn; the Rasa NLG
(bot/answers/rasa_nlg.py) and the journey actions say it instead of "anh/chị".
The rules are in bot/answers/addressing.py.
"""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.shared.nlu.constants import (
    ENTITIES,
    ENTITY_ATTRIBUTE_END,
    ENTITY_ATTRIBUTE_START,
    ENTITY_ATTRIBUTE_TYPE,
    ENTITY_ATTRIBUTE_VALUE,
)
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.answers import addressing
from bot.nlu.message_text import typed_text


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=False)
class AddressFormExtractor(GraphComponent, EntityExtractorMixin):
    """Adds the entity ``address_form`` (bac, co, chu, ong, ba, anh, chi) when a message makes it clear."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {}

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "AddressFormExtractor":
        return cls()

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            text = typed_text(message)
            form = addressing.detect(text) if text else None
            if form is None:
                continue
            entity = {
                ENTITY_ATTRIBUTE_TYPE: addressing.ENTITY,
                ENTITY_ATTRIBUTE_VALUE: form,
                ENTITY_ATTRIBUTE_START: 0,
                ENTITY_ATTRIBUTE_END: len(text),
            }
            message.set(ENTITIES, message.get(ENTITIES, []) + self.add_extractor_name([entity]), add_to_output=True)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data
