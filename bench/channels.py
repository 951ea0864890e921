"""Channel load benchmark: simulated residents on every channel's webhook.

    .venv/bin/python bench/channels.py                     # 20 users x 60 s per channel
    .venv/bin/python bench/channels.py --users 20 --seconds 60 --json var/bench/channels.json

Starts the fake Telegram Bot API and Zalo OpenAPI (real HTTP servers on
127.0.0.1, the ones the tests use) and `python -m bot serve` pointed at them,
then, one channel after the other, runs N concurrent users for S seconds. Each
user sends a question from tests/nlu_holdout.yml (never trained on, many
without diacritics), waits for the answer to reach the fake messenger API,
reads for a while (think time), and asks the next one. One delivery in ten is
delivered twice, as messengers re-deliver.

Reported per channel: webhook POST -> HTTP 200 (the messenger's view), webhook -> first reply and webhook -> last reply p50/p95
(measured at the fake API, i.e. when the messenger would have the answer),
messages per second, lost messages (no answer in 15 s), messages answered
twice (a re-delivery answered, or an answer repeated), and the peak RSS of the
Rasa server. "web" is the web chat path (web app -> Rasa REST), synchronous.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.stats import children, percentile  # noqa: E402
from tests.conftest import load_examples  # noqa: E402
from tests.fakes.telegram_api import FakeTelegram, private_text_update  # noqa: E402
from tests.fakes.zalo_api import FakeZalo, ZaloEvents  # noqa: E402
from tests.serve_helpers import (  # noqa: E402
    TELEGRAM_SECRET, ZALO_APP_ID, ZALO_OA_SECRET, channel_env, start_assistant, stop_assistant,
)

ANSWER_TIMEOUT = 15.0
REDELIVERY_SHARE = 0.1


BUSY_RETRIES = 30


@dataclass
class Sent:
    user: str
    text: str
    at: float
    redelivered: bool = False
    answers: List[float] = field(default_factory=list)
    texts: List[str] = field(default_factory=list)
    duplicate_accepted: bool = False
    ack: float = 0.0  # webhook POST -> HTTP 200


def questions() -> List[str]:
    """In-scope held-out questions (answers without starting a journey)."""
    skip = {"out_of_scope", "start_journey", "request_human", "inform_commune"}
    return [text for text, intent in load_examples(ROOT / "tests" / "nlu_holdout.yml") if intent not in skip]


class Channel:
    name = ""

    def __init__(self, assistant: dict) -> None:
        self.assistant = assistant

    async def deliver(self, http: aiohttp.ClientSession, user: str, text: str, redeliver: bool) -> Sent:
        raise NotImplementedError

    def replies(self, user: str) -> List[tuple]:
        """(time, text) of every answer the fake API got for this user."""
        raise NotImplementedError

    async def post_webhook(self, http: aiohttp.ClientSession, sent: Sent, raw: bytes, headers: dict) -> Sent:
        """POST a delivery to the channel's webhook (twice when it is a re-delivery)."""
        for _ in range(BUSY_RETRIES):
            async with http.post(self.url, data=raw, headers=headers) as reply:
                if reply.status != 503:  # busy: the messenger retries later
                    assert reply.status == 200, await reply.text()
                    break
            await asyncio.sleep(1.0)
        sent.ack = time.monotonic() - sent.at
        if sent.redelivered:
            async with http.post(self.url, data=raw, headers=headers) as reply:
                sent.duplicate_accepted = (await reply.json()).get("status") != "duplicate"
        return sent


class TelegramChannel(Channel):
    name = "telegram"

    def __init__(self, assistant: dict, fake: FakeTelegram) -> None:
        super().__init__(assistant)
        self.fake = fake
        self.url = f"http://127.0.0.1:{assistant['RASA_PORT']}/webhooks/telegram/webhook"
        self.update_ids = iter(range(5_000_000, 10_000_000))

    async def deliver(self, http, user, text, redeliver):  # noqa: ANN001
        raw = json.dumps(private_text_update(next(self.update_ids), int(user), text)).encode()
        headers = {"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET, "Content-Type": "application/json"}
        return await self.post_webhook(http, Sent(user, text, time.monotonic(), redeliver), raw, headers)

    def replies(self, user):  # noqa: ANN001
        return [(c.at, c.params["text"]) for c in self.fake.find(self.fake.sent_to(int(user)))]


class ZaloChannel(Channel):
    name = "zalo"

    def __init__(self, assistant: dict, fake: FakeZalo) -> None:
        super().__init__(assistant)
        self.fake = fake
        self.url = f"http://127.0.0.1:{assistant['RASA_PORT']}/webhooks/zalo/webhook"
        self.events = ZaloEvents(ZALO_APP_ID, ZALO_OA_SECRET)

    async def deliver(self, http, user, text, redeliver):  # noqa: ANN001
        raw, headers = self.events.sign(self.events.text(user, text))
        return await self.post_webhook(http, Sent(user, text, time.monotonic(), redeliver), raw, headers)

    def replies(self, user):  # noqa: ANN001
        return [(c.at, c.params["message"]["text"]) for c in self.fake.find(self.fake.sent_to(user))]


class WebChannel(Channel):
    """The web chat: the browser's request to the web app returns the answers."""

    name = "web"

    def __init__(self, assistant: dict) -> None:
        super().__init__(assistant)
        self.url = f"http://127.0.0.1:{assistant['WEB_PORT']}/api/chat"
        self.log: Dict[str, List[tuple]] = {}

    async def deliver(self, http, user, text, redeliver):  # noqa: ANN001
        sent = Sent(user, text, time.monotonic())
        async with http.post(self.url, json={"sender": user, "message": text}) as reply:
            body = await reply.json()
        now = time.monotonic()
        self.log.setdefault(user, []).extend((now, m.get("text", "")) for m in body.get("messages", []))
        return sent

    def replies(self, user):  # noqa: ANN001
        return self.log.get(user, [])


async def simulate_user(channel: Channel, user: str, texts: List[str], until: float, think: tuple, rng: random.Random) -> List[Sent]:
    sent: List[Sent] = []
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(timeout=timeout) as http:
        await asyncio.sleep(rng.uniform(0, think[1]))  # users do not all start at once
        while time.monotonic() < until:
            before = len(channel.replies(user))
            message = await channel.deliver(http, user, rng.choice(texts), rng.random() < REDELIVERY_SHARE)
            sent.append(message)
            deadline = message.at + ANSWER_TIMEOUT
            while len(channel.replies(user)) == before and time.monotonic() < deadline:
                await asyncio.sleep(0.005)
            await asyncio.sleep(rng.uniform(*think))
    return sent


def attribute(channel: Channel, user: str, sent: List[Sent]) -> None:
    """Give each answer to the message it followed (users wait before asking again)."""
    replies = channel.replies(user)
    for index, message in enumerate(sent):
        end = sent[index + 1].at if index + 1 < len(sent) else float("inf")
        for at, text in replies:
            if message.at <= at < end:
                message.answers.append(at - message.at)
                message.texts.append(text)


def answered_twice(message: Sent) -> bool:
    if message.duplicate_accepted:
        return True
    texts, half = message.texts, len(message.texts) // 2
    return half > 0 and len(texts) % 2 == 0 and texts[:half] == texts[half:]


def rss_peak_mib(pid: int) -> Optional[float]:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def rasa_pid(serve_pid: int) -> Optional[int]:
    return children(serve_pid).get("rasa")


async def run_channel(channel: Channel, users: int, seconds: float, think: tuple, seed: int) -> dict:
    texts = questions()
    rng = random.Random(seed)
    base = {"telegram": 900_000_000, "zalo": 800_000_000, "web": 0}[channel.name]
    ids = [f"bench-web-{i:04d}-{seed}" if channel.name == "web" else str(base + seed * 1000 + i) for i in range(users)]
    started = time.monotonic()
    until = started + seconds
    per_user = await asyncio.gather(
        *(simulate_user(channel, uid, texts, until, think, random.Random(rng.random())) for uid in ids)
    )
    await asyncio.sleep(2)  # the last answers
    elapsed = time.monotonic() - started
    messages: List[Sent] = []
    for uid, sent in zip(ids, per_user):
        attribute(channel, uid, sent)
        messages.extend(sent)
    answered = [m for m in messages if m.answers]
    first = [m.answers[0] * 1000 for m in answered]
    last = [m.answers[-1] * 1000 for m in answered]
    return {
        "channel": channel.name,
        "users": users,
        "seconds": seconds,
        "messages": len(messages),
        "redelivered": sum(m.redelivered for m in messages),
        "messages_per_second": round(len(messages) / elapsed, 2),
        "replies": sum(len(m.answers) for m in messages),
        "first_reply_ms": {"p50": round(percentile(first, 0.5), 1), "p95": round(percentile(first, 0.95), 1), "max": round(max(first, default=float("nan")), 1)},
        "webhook_ack_ms": {"p50": round(percentile([m.ack * 1000 for m in messages], 0.5), 1), "p95": round(percentile([m.ack * 1000 for m in messages], 0.95), 1)},
        "last_reply_ms": {"p50": round(percentile(last, 0.5), 1), "p95": round(percentile(last, 0.95), 1)},
        "lost": len(messages) - len(answered),
        "answered_twice": sum(answered_twice(m) for m in messages),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--think", type=float, nargs=2, default=(1.0, 3.0), metavar=("MIN", "MAX"),
                        help="seconds a user reads before the next question (default 1 3)")
    parser.add_argument("--channels", nargs="+", default=["telegram", "zalo", "web"])
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()

    telegram, zalo = FakeTelegram().start(), FakeZalo().start()
    workdir = Path(tempfile.mkdtemp(prefix="bench-channels-"))
    assistant = start_assistant(workdir, channel_env(telegram, zalo))
    results = []
    try:
        rasa = rasa_pid(assistant["process"].pid)
        for seed, name in enumerate(args.channels, start=1):
            channel = {"telegram": lambda: TelegramChannel(assistant, telegram),
                       "zalo": lambda: ZaloChannel(assistant, zalo),
                       "web": lambda: WebChannel(assistant)}[name]()
            result = asyncio.run(run_channel(channel, args.users, args.seconds, tuple(args.think), seed))
            result["rasa_peak_rss_mib"] = round(rss_peak_mib(rasa), 1) if rasa else None
            results.append(result)
            print(json.dumps(result, ensure_ascii=False), flush=True)
    finally:
        stop_assistant(assistant)
        telegram.stop()
        zalo.stop()
    print()
    print(f"{'channel':<9} {'msgs':>5} {'msg/s':>6} {'first p50':>9} {'first p95':>9} {'last p95':>8} {'lost':>4} {'twice':>5}")
    for r in results:
        print(f"{r['channel']:<9} {r['messages']:>5} {r['messages_per_second']:>6} {r['first_reply_ms']['p50']:>9} "
              f"{r['first_reply_ms']['p95']:>9} {r['last_reply_ms']['p95']:>8} {r['lost']:>4} {r['answered_twice']:>5}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, ensure_ascii=False, indent=2), encoding="utf-8")
    ok = all(r["lost"] == 0 and r["answered_twice"] == 0 for r in results)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
