"""The published answers as one process sees them: cached, refreshed within seconds of a publish.

Every reader (the Rasa NLG, the journeys of the action server, the answer
library, Telegram inline mode, the handouts) asks :func:`snapshot`. The
snapshot is kept in memory; at most every ``poll_seconds`` (2 s) one read of
the ``answer_revision`` counter tells whether anybody (any process, any
server) published since, and only then are the published answers read again.
A publish made by this process drops the cache at once. So several Rasa
servers behind one database see a publish within ``poll_seconds``, and an
answer costs a dictionary look-up.

When the database cannot be read, the last snapshot (else the repo files)
keeps answering, and the next poll tries again.
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional

from sqlalchemy.orm import sessionmaker

from bot.answers import store

log = logging.getLogger(__name__)

POLL_SECONDS = 2.0


@dataclass(frozen=True)
class Snapshot:
    """The published answers at one revision."""

    revision: int
    items: Dict[str, store.Content] = field(default_factory=dict)

    def responses(self) -> Dict[str, List[Dict[str, Any]]]:
        """{utter_name: variations}."""
        prefix = store.RESPONSE + ":"
        return {k[len(prefix):]: list(v.get("variations") or []) for k, v in self.items.items() if k.startswith(prefix)}

    def journey_texts(self) -> Dict[str, Dict[str, str]]:
        """{journey: {step: text}}."""
        result: Dict[str, Dict[str, str]] = {}
        prefix = store.JOURNEY + ":"
        for key, content in self.items.items():
            if key.startswith(prefix) and "/" in key:
                journey, step = key[len(prefix):].split("/", 1)
                result.setdefault(journey, {})[step] = str(content.get("text") or "")
        return result

    def sources(self) -> Dict[str, List[Dict[str, Any]]]:
        prefix = store.SOURCE + ":"
        return {k[len(prefix):]: list(v.get("sources") or []) for k, v in self.items.items() if k.startswith(prefix)}


def repo_snapshot() -> Snapshot:
    """The repo files as a snapshot (revision -1): what is said when the database is unreachable."""
    return Snapshot(-1, store.repo_items())


class LiveAnswers:
    """A cached snapshot of the published answers of one database."""

    def __init__(
        self,
        factory: Optional[sessionmaker] = None,
        poll_seconds: float = POLL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
        seed: bool = True,
    ) -> None:
        self._factory = factory
        self._poll = poll_seconds
        self._clock = clock
        self._seed = seed
        self._snapshot: Optional[Snapshot] = None
        self._next_poll = 0.0
        self._lock = threading.Lock()
        store.on_publish(self.invalidate)

    def _sessions(self) -> sessionmaker:
        if self._factory is None:
            from bot.db.engine import session_factory

            self._factory = session_factory()
        return self._factory

    def invalidate(self) -> None:
        """Read the counter at the next call (a publish of this process)."""
        self._next_poll = 0.0

    def snapshot(self) -> Snapshot:
        if self._snapshot is not None and self._clock() < self._next_poll:
            return self._snapshot
        with self._lock:
            if self._snapshot is not None and self._clock() < self._next_poll:
                return self._snapshot
            try:
                self._snapshot = self._load()
            except Exception as error:  # noqa: BLE001 - a database outage must not silence the assistant
                log.warning("published answers could not be read (%s); keeping the last ones", type(error).__name__)
                if self._snapshot is None:
                    self._snapshot = repo_snapshot()
            self._next_poll = self._clock() + self._poll
            return self._snapshot

    def _load(self) -> Snapshot:
        factory = self._sessions()
        if self._seed:
            store.sync_from_files(factory)
            self._seed = False
        with factory() as session:
            revision = store.current_revision(session)
            if self._snapshot is not None and self._snapshot.revision == revision:
                return self._snapshot
            return Snapshot(revision, store.published(session))


_defaults: Dict[str, LiveAnswers] = {}
_default_lock = threading.Lock()


def default() -> LiveAnswers:
    """The process's LiveAnswers on DATABASE_URL (one per URL: tests switch it)."""
    from bot.db.engine import database_url, session_factory

    url = database_url()
    found = _defaults.get(url)
    if found is None:
        with _default_lock:
            found = _defaults.get(url)
            if found is None:
                found = _defaults[url] = LiveAnswers(factory=session_factory(url))
    return found


def snapshot() -> Snapshot:
    return default().snapshot()
