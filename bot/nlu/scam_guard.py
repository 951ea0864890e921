"""Scam guard: messages about codes, fees first, unlock links or impersonation
always get the safety answer.

Placed after the intent classifiers, it sets the intent to ``report_scam`` with
full confidence when the normalised text matches a pattern of
``scam_patterns.yml``, so no classifier mistake and no dialogue state can keep
the safety answer from a resident who mentions an OTP.
"""
from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, List, Optional, Text

import yaml
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.message_text import force_intent, typed_text
from bot.nlu.normalizer import normalize

PATTERNS_PATH = Path(__file__).with_name("scam_patterns.yml")
SCAM_INTENT = "report_scam"


class ScamDetector:
    def __init__(self, patterns: Dict[str, List[str]]) -> None:
        self._patterns = [(group, re.compile(p)) for group, items in patterns.items() for p in items]

    @classmethod
    def from_file(cls, path: Path = PATTERNS_PATH) -> "ScamDetector":
        return cls((yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}).get("patterns") or {})

    def reason(self, text: str) -> Optional[str]:
        """The pattern group a message matches ('codes_and_secrets', ...), or None."""
        normalized = normalize(text or "")
        return next((group for group, pattern in self._patterns if pattern.search(normalized)), None)


@lru_cache(maxsize=1)
def default_detector() -> ScamDetector:
    return ScamDetector.from_file()


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
