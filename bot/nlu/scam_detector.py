"""Scam detection without Rasa: the narrow, always-on core of patterns of
``scam_patterns.yml`` (their ``{term}`` word lists filled in) matched against
the normalised text. Used by the Rasa component (bot/nlu/scam_guard.py) and by
the hand-off relay, which runs in processes that must not load Rasa.
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


_TERM = re.compile(r"\{(\w+)\}")


def expand_terms(pattern: str, terms: Dict[str, List[str]]) -> str:
    """Replace every ``{name}`` of a pattern by the group of ``terms[name]``, longest first."""

    def _group(match: "re.Match[str]") -> str:
        name = match.group(1)
        if name not in terms:
            raise ValueError(f"scam pattern uses unknown term {{{name}}}: {pattern}")
        return "(?:" + "|".join(sorted((str(t) for t in terms[name]), key=len, reverse=True)) + ")"

    return _TERM.sub(_group, pattern)


class ScamDetector:
    def __init__(self, patterns: Dict[str, List[str]], terms: Optional[Dict[str, List[str]]] = None) -> None:
        self._patterns = [
            (group, re.compile(expand_terms(p, terms or {}))) for group, items in patterns.items() for p in items
        ]

    @classmethod
    def from_file(cls, path: Path = PATTERNS_PATH) -> "ScamDetector":
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
        return cls(data.get("patterns") or {}, data.get("terms") or {})

    def reason(self, text: str) -> Optional[str]:
        """The pattern group a message matches ('codes_and_secrets', ...), or None."""
        normalized = normalize(text or "")
        return next((group for group, pattern in self._patterns if pattern.search(normalized)), None)


@lru_cache(maxsize=1)
def default_detector() -> ScamDetector:
    return ScamDetector.from_file()
