"""Sources of the facts of each topic answer (bot/library/sources.yml).

The answer library shows the date a topic's sources were last checked
("Cập nhật ngày …"); tests/library/test_sources.py fails when a topic answer
has no source or one checked more than :data:`MAX_AGE_DAYS` ago.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import yaml

SOURCES_PATH = Path(__file__).with_name("sources.yml")
MAX_AGE_DAYS = 365
PLACE = "place"


@dataclass(frozen=True)
class Source:
    title: str
    checked: date
    url: Optional[str] = None
    reference: Optional[str] = None  # legal document number and date
    kind: str = "document"  # or PLACE: the answer sends the resident to this official place


def read_sources(path: Path = SOURCES_PATH) -> Dict[str, Tuple[Source, ...]]:
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    result: Dict[str, Tuple[Source, ...]] = {}
    for intent, items in (data.get("topics") or {}).items():
        sources: List[Source] = []
        for item in items or []:
            checked = item.get("checked")
            if not isinstance(checked, date):
                raise ValueError(f"{intent}: source {item.get('title')!r} has no checked date (YYYY-MM-DD)")
            sources.append(Source(
                title=str(item["title"]), checked=checked, url=item.get("url"),
                reference=item.get("reference"), kind=str(item.get("kind") or "document"),
            ))
        result[str(intent)] = tuple(sources)
    return result


@lru_cache(maxsize=1)
def sources() -> Dict[str, Tuple[Source, ...]]:
    return read_sources()


def last_checked(intent: str) -> Optional[date]:
    """The latest check of the topic's sources, or None when it has none."""
    found = sources().get(intent) or ()
    return max((s.checked for s in found), default=None)
