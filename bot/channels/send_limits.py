"""Outgoing send rate limits of the messenger bots, per bot rather than per process.

Telegram and Zalo count what one bot (one OA) sends, whichever of our Rasa
servers, action server or web app sends it. With REDIS_URL set the budget is
kept in Redis, so every process draws on the same one; without it (one
server) it is kept in process memory.

Each limit is a GCRA (generic cell rate) schedule: a rate and a burst. A send
takes its turn under all its limits at once when they all allow it now, or
learns how long until they may and waits (then asks again): nothing is
refused, and a chat whose own queue is long does not hold up the others. One
Lua script checks and takes every limit of a send against Redis' clock.
Keys expire once idle (Redis) or are pruned (memory, bounded), so nothing
grows with the number of chats. If Redis cannot be reached the process
falls back to its own memory for the moment (a send is never blocked by a
Redis outage).

Telegram (Bot FAQ, https://core.telegram.org/bots/faq#my-bot-is-hitting-limits-how-do-i-avoid-this,
checked 2026-12-02): about 30 messages a second overall, about one a second
in a chat (short bursts allowed: an answer is at most 3 messages), at most 20
a minute in a group. Zalo publishes no per-second figure for the OA message
API: ZALO_SEND_PER_SECOND (default 10) overall and the same one-a-second,
burst-of-3 shape per user.
"""
from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple

logger = logging.getLogger(__name__)

DEFAULT_MAX_KEYS = 20_000
MAX_WAIT_STEP = 5.0  # a long wait is waited in steps, asking again after each
REDIS_RETRY_SECONDS = 30.0  # after a Redis error, memory is used this long before Redis is tried again


@dataclass(frozen=True)
class Rate:
    """`count` sends per `seconds`, of which up to `burst` at once."""

    count: float
    seconds: float = 1.0
    burst: int = 1

    @property
    def interval(self) -> float:
        return self.seconds / self.count

    @property
    def tolerance(self) -> float:
        return (max(self.burst, 1) - 1) * self.interval


TELEGRAM_OVERALL = Rate(30, 1, burst=30)
TELEGRAM_PER_CHAT = Rate(1, 1, burst=3)
TELEGRAM_PER_GROUP = Rate(20, 60, burst=20)
ZALO_PER_USER = Rate(1, 1, burst=3)
ZALO_DEFAULT_PER_SECOND = 10


def _digest(text: str) -> str:
    """Keys name bots and chats by a short digest, never by a token or a chat id."""
    return hashlib.blake2b(text.encode("utf-8"), digest_size=8).hexdigest()


class MemorySchedule:
    """GCRA schedules in this process: key -> theoretical arrival time (monotonic seconds)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic, max_keys: int = DEFAULT_MAX_KEYS) -> None:
        self._clock = clock
        self._max_keys = max_keys
        self._tats: "OrderedDict[str, float]" = OrderedDict()

    def __len__(self) -> int:
        return len(self._tats)

    def acquire(self, limits: Sequence[Tuple[str, Rate]]) -> float:
        """Take one send under every limit if all allow it now (0.0); else the seconds until they
        may (nothing taken)."""
        now = self._clock()
        tats = [max(self._tats.get(key, now), now) for key, _ in limits]
        wait = max(tat - rate.tolerance - now for tat, (_, rate) in zip(tats, limits))
        if wait > 0:
            return wait
        for tat, (key, rate) in zip(tats, limits):
            self._tats.pop(key, None)
            self._tats[key] = tat + rate.interval  # most recently used last
        self._prune(now)
        return 0.0

    def hold(self, key: str, rate: Rate, seconds: float) -> None:
        """Nothing under `key` before `seconds` from now (the API said "retry after")."""
        now = self._clock()
        self._tats[key] = max(self._tats.get(key, now), now + seconds + rate.tolerance)
        self._tats.move_to_end(key)

    def _prune(self, now: float) -> None:
        while self._tats:
            key, tat = next(iter(self._tats.items()))
            if len(self._tats) > self._max_keys or tat <= now:
                self._tats.popitem(last=False)
            else:
                break


# KEYS: the limits' keys; ARGV: interval, tolerance (microseconds) per key. Returns 0 when
# the send was taken under every limit, else the microseconds until it may be (nothing taken).
# Redis' own clock, so every process agrees.
_ACQUIRE = """
pcall(redis.replicate_commands)
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local wait = 0
local tats = {}
for i = 1, #KEYS do
  local tat = tonumber(redis.call('GET', KEYS[i]) or now)
  if tat < now then tat = now end
  tats[i] = tat
  local early = tat - tonumber(ARGV[2 * i]) - now
  if early > wait then wait = early end
end
if wait > 0 then
  return string.format('%.0f', wait)
end
for i = 1, #KEYS do
  local tat = tats[i] + tonumber(ARGV[2 * i - 1])
  redis.call('SET', KEYS[i], string.format('%.0f', tat), 'PX', math.ceil((tat - now) / 1000) + 1000)
end
return '0'
"""

# KEYS[1]; ARGV: hold (microseconds), tolerance (microseconds).
_HOLD = """
pcall(redis.replicate_commands)
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
local wanted = now + tonumber(ARGV[1]) + tonumber(ARGV[2])
if wanted > tat then
  redis.call('SET', KEYS[1], string.format('%.0f', wanted), 'PX', math.ceil((wanted - now) / 1000) + 1000)
end
return 1
"""


# This process's schedules (all bots: keys name the bot), also the fallback when Redis is away.
PROCESS_SCHEDULE = MemorySchedule()


class RedisSchedule:
    """The same schedules in Redis, shared by every process using the same URL and prefix."""

    def __init__(self, url: str, fallback: Optional[MemorySchedule] = None) -> None:
        self.url = url
        self.fallback = fallback or PROCESS_SCHEDULE
        self._clients: Dict[int, Any] = {}  # one client per event loop
        self._down_until = 0.0

    def _client(self) -> Any:
        import redis.asyncio as aioredis

        loop = asyncio.get_running_loop()
        client = self._clients.get(id(loop))
        if client is None:
            client = aioredis.Redis.from_url(self.url, socket_connect_timeout=2, socket_timeout=2)
            self._clients = {id(loop): client}  # an old loop's client is dropped
        return client

    def _usable(self) -> bool:
        return time.monotonic() >= self._down_until

    def _failed(self, error: Exception) -> None:
        logger.warning("send limits: Redis unreachable (%s); limiting in this process for %.0f s",
                       type(error).__name__, REDIS_RETRY_SECONDS)
        self._down_until = time.monotonic() + REDIS_RETRY_SECONDS
        self._clients = {}

    async def acquire(self, limits: Sequence[Tuple[str, Rate]]) -> float:
        if self._usable():
            args: List[str] = []
            for _, rate in limits:
                args += [str(round(rate.interval * 1e6)), str(round(rate.tolerance * 1e6))]
            try:
                wait = await self._client().eval(_ACQUIRE, len(limits), *[key for key, _ in limits], *args)
                return int(wait) / 1e6
            except Exception as error:  # noqa: BLE001 - redis errors, timeouts, refused connections
                self._failed(error)
        return self.fallback.acquire(limits)

    async def hold(self, key: str, rate: Rate, seconds: float) -> None:
        self.fallback.hold(key, rate, seconds)
        if self._usable():
            try:
                await self._client().eval(_HOLD, 1, key, str(round(seconds * 1e6)), str(round(rate.tolerance * 1e6)))
            except Exception as error:  # noqa: BLE001
                self._failed(error)

    async def close(self) -> None:
        clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            try:
                await client.aclose() if hasattr(client, "aclose") else await client.close()
            except Exception:  # noqa: BLE001 - closing a client of a closed loop
                pass


class _MemoryAsync:
    """MemorySchedule behind the async interface of RedisSchedule."""

    def __init__(self, schedule: MemorySchedule) -> None:
        self.schedule = schedule

    async def acquire(self, limits: Sequence[Tuple[str, Rate]]) -> float:
        return self.schedule.acquire(limits)

    async def hold(self, key: str, rate: Rate, seconds: float) -> None:
        self.schedule.hold(key, rate, seconds)

    async def close(self) -> None:
        return None


class SendLimiter:
    """The send budget of one bot: overall, per chat, per group."""

    def __init__(self, schedule: Any, prefix: str, bot: str, overall: Rate, per_chat: Rate,
                 per_group: Optional[Rate] = None, sleep: Callable[[float], Any] = asyncio.sleep) -> None:
        self.schedule = schedule
        self.overall, self.per_chat, self.per_group = overall, per_chat, per_group or per_chat
        self._base = f"{prefix}:send:{_digest(bot)}"
        self._sleep = sleep

    @classmethod
    def from_env(cls, bot: str, overall: Rate, per_chat: Rate, per_group: Optional[Rate] = None,
                 env: Optional[Mapping[str, str]] = None) -> "SendLimiter":
        env = os.environ if env is None else env
        url = env.get("REDIS_URL", "").strip()
        prefix = env.get("REDIS_KEY_PREFIX", "").strip() or "trolyso"
        schedule = RedisSchedule(url) if url else _MemoryAsync(PROCESS_SCHEDULE)
        return cls(schedule, prefix, bot, overall, per_chat, per_group)

    @property
    def overall_key(self) -> str:
        return f"{self._base}:all"

    def limits(self, chat: Optional[str], group: bool = False) -> List[Tuple[str, Rate]]:
        found = [(self.overall_key, self.overall)]
        if chat is not None:
            found.append((f"{self._base}:chat:{_digest(str(chat))}", self.per_group if group else self.per_chat))
        return found

    async def wait(self, chat: Optional[str], group: bool = False) -> float:
        """Wait for this bot's turn to send to `chat`; the seconds waited."""
        limits, waited = self.limits(chat, group), 0.0
        while True:
            wait = await self.schedule.acquire(limits)
            if wait <= 0:
                return waited
            wait = min(wait, MAX_WAIT_STEP)
            await self._sleep(wait)
            waited += wait

    async def retry_after(self, seconds: float) -> None:
        """The API asked to wait: every process of this bot holds its sends that long."""
        await self.schedule.hold(self.overall_key, self.overall, seconds)

    async def close(self) -> None:
        await self.schedule.close()


def zalo_overall(env: Optional[Mapping[str, str]] = None) -> Rate:
    env = os.environ if env is None else env
    try:
        per_second = float(env.get("ZALO_SEND_PER_SECOND", "") or ZALO_DEFAULT_PER_SECOND)
    except ValueError:
        per_second = ZALO_DEFAULT_PER_SECOND
    per_second = max(per_second, 0.1)
    return Rate(per_second, 1, burst=max(1, int(per_second)))
