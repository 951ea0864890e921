"""bot/prompts.yml: what the assistant says outside the domain responses."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any, Dict

import yaml

PROMPTS_PATH = Path(__file__).with_name("prompts.yml")


@lru_cache(maxsize=1)
def all_prompts() -> Dict[str, Any]:
    """The whole file, read once per process."""
    return yaml.safe_load(PROMPTS_PATH.read_text(encoding="utf-8"))


def section(name: str) -> Dict[str, Any]:
    return all_prompts()[name]
