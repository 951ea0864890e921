"""Team directory: commune/ward -> its community digital technology team.

Read from a CSV file (``TEAM_DIRECTORY_CSV``; the repo ships
``data/team_directory.sample.csv``, whose entries are marked [MẪU] and must be
replaced by the operator). Look-ups ignore diacritics, case and the
"xã/phường" prefix, so "tan lap", "Xã Tân Lập" and "tân lập" all match.
"""
from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Dict, List, Optional

from bot.nlu.normalizer import normalize
from bot.settings import PROJECT_ROOT

SAMPLE_PATH = PROJECT_ROOT / "data" / "team_directory.sample.csv"
PREFIXES = ("xa", "phuong", "thi tran", "dac khu")


@dataclass(frozen=True)
class Team:
    commune: str
    team_name: str
    phone: str
    telegram_chat_id: Optional[str] = None


def commune_key(name: str) -> str:
    """'Xã Tân Lập' -> 'tan lap'."""
    key = normalize(name)
    for prefix in PREFIXES:
        if key.startswith(prefix + " "):
            return key[len(prefix) + 1:]
    return key


class Directory:
    def __init__(self, teams: List[Team]) -> None:
        self.teams = teams
        self._by_key: Dict[str, Team] = {commune_key(t.commune): t for t in teams}

    @classmethod
    def from_csv(cls, path: Path) -> "Directory":
        with open(path, newline="", encoding="utf-8-sig") as handle:
            rows = list(csv.DictReader(handle))
        return cls([
            Team(
                commune=row["commune"].strip(),
                team_name=row["team_name"].strip(),
                phone=row["phone"].strip(),
                telegram_chat_id=(row.get("telegram_chat_id") or "").strip() or None,
            )
            for row in rows
            if (row.get("commune") or "").strip()
        ])

    def find(self, text: str) -> Optional[Team]:
        """The team of the commune named in ``text`` (exactly one match), if any."""
        typed = commune_key(text or "")
        if not typed:
            return None
        if typed in self._by_key:
            return self._by_key[typed]
        padded = f" {normalize(text)} "
        hits = [team for key, team in self._by_key.items() if f" {key} " in padded]
        return hits[0] if len(hits) == 1 else None


@lru_cache(maxsize=4)
def _load(path: str) -> Directory:
    return Directory.from_csv(Path(path))


def default_directory() -> Directory:
    return _load(os.environ.get("TEAM_DIRECTORY_CSV") or str(SAMPLE_PATH))
