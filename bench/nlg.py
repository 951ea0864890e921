"""What the published-answers NLG adds per answer, against Rasa's own templated NLG.

    .venv/bin/python bench/nlg.py [--answers 5000] [--database URL] [--poll 2.0]

Both generators answer the same responses on the same tracker (slots set,
address_form "bac"), alternating call by call; the figure is the extra time
of ours per answer (p50/p95), including its revision polls (one read of the
counter every --poll seconds, made to happen during the run with a short
poll) and one publish in the middle of the run. Target: p95 ≤ 2 ms.
"""
from __future__ import annotations

import argparse
import asyncio
import datetime
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.stats import percentile  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--answers", type=int, default=5000)
    parser.add_argument("--database", default=None, help="SQLAlchemy URL (default: a throw-away SQLite file)")
    parser.add_argument("--poll", type=float, default=0.05, help="seconds between revision polls (production: 2)")
    args = parser.parse_args()

    from rasa.core.nlg.response import TemplatedNaturalLanguageGenerator
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import SlotSet
    from rasa.shared.core.trackers import DialogueStateTracker
    from sqlalchemy.orm import sessionmaker

    from bot.answers import store
    from bot.answers.live import LiveAnswers
    from bot.answers.rasa_nlg import PublishedAnswersNLG
    from bot.db.engine import make_engine
    from bot.db.migrate import upgrade
    from bot.settings import PROJECT_ROOT

    url = args.database or f"sqlite:///{tempfile.mkdtemp(prefix='bench-nlg-')}/answers.sqlite3"
    engine = make_engine(url)
    upgrade(engine)
    factory = sessionmaker(engine, future=True, expire_on_commit=False)
    domain = Domain.load(str(PROJECT_ROOT / "domain"))
    live = LiveAnswers(factory, poll_seconds=args.poll)
    live.snapshot()  # seeds
    ours = PublishedAnswersNLG(domain=domain, live=live)
    theirs = TemplatedNaturalLanguageGenerator(domain.responses)
    tracker = DialogueStateTracker.from_events("bench", [], slots=domain.slots)
    for event in (SlotSet("address_form", "bac"), SlotSet("bank", "Agribank")):
        tracker.update(event)
    names = sorted(n for n in domain.responses if n.startswith("utter_"))

    async def run() -> tuple:
        added, base = [], []
        for i in range(args.answers):
            name = names[i % len(names)]
            if i == args.answers // 2:
                store.propose(factory, store.response_key("utter_ask_pay_water"),
                              {"variations": [{"text": "Bản mới cho anh/chị"}]}, store.Actor("bench", store.APPROVER),
                              "bench", "bench", datetime.date.today(), publish=True)
            t0 = time.perf_counter()
            await theirs.generate(name, tracker, "telegram")
            t1 = time.perf_counter()
            await ours.generate(name, tracker, "telegram")
            t2 = time.perf_counter()
            base.append((t1 - t0) * 1000)
            added.append(((t2 - t1) - (t1 - t0)) * 1000)
        return added, base

    started = time.perf_counter()
    added, base = asyncio.run(run())
    elapsed = time.perf_counter() - started
    said = asyncio.run(ours.generate("utter_ask_pay_water", tracker, "telegram"))["text"]
    print(f"answers: {args.answers} over {elapsed:.1f} s, revision polls every {args.poll} s ({elapsed / args.poll:.0f} polls)")
    print(f"Rasa templated NLG per answer: p50 {percentile(base, 0.5):.3f} ms, p95 {percentile(base, 0.95):.3f} ms")
    print(f"added by PublishedAnswersNLG:  p50 {percentile(added, 0.5):.3f} ms, p95 {percentile(added, 0.95):.3f} ms, "
          f"max {max(added):.3f} ms")
    print(f"after the publish it says: {said!r}")
    engine.dispose()


if __name__ == "__main__":
    main()
