"""Rasa's conversation state, kept in memory and forgotten on purpose.

Rasa's tracker store holds every message as typed, personal data included.
This one (endpoints.yml `tracker_store`) keeps only the current conversation
session of each resident (a session ends after `session_expiration_time`
minutes of silence, domain/core.yml; the journey slots carry over), and drops
a conversation altogether after TRACKER_IDLE_HOURS hours without a message
(default 24). Nothing is written to disk: a restart forgets every
conversation. What admins see comes from the masked question log instead.

With REDIS_URL set (several Rasa servers), `SessionRedisTrackerStore` keeps
the same thing in Redis instead: only the current session, under a key that
expires TRACKER_IDLE_HOURS after the last message (sliding), and
`SharedRedisLockStore` makes one message of a conversation run at a time
across servers. Redis must run without persistence (README).
"""
from __future__ import annotations

import os
import time
from typing import Any, Callable, Dict, List, Optional

from rasa.core.brokers.broker import EventBroker
from rasa.core.lock_store import RedisLockStore
from rasa.core.tracker_store import InMemoryTrackerStore, RedisTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.constants import ACTION_SESSION_START_NAME
from rasa.shared.core.events import ActionExecuted, Event, SessionStarted
from rasa.shared.core.trackers import DialogueStateTracker, get_trackers_for_conversation_sessions
from rasa.utils.endpoints import EndpointConfig

DEFAULT_IDLE_HOURS = 24.0
SWEEP_EVERY_SECONDS = 60.0
DEFAULT_KEY_PREFIX = "trolyso"
REDIS_CONNECT_TIMEOUT = 2.0
REDIS_TIMEOUT = 5.0
REDIS_RETRIES = 3


def idle_seconds_from(idle_hours: Optional[float]) -> float:
    hours = idle_hours if idle_hours is not None else os.environ.get("TRACKER_IDLE_HOURS", "")
    return float(hours or DEFAULT_IDLE_HOURS) * 3600


def session_start(tracker: DialogueStateTracker) -> Optional[float]:
    """When the tracker's latest conversation session started (None: no session event)."""
    for event in reversed(tracker.events):
        if isinstance(event, SessionStarted):
            return event.timestamp
    return None


def publish_new_events(
    broker: EventBroker, tracker: DialogueStateTracker, events: List[Event]
) -> None:
    """Hand a save's new events to the broker, in one batch when it takes batches.

    A batch (one message, bot/questionlog/broker.py) keeps a resident's turn
    together even with several consumers, and carries the session start so
    any consumer can name the conversation.
    """
    bodies = [{"sender_id": tracker.sender_id, **event.as_dict()} for event in events]
    if not bodies:
        return
    publish_batch = getattr(broker, "publish_batch", None)
    if publish_batch is not None:
        publish_batch(tracker.sender_id, session_start(tracker), bodies)
        return
    for body in bodies:
        broker.publish(body)


def redis_client(url: str, decode_responses: bool = False) -> Any:
    """A Redis client with connect/read timeouts that retries a dropped connection."""
    import redis
    from redis.backoff import ExponentialBackoff
    from redis.retry import Retry

    return redis.Redis.from_url(
        url,
        socket_connect_timeout=REDIS_CONNECT_TIMEOUT,
        socket_timeout=REDIS_TIMEOUT,
        retry=Retry(ExponentialBackoff(cap=1.0, base=0.1), REDIS_RETRIES),
        retry_on_error=[redis.exceptions.ConnectionError, redis.exceptions.TimeoutError],
        health_check_interval=30,
        decode_responses=decode_responses,
    )


def key_prefix_from(value: Optional[str]) -> str:
    prefix = (value or os.environ.get("REDIS_KEY_PREFIX", "") or DEFAULT_KEY_PREFIX).strip()
    if not prefix.isalnum():
        raise ValueError(f"REDIS_KEY_PREFIX must be letters and digits only, got {prefix!r}")
    return prefix


def _starts_a_session(event: Event) -> bool:
    # Rasa splits a tracker into sessions at this event (get_trackers_for_conversation_sessions)
    return isinstance(event, ActionExecuted) and event.action_name == ACTION_SESSION_START_NAME


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
        self.idle_seconds = idle_seconds_from(idle_hours)
        self._clock = clock
        self._last_seen: Dict[str, float] = {}
        self._stored_events: Dict[str, int] = {}
        self._last_event: Dict[str, Optional[Event]] = {}
        self._next_sweep = 0.0

    # The trackers are kept as live objects, not as JSON: Rasa's in-memory store
    # serialises the whole session on every save and rebuilds it event by event
    # on every retrieve (about 10 % of the Rasa server's time in bench/speed.py's
    # profile). The lock store lets one message of a conversation run at a time,
    # so the object Rasa saves is the one it retrieved plus new events.

    async def save(self, tracker: DialogueStateTracker) -> None:
        sender = tracker.sender_id
        events = list(tracker.events)
        known = self._known_events(sender)
        if self.event_broker is not None:  # the broker gets every new event first
            publish_new_events(self.event_broker, tracker, events[known:])
        latest = tracker
        if any(_starts_a_session(event) for event in events[max(known, 1):]):
            latest = get_trackers_for_conversation_sessions(tracker)[-1]
        self.store[sender] = latest
        self._stored_events[sender] = len(latest.events)
        self._last_event[sender] = latest.events[-1] if latest.events else None
        now = self._clock()
        self._last_seen[sender] = now
        if now >= self._next_sweep:
            self._next_sweep = now + SWEEP_EVERY_SECONDS
            self.forget_idle(now)

    def _known_events(self, sender: str) -> int:
        return self._stored_events.get(sender, 0) if sender in self.store else 0

    async def retrieve(self, sender_id: str) -> Optional[DialogueStateTracker]:
        tracker = self.store.get(sender_id)
        if tracker is None:
            return None
        kept = self._stored_events.get(sender_id, 0)
        last = tracker.events[-1] if tracker.events else None
        if len(tracker.events) != kept or last is not self._last_event.get(sender_id):
            # changed after its last save (a message whose handling failed half way):
            # give what was saved, as Rasa's store would
            tracker = DialogueStateTracker.from_events(
                sender_id, list(tracker.events)[:kept], tracker.slots.values(),
                sender_source=tracker.sender_source, max_event_history=tracker._max_event_history,
            )
            self.store[sender_id] = tracker
            self._last_event[sender_id] = tracker.events[-1] if tracker.events else None
        return tracker

    async def retrieve_full_tracker(self, sender_id: str) -> Optional[DialogueStateTracker]:
        return await self.retrieve(sender_id)  # only the current session is kept

    async def stream_events(self, tracker: DialogueStateTracker) -> None:
        """Publish the events added since the last save (save does it itself).

        Rasa's default re-reads and deserialises the stored tracker to find
        them (milliseconds per message); this store knows how many events it
        kept, and the tracker Rasa saves is always the kept one plus new events.
        """
        if self.event_broker is None:
            return
        publish_new_events(self.event_broker, tracker, list(tracker.events)[self._known_events(tracker.sender_id):])

    def forget_idle(self, now: Optional[float] = None) -> int:
        """Drop conversations idle for longer than the limit; how many."""
        now = self._clock() if now is None else now
        stale = [sender for sender, seen in self._last_seen.items() if now - seen > self.idle_seconds]
        for sender in stale:
            self.store.pop(sender, None)
            self._last_seen.pop(sender, None)
            self._stored_events.pop(sender, None)
            self._last_event.pop(sender, None)
        return len(stale)


class SessionRedisTrackerStore(RedisTrackerStore):
    """Rasa's Redis tracker store, keeping only the current session.

    endpoints.yml: `type: bot.tracker_store.SessionRedisTrackerStore`,
    `url: <REDIS_URL>`, optional `key_prefix`. Each save replaces the stored
    session (Rasa's own store merges all sessions into one growing key) and
    resets the key's expiry to TRACKER_IDLE_HOURS. Next to the tracker, a
    second key holds how many events it has, so the new events of a save are
    known without reading the tracker back.
    """

    def __init__(
        self,
        domain: Domain,
        host: Optional[str] = None,
        event_broker: Optional[EventBroker] = None,
        key_prefix: Optional[str] = None,
        idle_hours: Optional[float] = None,
        **kwargs: Any,
    ) -> None:
        url = host or os.environ.get("REDIS_URL", "")
        if not url.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("SessionRedisTrackerStore needs a redis:// URL (REDIS_URL)")
        for unused in ("port", "db", "username", "password", "use_ssl", "record_exp"):
            kwargs.pop(unused, None)
        prefix = key_prefix_from(key_prefix)
        # Rasa's constructor makes a client from host/port; ours comes from the URL.
        super().__init__(domain, host="127.0.0.1", event_broker=event_broker, key_prefix=prefix, **kwargs)
        self.red = redis_client(url, decode_responses=True)
        self.record_exp = idle_seconds_from(idle_hours)

    def _count_key(self, sender_id: str) -> str:
        return self.key_prefix + "n:" + sender_id

    async def save(self, tracker: DialogueStateTracker, timeout: Optional[float] = None) -> None:
        sessions = get_trackers_for_conversation_sessions(tracker)
        latest = sessions[-1] if len(sessions) > 1 else tracker
        expiry = int(timeout or self.record_exp)
        if self.event_broker is not None:
            known = int(self.red.get(self._count_key(tracker.sender_id)) or 0)
            publish_new_events(self.event_broker, tracker, list(tracker.events)[known:])
        pipe = self.red.pipeline(transaction=True)
        pipe.set(self.key_prefix + tracker.sender_id, self.serialise_tracker(latest), ex=expiry)
        pipe.set(self._count_key(tracker.sender_id), len(latest.events), ex=expiry)
        pipe.execute()

    async def keys(self) -> List[str]:
        start = len(self.key_prefix)
        return [
            key[start:]
            for key in self.red.scan_iter(self.key_prefix + "*", count=1000)
            if not key[start:].startswith("n:")
        ]


class SharedRedisLockStore(RedisLockStore):
    """Rasa's Redis lock store, reached through REDIS_URL (endpoints.yml `lock_store`)."""

    def __init__(self, endpoint_config: Optional[EndpointConfig] = None, **kwargs: Any) -> None:
        config = dict(endpoint_config.kwargs) if endpoint_config else {}
        url = (endpoint_config.url if endpoint_config else None) or os.environ.get("REDIS_URL", "")
        if not url.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("SharedRedisLockStore needs a redis:// URL (REDIS_URL)")
        super().__init__(key_prefix=key_prefix_from(config.get("key_prefix")))
        self.red = redis_client(url)
