"""Rasa's conversation state, kept in memory and forgotten on purpose.

Rasa's tracker store holds every message as typed, personal data included.
This one (endpoints.yml `tracker_store`) keeps only the current conversation
session of each resident (a session ends after `session_expiration_time`
minutes of silence, domain/core.yml; the journey slots carry over), and drops
a conversation altogether after TRACKER_IDLE_HOURS hours without a message
(default 24). Nothing is written to disk: a restart forgets every
conversation. What admins see comes from the masked question log instead.
"""
from __future__ import annotations

import os
import time
from typing import Any, Callable, Dict, Optional

from rasa.core.brokers.broker import EventBroker
from rasa.core.tracker_store import InMemoryTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker, get_trackers_for_conversation_sessions

DEFAULT_IDLE_HOURS = 24.0
SWEEP_EVERY_SECONDS = 60.0


class ForgetfulInMemoryTrackerStore(InMemoryTrackerStore):
    def __init__(
        self,
        domain: Domain,
        event_broker: Optional[EventBroker] = None,
        idle_hours: Optional[float] = None,
        clock: Callable[[], float] = time.monotonic,
        **kwargs: Any,
    ) -> None:
        kwargs.pop("host", None)
        super().__init__(domain, event_broker, **kwargs)
        hours = idle_hours if idle_hours is not None else os.environ.get("TRACKER_IDLE_HOURS", "")
        self.idle_seconds = float(hours or DEFAULT_IDLE_HOURS) * 3600
        self._clock = clock
        self._last_seen: Dict[str, float] = {}
        self._stored_events: Dict[str, int] = {}
        self._next_sweep = 0.0

    async def save(self, tracker: DialogueStateTracker) -> None:
        await self.stream_events(tracker)  # the broker gets every new event first
        sessions = get_trackers_for_conversation_sessions(tracker)
        latest = sessions[-1] if len(sessions) > 1 else tracker
        self.store[tracker.sender_id] = self.serialise_tracker(latest)
        self._stored_events[tracker.sender_id] = len(latest.events)
        now = self._clock()
        self._last_seen[tracker.sender_id] = now
        if now >= self._next_sweep:
            self._next_sweep = now + SWEEP_EVERY_SECONDS
            self.forget_idle(now)

    async def stream_events(self, tracker: DialogueStateTracker) -> None:
        """Publish the events added since the last save.

        Rasa's default re-reads and deserialises the stored tracker to find
        them (milliseconds per message); this store knows how many events it
        kept, and the tracker Rasa saves is always the kept one plus new events.
        """
        if self.event_broker is None:
            return
        known = self._stored_events.get(tracker.sender_id, 0) if tracker.sender_id in self.store else 0
        events = list(tracker.events)
        await self._stream_new_events(self.event_broker, events[known:], tracker.sender_id)

    def forget_idle(self, now: Optional[float] = None) -> int:
        """Drop conversations idle for longer than the limit; how many."""
        now = self._clock() if now is None else now
        stale = [sender for sender, seen in self._last_seen.items() if now - seen > self.idle_seconds]
        for sender in stale:
            self.store.pop(sender, None)
            self._last_seen.pop(sender, None)
            self._stored_events.pop(sender, None)
        return len(stale)
