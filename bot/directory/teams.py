"""Team directory: commune/ward -> its community digital technology team.

This module is the pure look-up: :class:`Team`, :func:`commune_key` and
:class:`Directory`. Look-ups ignore diacritics, case and the "xã/phường"
prefix, so "tan lap", "Xã Tân Lập" and "tân lập" all match.

The directory itself lives in the ``teams`` table of ``DATABASE_URL``
(:mod:`bot.directory.store`), imported from CSV with
``python -m bot directory import FILE`` (:mod:`bot.directory.csv_io`). An empty
table is seeded from ``TEAM_DIRECTORY_CSV`` (default: the shipped sample
``data/team_directory.sample.csv``, whose entries are marked [MẪU]).
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Dict, List, Optional

from bot.nlu.normalizer import normalize
from bot.settings import PROJECT_ROOT

SAMPLE_PATH = PROJECT_ROOT / "data" / "team_directory.sample.csv"
SAMPLE_MARKER = "[MẪU]"
PREFIXES = ("xa", "phuong", "thi tran", "dac khu")


@dataclass(frozen=True)
class Team:
    commune: str
    team_name: str
    phone: str
    telegram_chat_id: Optional[int] = None  # the team's Telegram group (negative), if any

    @property
    def is_sample(self) -> bool:
        """A row of the shipped sample (marked [MẪU]), not a real team."""
        marker = SAMPLE_MARKER.casefold()
        return any(marker in unicodedata.normalize("NFC", value).casefold() for value in (self.commune, self.team_name))


def commune_key(name: str) -> str:
    """'Xã Tân Lập' -> 'tan lap'."""
    key = normalize(name)
    for prefix in PREFIXES:
        if key.startswith(prefix + " "):
            return key[len(prefix) + 1:]
    return key


def in_sentence(commune: str) -> str:
    """'Xã Tân Lập' -> 'xã Tân Lập' (the prefix is not a proper noun); other names unchanged."""
    if commune_key(commune) != normalize(commune):
        return commune[:1].lower() + commune[1:]
    return commune


class Directory:
    def __init__(self, teams: List[Team]) -> None:
        self.teams = teams
        self._by_key: Dict[str, Team] = {commune_key(t.commune): t for t in teams}

    @property
    def is_sample(self) -> bool:
        return any(team.is_sample for team in self.teams)

    def for_residents(self) -> "Directory":
        """The directory without the shipped sample rows ([MẪU]): residents are never shown
        a placeholder team or phone number; with only sample rows they get the general way."""
        return Directory([team for team in self.teams if not team.is_sample])

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

