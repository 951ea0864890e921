"""Hand-off relay and inline-mode latency benchmark.

    .venv/bin/python bench/handoff.py                        # 12 residents, 5 messages each
    .venv/bin/python bench/handoff.py --residents 12 --messages 5 --json var/bench/handoff.json

Starts the fake Telegram Bot API and Zalo OpenAPI (real HTTP servers on
127.0.0.1, the ones the tests use) and `python -m bot serve` pointed at them.
Residents on Telegram, Zalo and the web chat (a third each) ask for a person
and name a commune with a team group; then, per resident, messages go back and
forth. Measured at the fake APIs (when the messenger would have the message):

- ticket: the commune message's webhook -> the ticket post in the group;
- resident -> group: a resident's message -> its forward in the group;
- team -> resident: a team member's reply in the group -> the message at the
  resident's messenger (web chat: until `/api/chat/updates` returns it, polled
  every 50 ms, as the page does every 3 s);
- inline: an inline query -> answerInlineQuery (held-out questions as queries).

Prints p50/p95 of each (sequential requests: latency, not throughput).
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable, Dict, List

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.stats import percentile  # noqa: E402
from tests.conftest import load_examples  # noqa: E402
from tests.fakes.telegram_api import FakeTelegram, group_reply_update, inline_query_update, private_text_update  # noqa: E402
from tests.fakes.zalo_api import FakeZalo, ZaloEvents  # noqa: E402
from tests.serve_helpers import (  # noqa: E402
    TELEGRAM_SECRET, ZALO_APP_ID, ZALO_OA_SECRET, channel_env, http, post, start_assistant, stop_assistant,
)

GROUPS = {"xa hoa binh": -1001000000002, "phuong quang trung": -1001000000003}
TIMEOUT = 20.0
READING_SECONDS = 0.5


def letters(number: int) -> str:
    """7 -> 'h', 27 -> 'bb': a word unique per number, untouched by the masking of numbers."""
    word = ""
    while True:
        number, digit = divmod(number, 26)
        word = chr(ord("a") + digit) + word
        if not number:
            return word


class Bench:
    def __init__(self, assistant: dict, telegram: FakeTelegram, zalo: FakeZalo) -> None:
        self.assistant, self.telegram, self.zalo = assistant, telegram, zalo
        self.events = ZaloEvents(ZALO_APP_ID, ZALO_OA_SECRET)
        self.rasa = f"http://127.0.0.1:{assistant['RASA_PORT']}"
        self.web = f"http://127.0.0.1:{assistant['WEB_PORT']}"
        self.samples: Dict[str, List[float]] = {"ticket": [], "resident_to_group": [], "inline": []}
        self.residents = 0

    # -- sending as the resident / the team ---------------------------------------------
    def telegram_update(self, update: dict) -> None:
        raw = json.dumps(update, ensure_ascii=False).encode()
        headers = {"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET}
        status, body = post(f"{self.rasa}/webhooks/telegram/webhook", raw, headers)
        assert status == 200, body
        if body.get("status") != "accepted":
            raise RuntimeError(f"the webhook did not accept update {update['update_id']}: {body}")

    def resident_says(self, channel: str, who: str, text: str) -> None:
        if channel == "telegram":
            self.telegram_update(private_text_update(self.telegram.next_update_id(), int(who), text))
        elif channel == "zalo":
            raw, headers = self.events.sign(self.events.text(who, text))
            status, body = post(f"{self.rasa}/webhooks/zalo/webhook", raw, headers)
            assert status == 200, body
        else:
            status, body = http(f"{self.web}/api/chat", {"sender": who, "message": text})
            assert status == 200, body

    def wait(self, fake, predicate: Callable, count: int) -> float:
        calls = fake.wait_for(predicate, count=count, timeout=TIMEOUT)
        if len(calls) < count:
            raise RuntimeError("timed out waiting for the fake API")
        return calls[count - 1].at

    def group_post(self, group: int, contains: str) -> Callable:
        return lambda c: self.telegram.sent_to(group)(c) and contains in c.params.get("text", "")

    # -- one resident ---------------------------------------------------------------------
    def resident(self, channel: str, who: str, commune: str, messages: int, team_to_resident: List[float]) -> None:
        self.residents += 1
        group = GROUPS[commune]
        self.resident_says(channel, who, "toi muon gap nguoi ho tro")
        time.sleep(1.0)
        started = time.monotonic()
        self.resident_says(channel, who, commune)
        ticket_post = self.telegram.wait_for(
            lambda c: self.telegram.sent_to(group)(c) and c.result and "#" in c.params.get("text", "")
            and c.at >= started, timeout=TIMEOUT,
        )
        self.samples["ticket"].append(ticket_post[-1].at - started)
        for n in range(messages):
            text = f"tin nhan {letters(n)} cua ban {letters(self.residents)}"  # digits would be masked
            started = time.monotonic()
            self.resident_says(channel, who, text)
            forwarded = self.telegram.wait_for(self.group_post(group, text), timeout=TIMEOUT)
            self.samples["resident_to_group"].append(forwarded[-1].at - started)
            time.sleep(READING_SECONDS)  # a person reads before replying
            reply = f"tra loi {letters(n)} cho ban {letters(self.residents)}"
            started = time.monotonic()
            self.telegram_update(group_reply_update(self.telegram.next_update_id(), group, forwarded[-1].result, reply))
            team_to_resident.append(self.delivered(channel, who, reply) - started)
        self.resident_says(channel, who, "ket thuc")
        time.sleep(0.5)
        self.resident_says(channel, who, "5")

    def delivered(self, channel: str, who: str, reply: str) -> float:
        if channel == "telegram":
            return self.wait(self.telegram, lambda c: self.telegram.sent_to(int(who))(c) and reply in c.params.get("text", ""), 1)
        if channel == "zalo":
            return self.wait(self.zalo, lambda c: self.zalo.sent_to(who)(c) and reply in c.params["message"]["text"], 1)
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            status, body = http(f"{self.web}/api/chat/updates?sender={who}")
            if any(reply in (m.get("text") or "") for m in json.loads(body)["messages"]):
                return time.monotonic()
            time.sleep(0.05)
        raise RuntimeError("the web chat never got the reply")

    def inline(self, queries: List[str]) -> None:
        for query in queries:
            update = inline_query_update(self.telegram.next_update_id(), 8800009, query)
            started = time.monotonic()
            self.telegram_update(update)
            query_id = update["inline_query"]["id"]
            self.samples["inline"].append(
                self.wait(self.telegram, lambda c: c.method == "answerInlineQuery" and c.params.get("inline_query_id") == query_id, 1)
                - started
            )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--residents", type=int, default=12)
    parser.add_argument("--messages", type=int, default=5)
    parser.add_argument("--inline", type=int, default=100, help="inline queries")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    telegram, zalo = FakeTelegram().start(), FakeZalo().start()
    workdir = Path(tempfile.mkdtemp(prefix="bench-handoff-"))
    env = {**channel_env(telegram, zalo), "HANDOFF_REMINDER_MINUTES": "60"}
    print("starting the assistant ...", flush=True)
    assistant = start_assistant(workdir, env)
    try:
        bench = Bench(assistant, telegram, zalo)
        per_channel: Dict[str, List[float]] = {"telegram": [], "zalo": [], "web": []}
        channels = list(per_channel)
        for n in range(args.residents):
            channel = channels[n % 3]
            who = {"telegram": str(840_000_001 + n), "zalo": str(246_845_883_540_000_001 + n), "web": f"web-bench-{n:012d}"}[channel]
            commune = list(GROUPS)[n % 2]
            bench.resident(channel, who, commune, args.messages, per_channel[channel])
        examples = [text for text, _ in load_examples(ROOT / "tests" / "nlu_holdout.yml")]
        bench.inline(examples[: args.inline])
    finally:
        stop_assistant(assistant)
        telegram.stop()
        zalo.stop()

    report = {
        name: {"n": len(values), "p50_ms": 1000 * percentile(values, 0.5), "p95_ms": 1000 * percentile(values, 0.95)}
        for name, values in {
            **bench.samples,
            **{f"team_to_resident_{channel}": values for channel, values in per_channel.items()},
        }.items()
    }
    print(f"{'measure':28} {'n':>5} {'p50 ms':>8} {'p95 ms':>8}")
    for name, row in report.items():
        print(f"{name:28} {row['n']:>5} {row['p50_ms']:>8.1f} {row['p95_ms']:>8.1f}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
