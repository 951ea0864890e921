"""Reading Rasa NLU training files (YAML) as plain (text, intent) pairs.

Entity annotations are removed ("[Agribank](bank)" and "[Agribank]{...}" become
"Agribank"), so the texts are what a resident would type. Used where the
training data feeds something other than Rasa: the answer library's search
keywords and the synthetic question log.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import List, Tuple

import yaml

ANNOTATION = re.compile(r"\[([^\]]+)\](?:\([^)]*\)|\{[^}]*\})")


def read_examples(path: Path) -> List[Tuple[str, str]]:
    """[(text, intent)] of one NLU file, in file order; [] if the file is missing."""
    path = Path(path)
    if not path.exists():
        return []
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    found = []
    for block in data.get("nlu") or []:
        if "intent" not in block:
            continue
        for line in str(block.get("examples") or "").splitlines():
            line = line.strip()
            if line.startswith("- "):
                text = ANNOTATION.sub(r"\1", line[2:].strip())
                if text:
                    found.append((text, block["intent"]))
    return found
