"""Scam detection without Rasa: the patterns of ``scam_patterns.yml`` matched
against the normalised text. Used by the Rasa component (bot/nlu/scam_guard.py)
and by the hand-off relay, which runs in processes that must not load Rasa.
"""
from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Dict, List, Optional

import yaml

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
