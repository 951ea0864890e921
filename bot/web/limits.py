"""Rate limits of the web app, in memory, bounded: nothing keyed by a sender or an
address grows without limit.

`Limiter` counts events per key in a sliding window; keys idle for longer than
the window are dropped, and past `max_keys` the oldest keys go first.

The limits (per minute unless told, each overridable by a variable):

| what | default | variable |
|---|---|---|
| chat messages per client address | 30 | WEB_RATE_PER_IP |
| chat messages per conversation (sender) | 12 | WEB_RATE_PER_SENDER |
| new conversations per client address, per hour | 20 | WEB_NEW_SENDERS_PER_IP_HOUR |
| hand-off tickets opened from a client address, per hour | 10 | WEB_HANDOFF_TICKETS_PER_IP_HOUR |
| failed admin logins per client address, per 15 minutes | 10 | ADMIN_LOGIN_FAILURES_PER_IP |

Hand-off tickets are counted when an answer of the assistant opened one (it
carries the "end the hand-off" button); once an address has reached its
number, its messages go to Rasa marked `handoff_capped` and the hand-off
points the resident to the commune People's Committee without posting a
ticket (actions/handoff.py). This is on top of the per-group cap of the
action server (HANDOFF_MAX_TICKETS_PER_GROUP_HOUR).

The client address is the peer's, or the last X-Forwarded-For hop when the
peer is one of FORWARDED_ALLOW_IPS (a reverse proxy in front of the app).
"""
from __future__ import annotations

import os
import time
from collections import OrderedDict, deque
from dataclasses import dataclass
from typing import Callable, Deque, Mapping, Optional

from aiohttp import web

DEFAULT_MAX_KEYS = 50_000


class Limiter:
    """At most `limit` events per key within `window` seconds."""

    def __init__(self, limit: int, window: float, max_keys: int = DEFAULT_MAX_KEYS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self.window = window
        self.max_keys = max_keys
        self._clock = clock
        self._events: "OrderedDict[str, Deque[float]]" = OrderedDict()

    def __len__(self) -> int:
        return len(self._events)

    def _recent(self, key: str, now: float) -> Deque[float]:
        events = self._events.get(key)
        if events is None:
            return deque()
        while events and events[0] <= now - self.window:
            events.popleft()
        return events

    def allow(self, key: str) -> bool:
        """Count one event for `key`; False (and not counted) when over the limit."""
        now = self._clock()
        events = self._recent(key, now)
        if len(events) >= self.limit:
            return False
        self.hit(key, now)
        return True

    def blocked(self, key: str) -> bool:
        """Over the limit already (nothing counted)."""
        return len(self._recent(key, self._clock())) >= self.limit

    def hit(self, key: str, now: Optional[float] = None) -> None:
        now = self._clock() if now is None else now
        events = self._events.pop(key, None)
        if events is None:
            events = deque()
        events.append(now)
        self._events[key] = events  # most recent last
        self._prune(now)

    def seen(self, key: str) -> bool:
        return key in self._events

    def _prune(self, now: float) -> None:
        while self._events:
            oldest_key, oldest = next(iter(self._events.items()))
            if len(self._events) > self.max_keys or not oldest or oldest[-1] <= now - self.window:
                self._events.popitem(last=False)
            else:
                break


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    try:
        value = int(env.get(name, "") or default)
    except ValueError:
        return default
    return max(value, 1)


@dataclass
class WebLimits:
    per_ip: Limiter
    per_sender: Limiter
    new_senders: Limiter
    senders_seen: Limiter
    login_failures: Limiter
    trusted_proxies: frozenset
    handoff_tickets: Limiter

    @classmethod
    def from_env(cls, env: Optional[Mapping[str, str]] = None) -> "WebLimits":
        env = os.environ if env is None else env
        proxies = frozenset(p.strip() for p in env.get("FORWARDED_ALLOW_IPS", "").split(",") if p.strip())
        return cls(
            per_ip=Limiter(_int(env, "WEB_RATE_PER_IP", 30), 60),
            per_sender=Limiter(_int(env, "WEB_RATE_PER_SENDER", 12), 60),
            new_senders=Limiter(_int(env, "WEB_NEW_SENDERS_PER_IP_HOUR", 20), 3600),
            senders_seen=Limiter(10**9, 3600),  # which senders were seen in the last hour
            login_failures=Limiter(_int(env, "ADMIN_LOGIN_FAILURES_PER_IP", 10), 15 * 60),
            trusted_proxies=proxies,
            handoff_tickets=Limiter(_int(env, "WEB_HANDOFF_TICKETS_PER_IP_HOUR", 10), 3600),
        )

    def client_address(self, request: web.Request) -> str:
        peer = request.remote or ""
        if peer in self.trusted_proxies or "*" in self.trusted_proxies:
            hops = [h.strip() for h in request.headers.get("X-Forwarded-For", "").split(",") if h.strip()]
            if hops:
                return hops[-1]
        return peer

    def behind_tls(self, request: web.Request) -> bool:
        """The request came over HTTPS (directly, or through a trusted proxy that says so)."""
        if request.secure:
            return True
        peer = request.remote or ""
        trusted = peer in self.trusted_proxies or "*" in self.trusted_proxies
        return trusted and request.headers.get("X-Forwarded-Proto", "").lower() == "https"

    def chat_allowed(self, address: str, sender: str) -> bool:
        """One chat message: within the per-address, per-sender and new-conversation limits."""
        if self.per_ip.blocked(address) or self.per_sender.blocked(sender):
            return False
        if not self.senders_seen.seen(sender):
            if not self.new_senders.allow(address):
                return False
        self.senders_seen.hit(sender)
        self.per_ip.hit(address)
        self.per_sender.hit(sender)
        return True

    def handoff_capped(self, address: str) -> bool:
        """The address has opened its hand-off tickets for this hour."""
        return self.handoff_tickets.blocked(address)

    def handoff_opened(self, address: str) -> None:
        """An answer to the address opened a hand-off ticket."""
        self.handoff_tickets.hit(address)


LIMITS_KEY = web.AppKey("limits", WebLimits)
