"""bot/channels/send_limits.py: the messenger bots' send budget, per bot across processes
(the machine's Redis, a key prefix of this test's own, cleaned up) or in process memory."""
import asyncio
import time

import pytest

from bot.channels.send_limits import MemorySchedule, Rate, RedisSchedule, SendLimiter, zalo_overall
from tests.services import redis_prefix

PER_CHAT = Rate(1, 1, burst=3)
OVERALL = Rate(30, 1, burst=30)


def test_memory_schedule_allows_the_burst_then_one_a_second():
    now = [100.0]
    schedule = MemorySchedule(clock=lambda: now[0])
    chat1 = [("all", OVERALL), ("chat:1", PER_CHAT)]
    assert [schedule.acquire(chat1) for _ in range(3)] == [0, 0, 0]
    assert schedule.acquire(chat1) == pytest.approx(1.0)  # the 4th: in a second (nothing taken)
    assert schedule.acquire(chat1) == pytest.approx(1.0)
    # another chat is not held up by the first one's queue, only by the overall budget
    assert schedule.acquire([("all", OVERALL), ("chat:2", PER_CHAT)]) == 0
    now[0] += 1.0
    assert schedule.acquire(chat1) == 0 and schedule.acquire(chat1) == pytest.approx(1.0)


def test_memory_schedule_overall_budget_spans_chats():
    now = [0.0]
    schedule = MemorySchedule(clock=lambda: now[0])
    waits = [schedule.acquire([("all", OVERALL), (f"chat:{n}", PER_CHAT)]) for n in range(31)]
    assert waits[:30] == [0] * 30 and waits[30] == pytest.approx(1 / 30)


def test_memory_schedule_is_bounded_and_forgets_idle_chats():
    now = [0.0]
    schedule = MemorySchedule(clock=lambda: now[0], max_keys=50)
    for n in range(500):
        schedule.acquire([(f"chat:{n}", PER_CHAT)])
    assert len(schedule) == 50
    now[0] = 10.0
    schedule.acquire([("chat:new", PER_CHAT)])
    assert len(schedule) == 1


def test_a_retry_after_holds_the_sends():
    now = [0.0]
    schedule = MemorySchedule(clock=lambda: now[0])
    schedule.hold("all", OVERALL, 5.0)
    assert schedule.acquire([("all", OVERALL)]) == pytest.approx(5.0)


async def test_two_limiters_on_redis_share_one_budget():
    """Two limiter instances with their own Redis clients (as two processes): one bot's budget.
    Slow rates (one a minute) so that a loaded machine's pauses refill nothing."""
    chat_rate, all_rate = Rate(1, 60, burst=3), Rate(1, 60, burst=10)
    with redis_prefix() as (url, prefix):
        first, second, other_bot = (
            SendLimiter(RedisSchedule(url, MemorySchedule()), prefix, bot, all_rate, chat_rate)
            for bot in ("telegram:token-1", "telegram:token-1", "telegram:token-2")
        )
        try:
            waits = []
            for limiter in (first, second, first, second):
                waits.append(await limiter.schedule.acquire(limiter.limits("830001")))
            # the chat's burst of 3 is used up across both; the next may go in about a minute
            assert waits[:3] == [0, 0, 0] and 50 < waits[3] <= 60, waits
            # other chats of the same bot are not held up, but the overall budget (10) is shared
            overall = [await limiter.schedule.acquire(limiter.limits(f"84{n:04d}"))
                       for n, limiter in zip(range(8), [first, second] * 4)]
            assert overall[:7] == [0] * 7 and overall[7] > 50, overall
            # another bot (token) has a budget of its own
            assert await other_bot.schedule.acquire(other_bot.limits("830001")) == 0
            # the keys hold neither the token nor the chat id, and expire
            import redis

            client = redis.Redis.from_url(url)
            keys = [key.decode() for key in client.scan_iter(prefix + ":send:*")]
            assert keys and not any("token" in key or "830001" in key for key in keys), keys
            assert all(0 < client.pttl(key) <= 700_000 for key in keys)
            client.close()
        finally:
            for limiter in (first, second, other_bot):
                await limiter.close()
        # and a wait is really waited
        quick = Rate(1, 1, burst=1)
        one, two = (SendLimiter(RedisSchedule(url, MemorySchedule()), prefix, "zalo:app-q", quick, quick)
                    for _ in range(2))
        try:
            assert await one.wait("u1") == 0
            started = time.monotonic()
            await two.wait("u1")
            assert time.monotonic() - started >= 0.5
        finally:
            await one.close()
            await two.close()


async def test_without_redis_the_process_budget_is_used():
    limiter = SendLimiter.from_env("zalo:app-x", Rate(50, 1, 50), Rate(1, 60, burst=3), env={})
    waits = [await limiter.schedule.acquire(limiter.limits("user-1")) for _ in range(4)]
    assert waits[:3] == [0, 0, 0] and waits[3] > 50


async def test_redis_unreachable_falls_back_to_the_process():
    from tests.ports import free_port

    limiter = SendLimiter(RedisSchedule(f"redis://127.0.0.1:{free_port()}/0", MemorySchedule()), "t", "bot",
                          OVERALL, Rate(1, 60, burst=3))
    waits = [await limiter.schedule.acquire(limiter.limits("chat")) for _ in range(4)]
    await limiter.close()
    assert waits[:3] == [0, 0, 0] and waits[3] > 50


def test_zalo_overall_rate_is_a_setting():
    assert zalo_overall({}).count == 10
    assert zalo_overall({"ZALO_SEND_PER_SECOND": "4"}) == Rate(4, 1, burst=4)
    assert zalo_overall({"ZALO_SEND_PER_SECOND": "lots"}).count == 10


async def test_telegram_sends_to_one_chat_are_paced(fake_telegram, monkeypatch):
    """PTB's bot with the shared limiter, against the fake Bot API: a burst of 3, then one a second."""
    from bot.channels.telegram_bot import TelegramConfig, build_bot

    monkeypatch.delenv("REDIS_URL", raising=False)
    chat = 830_777_001
    bot = build_bot(TelegramConfig(fake_telegram.token, "", fake_telegram.base_url, ""))
    await bot.initialize()
    try:
        started = time.monotonic()
        await asyncio.gather(*(bot.send_message(chat, f"tin {n}") for n in range(5)))
        took = time.monotonic() - started
    finally:
        await bot.shutdown()
    sent = fake_telegram.find(fake_telegram.sent_to(chat))
    assert len(sent) == 5 and took >= 1.8, took
    gaps = sorted(call.at for call in sent)
    assert gaps[-1] - gaps[0] >= 1.8


async def test_zalo_sends_to_one_user_are_paced(fake_zalo, tmp_path, monkeypatch):
    from bot.channels.zalo_client import TokenStore, ZaloClient
    from bot.db.engine import session_factory

    monkeypatch.delenv("REDIS_URL", raising=False)
    sessions = session_factory(f"sqlite:///{tmp_path / 'zalo.sqlite3'}")
    client = ZaloClient(fake_zalo.base, fake_zalo.base, "app-paced", fake_zalo.app_secret,
                        TokenStore(sessions, fake_zalo.valid_access_token, fake_zalo.valid_refresh_token))
    try:
        started = time.monotonic()
        results = [await client.send("2468000777", {"text": f"tin {n}"}) for n in range(5)]
        took = time.monotonic() - started
    finally:
        await client.close()
    assert all(result.ok for result in results) and took >= 1.8, (results, took)


async def test_a_telegram_retry_after_is_waited_out_then_sent(fake_telegram, monkeypatch):
    from bot.channels.telegram_bot import TelegramConfig, build_bot

    monkeypatch.delenv("REDIS_URL", raising=False)
    chat = 830_777_002
    bot = build_bot(TelegramConfig(fake_telegram.token, "", fake_telegram.base_url, ""))
    await bot.initialize()
    fake_telegram.fail_next("sendMessage", 429, "Too Many Requests: retry after 1", retry_after=1)
    try:
        started = time.monotonic()
        await bot.send_message(chat, "tin")
        took = time.monotonic() - started
    finally:
        await bot.shutdown()
    assert len(fake_telegram.find(fake_telegram.sent_to(chat))) == 2 and took >= 1.0  # refused, then sent
