"""The topics (intents) the assistant knows, read from the domain files."""
from __future__ import annotations

from functools import lru_cache
from typing import Tuple

import yaml

from bot.settings import PROJECT_ROOT

DOMAIN_DIR = PROJECT_ROOT / "domain"


@lru_cache(maxsize=1)
def known_intents() -> Tuple[str, ...]:
    intents = set()
    for path in sorted(DOMAIN_DIR.glob("*.yml")):
        for entry in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("intents", []) or []:
            intents.add(next(iter(entry)) if isinstance(entry, dict) else str(entry))
    return tuple(sorted(intents))
