"""The team directory in the database (table ``teams``): read it, replace it in
one transaction, seed it when empty, and keep it a short while in memory.

The actions ask for the directory on many messages; :func:`cached_directory`
reads the table again at most every :data:`CACHE_SECONDS`, so an import
(`python -m bot directory import FILE`, another process) is picked up without
a restart. An empty table is seeded once from ``TEAM_DIRECTORY_CSV`` (default:
the shipped sample) through the same validation as an import.
"""
from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, Iterable, List, Optional, Tuple

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import sessionmaker

from bot.db.engine import database_url, session_factory
from bot.db.models import Team as TeamRow
from bot.directory.teams import SAMPLE_PATH, Directory, Team, commune_key
from bot.directory.csv_io import DirectoryCsvError, read_file

logger = logging.getLogger(__name__)

CACHE_SECONDS = 30.0


@dataclass(frozen=True)
class ReplaceResult:
    """What a replacement changed (or would change, for a dry run)."""

    added: int
    updated: int
    removed: int
    unchanged: int


def load_teams(sessions: sessionmaker) -> List[Team]:
    """Every team, ordered by commune (as the hand-off shows them as buttons)."""
    with sessions() as session:
        rows = session.execute(select(TeamRow).order_by(TeamRow.commune_key)).scalars().all()
    return [Team(row.commune, row.team_name, row.phone, row.telegram_chat_id) for row in rows]


def replace_teams(sessions: sessionmaker, teams: Iterable[Team], dry_run: bool = False) -> ReplaceResult:
    """Make the table hold exactly ``teams``, in one transaction.

    Rows are matched by commune_key: a commune still listed keeps its row (and
    id), new communes are added, communes no longer listed are removed. With
    ``dry_run`` the same work is done and rolled back.
    """
    wanted: Dict[str, Team] = {}
    for team in teams:
        key = commune_key(team.commune)
        if key in wanted:
            raise ValueError(f"commune listed twice: {team.commune!r}")  # parse() reports these first
        wanted[key] = team
    added = updated = unchanged = 0
    with sessions() as session:
        existing = {row.commune_key: row for row in session.execute(select(TeamRow)).scalars()}
        gone = [row for key, row in existing.items() if key not in wanted]
        for row in gone:
            session.delete(row)
        session.flush()
        for key, team in wanted.items():
            row = existing.get(key)
            if row is None:
                session.add(_row(key, team))
                added += 1
            elif _fields(row) != _fields(team):
                row.commune, row.team_name, row.phone, row.telegram_chat_id = _fields(team)
                updated += 1
            else:
                unchanged += 1
        session.flush()
        if dry_run:
            session.rollback()
        else:
            session.commit()
    return ReplaceResult(added=added, updated=updated, removed=len(gone), unchanged=unchanged)


def seed_if_empty(sessions: sessionmaker, csv_path: Path) -> Optional[int]:
    """Fill an empty table from ``csv_path`` (all rows or none).

    Returns the number of teams written, or None when the table was not empty
    (or another process seeded it at the same moment). Raises
    :class:`~bot.directory.csv_io.DirectoryCsvError` for a bad file.
    """
    if _count(sessions):
        return None
    teams = read_file(csv_path)
    try:
        with sessions() as session:
            if session.execute(select(func.count()).select_from(TeamRow)).scalar_one():
                return None
            session.add_all(_row(commune_key(team.commune), team) for team in teams)
            session.commit()
    except (IntegrityError, OperationalError) as error:  # a concurrent seed won the race
        logger.info("Team directory not seeded here (%s); another process did", type(error).__name__)
        return None
    return len(teams)


def load_directory(url: str, seed_csv: Path) -> Directory:
    """The directory of the database at ``url``, seeded from ``seed_csv`` if empty."""
    sessions = session_factory(url)
    teams = load_teams(sessions)
    if not teams:
        try:
            seeded = seed_if_empty(sessions, seed_csv)
        except (DirectoryCsvError, OSError) as error:
            logger.error("The team directory is empty and %s cannot be imported:\n%s", seed_csv, error)
            return Directory([])
        if seeded:
            logger.warning("The team directory was empty: seeded %d teams from %s", seeded, seed_csv)
        teams = load_teams(sessions)
    directory = Directory(teams)
    _warn_if_sample(url, directory)
    return directory


class DirectoryCache:
    """A directory read by ``load`` and kept for ``ttl`` seconds.

    When ``load`` fails (database down) the previous directory is kept (empty
    if there is none) and loading is tried again after ``ttl``.
    """

    def __init__(
        self,
        load: Callable[[], Directory],
        ttl: float = CACHE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._load = load
        self._ttl = ttl
        self._clock = clock
        self._lock = threading.Lock()
        self._directory: Optional[Directory] = None
        self._loaded_at = 0.0

    def get(self) -> Directory:
        with self._lock:
            now = self._clock()
            if self._directory is None or now - self._loaded_at >= self._ttl:
                try:
                    self._directory = self._load()
                except Exception:  # noqa: BLE001 - an answer without the directory beats no answer
                    logger.exception("Cannot read the team directory; using the last one read")
                    self._directory = self._directory or Directory([])
                self._loaded_at = now
            return self._directory


_caches: Dict[Tuple[str, str], DirectoryCache] = {}
_caches_lock = threading.Lock()
_warned_sample: set = set()


def seed_csv_path() -> Path:
    """``TEAM_DIRECTORY_CSV``, or the shipped sample."""
    return Path(os.environ.get("TEAM_DIRECTORY_CSV", "").strip() or SAMPLE_PATH)


def cached_directory() -> Directory:
    """The directory of ``DATABASE_URL``, re-read at most every :data:`CACHE_SECONDS`."""
    url, seed_csv = database_url(), seed_csv_path()
    with _caches_lock:
        cache = _caches.get((url, str(seed_csv)))
        if cache is None:
            cache = _caches[(url, str(seed_csv))] = DirectoryCache(lambda: load_directory(url, seed_csv))
    return cache.get()


def clear_cache() -> None:
    """Forget every cached directory (tests; the next call reads the database)."""
    with _caches_lock:
        _caches.clear()


def _warn_if_sample(url: str, directory: Directory) -> None:
    samples = sum(team.is_sample for team in directory.teams)
    if samples and url not in _warned_sample:
        _warned_sample.add(url)
        logger.warning(
            "The team directory holds %d SAMPLE rows marked [MẪU] (of %d): residents are never shown them and "
            "get the general way (the commune People's Committee). Import the real directory: "
            "python -m bot directory import FILE",
            samples, len(directory.teams),
        )


def _count(sessions: sessionmaker) -> int:
    with sessions() as session:
        return session.execute(select(func.count()).select_from(TeamRow)).scalar_one()


def _fields(item) -> Tuple[str, str, str, Optional[int]]:  # noqa: ANN001 - a Team or a TeamRow
    return item.commune, item.team_name, item.phone, item.telegram_chat_id


def _row(key: str, team: Team) -> TeamRow:
    return TeamRow(
        commune=team.commune, commune_key=key, team_name=team.team_name,
        phone=team.phone, telegram_chat_id=team.telegram_chat_id,
    )


def default_directory() -> Directory:
    """The directory of ``DATABASE_URL``, re-read at most every 30 s
    (seeded from ``TEAM_DIRECTORY_CSV`` when the table is empty)."""
    return cached_directory()
