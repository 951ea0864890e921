"""Entity extractor for closed lists (banks, bill types) that ignores diacritics.

Aliases from ``gazetteer.yml`` and the message are both compared in their
normalised form, so "ngan hang nong nghiep", "Agribank" and "nh nông nghiệp"
all give ``bank: Agribank``. The entity's span is on the original text.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Text, Tuple

import yaml
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

from bot.nlu.message_text import typed_text
from bot.nlu.normalizer import NormalToken, TextNormalizer, default_normalizer

DEFAULT_GAZETTEER_PATH = Path(__file__).with_name("gazetteer.yml")

Alias = Tuple[str, ...]


class Gazetteer:
    """Finds, for each entity type, the longest known alias at each position."""

    def __init__(self, entries: Dict[str, Dict[str, Sequence[str]]], normalizer: TextNormalizer) -> None:
        # entity -> alias words -> canonical value; entity types are matched
        # independently, so "tiền điện" can be both a bill type and a journey.
        self._aliases: Dict[str, Dict[Alias, str]] = {}
        for entity, values in entries.items():
            table = self._aliases.setdefault(entity, {})
            for canonical, aliases in values.items():
                for alias in [canonical, *aliases]:
                    words = tuple(normalizer.normalize(str(alias)).split())
                    if words:
                        table[words] = str(canonical)

    @classmethod
    def from_file(cls, path: Path, normalizer: Optional[TextNormalizer] = None) -> "Gazetteer":
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
        return cls(data, normalizer or default_normalizer())

    def find(self, tokens: Sequence[NormalToken]) -> List[Dict[Text, Any]]:
        """Entities found in normalised tokens: per entity type, longest match first, no overlaps."""
        found: List[Dict[Text, Any]] = []
        words = [t.text for t in tokens]
        for entity, table in self._aliases.items():
            longest = max((len(a) for a in table), default=0)
            i = 0
            while i < len(words):
                for size in range(min(longest, len(words) - i), 0, -1):
                    value = table.get(tuple(words[i : i + size]))
                    if value is not None:
                        found.append(
                            {
                                ENTITY_ATTRIBUTE_TYPE: entity,
                                ENTITY_ATTRIBUTE_VALUE: value,
                                ENTITY_ATTRIBUTE_START: tokens[i].start,
                                ENTITY_ATTRIBUTE_END: tokens[i + size - 1].end,
                            }
                        )
                        i += size
                        break
                else:
                    i += 1
        return sorted(found, key=lambda e: (e[ENTITY_ATTRIBUTE_START], e[ENTITY_ATTRIBUTE_TYPE]))


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=False
)
class GazetteerEntityExtractor(GraphComponent, EntityExtractorMixin):
    """Adds entities (banks, bill types, journeys) from the gazetteer file."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {"gazetteer_path": None}

    def __init__(self, config: Dict[Text, Any]) -> None:
        self._config = config
        path = Path(config.get("gazetteer_path") or DEFAULT_GAZETTEER_PATH)
        self._normalizer = default_normalizer()
        self._gazetteer = Gazetteer.from_file(path, self._normalizer)

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "GazetteerEntityExtractor":
        return cls(config)

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            text = typed_text(message)
            if text is None:
                continue
            entities = self.add_extractor_name(self._gazetteer.find(self._normalizer.tokens(text)))
            message.set(ENTITIES, message.get(ENTITIES, []) + entities, add_to_output=True)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data
