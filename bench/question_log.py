"""Question-log overhead benchmark: what logging adds to each answered message.

    .venv/bin/python bench/question_log.py [--conversations 50 --turns 20] [--json var/bench/question_log.json]

On the answering path, logging costs what Rasa's tracker store does only
because an event broker is configured (re-reading the stored tracker and
diffing it, `stream_events`) plus our broker's `publish` for each new event
(assembling the turn, queueing it). This script replays conversations shaped
like the assistant's real ones (a message with its NLU result, three answer
messages, `action_offer_resume`, `action_listen`) through
ForgetfulInMemoryTrackerStore twice, with and without QuestionLogBroker, and
reports per message: the save time with the broker, without it, and the
difference (p50/p95). Target: <= 5 ms p95 added per message.

Off the answering path it also times the writer thread (masking, keyed
hashing, batched INSERT) on SQLite and on the machine's PostgreSQL: rows per
second it sustains, to show it keeps up with far more than the assistant's
traffic.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import List

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.stats import percentile  # noqa: E402
from rasa.shared.core.domain import Domain  # noqa: E402
from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, SlotSet, UserUttered  # noqa: E402
from rasa.shared.core.trackers import DialogueStateTracker  # noqa: E402

from bot.db.engine import session_factory  # noqa: E402
from bot.questionlog.broker import QuestionLogBroker  # noqa: E402
from bot.questionlog.pseudonym import Pseudonymiser  # noqa: E402
from bot.questionlog.turns import Turn  # noqa: E402
from bot.questionlog.writer import LogWriter  # noqa: E402
from bot.tracker_store import ForgetfulInMemoryTrackerStore  # noqa: E402
from tests.conftest import load_examples  # noqa: E402
from tests.databases import postgres_database  # noqa: E402


def turn_events(text: str, intent: str) -> list:
    parse = {"text": text, "intent": {"name": intent, "confidence": 0.93},
             "intent_ranking": [{"name": intent, "confidence": 0.93}, {"name": "greet", "confidence": 0.03},
                                {"name": "affirm", "confidence": 0.01}], "entities": []}
    events = [UserUttered(text, parse["intent"], [], parse, input_channel="zalo")]
    for i in range(3):
        events += [ActionExecuted(f"utter_{intent}"), BotUttered(f"Dạ, bước {i + 1} ... " * 6, {"buttons": None})]
    events += [ActionExecuted("action_offer_resume"), SlotSet("repeated_fallback", False), ActionExecuted("action_listen")]
    return events


async def replay(domain: Domain, store, conversations: int, turns: int, examples, seed: int) -> List[float]:
    rng = random.Random(seed)
    timings = []
    for c in range(conversations):
        sender = f"zalo:{c}"
        tracker = DialogueStateTracker.from_events(
            sender, [ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted("action_listen")], slots=domain.slots
        )
        await store.save(tracker)
        for _ in range(turns):
            text, intent = rng.choice(examples)
            for event in turn_events(text, intent):
                tracker.update(event)
            started = time.perf_counter()
            await store.save(tracker)
            timings.append((time.perf_counter() - started) * 1000)
    return timings


def writer_rate(url: str, rows: int, examples) -> float:
    writer = LogWriter(session_factory(url), Pseudonymiser(b"bench"), days=100_000)
    rng = random.Random(3)
    started = time.perf_counter()
    for i in range(rows):
        text, intent = rng.choice(examples)
        writer.put(Turn(f"zalo:{i % 500}", 1.0, datetime.now(timezone.utc), "zalo", text + " sdt 0912345678", intent, 0.9,
                        [{"name": intent, "confidence": 0.9}], False, False, ["utter_x"], False))
    writer.flush(timeout=600)
    elapsed = time.perf_counter() - started
    writer.close()
    return rows / elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--conversations", type=int, default=50)
    parser.add_argument("--turns", type=int, default=20)
    parser.add_argument("--writer-rows", type=int, default=20_000)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    domain = Domain.load(str(ROOT / "domain"))
    examples = load_examples(ROOT / "tests" / "nlu_holdout.yml")
    workdir = Path(tempfile.mkdtemp(prefix="bench-log-"))
    writer = LogWriter(session_factory(f"sqlite:///{workdir / 'log.sqlite3'}"), Pseudonymiser(b"bench"))
    broker = QuestionLogBroker(writer)

    plain_runs, logged_runs = [], []
    for round_ in range(3):  # alternate, so machine noise hits both alike
        plain_runs += asyncio.run(replay(domain, ForgetfulInMemoryTrackerStore(domain), args.conversations, args.turns, examples, round_))
        logged_runs += asyncio.run(replay(domain, ForgetfulInMemoryTrackerStore(domain, broker), args.conversations, args.turns, examples, round_))
    writer.flush(timeout=600)
    writer.close()
    added = [w - wo for w, wo in zip(logged_runs, plain_runs)]
    result = {
        "messages": len(logged_runs),
        "save_without_log_ms": {"p50": round(statistics.median(plain_runs), 3), "p95": round(percentile(plain_runs, 0.95), 3)},
        "save_with_log_ms": {"p50": round(statistics.median(logged_runs), 3), "p95": round(percentile(logged_runs, 0.95), 3)},
        "added_ms": {"p50": round(statistics.median(added), 3), "p95": round(percentile(added, 0.95), 3)},
        "added_p95_of_distributions_ms": round(percentile(logged_runs, 0.95) - percentile(plain_runs, 0.95), 3),
    }
    print(json.dumps(result, indent=2))
    rates = {"sqlite": writer_rate(f"sqlite:///{workdir / 'rate.sqlite3'}", args.writer_rows, examples)}
    with postgres_database() as url:
        rates["postgresql"] = writer_rate(url, args.writer_rows, examples)
    result["writer_rows_per_second"] = {k: round(v) for k, v in rates.items()}
    print("writer rows/s (masking + hashing + INSERT, background thread):", result["writer_rows_per_second"])
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2), encoding="utf-8")
    return 0 if result["added_ms"]["p95"] <= 5 else 1


if __name__ == "__main__":
    sys.exit(main())
