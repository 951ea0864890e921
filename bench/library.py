"""Answer-library benchmark: search latency and hit rate on the held-out questions.

    .venv/bin/python bench/library.py [--repeat 5] [--json var/bench/library.json]

Every utterance of tests/nlu_holdout.yml (never trained on, and the NLU
examples are the library's keywords, so this is the same held-out set the NLU
benchmark uses) is searched with :func:`bot.library.search.search`. An
utterance of intent ``ask_x`` is a hit at k when the entry ``ask_x``, or a
journey of the same topic, is among the first k results. Intents without an
entry in the library (the menu, the hand-off request) are counted apart. It
prints the time to build the catalogue and the index (once per process), the
search latency p50/p95 (warm, every utterance searched ``--repeat`` times),
and top-1/top-3 hit rates overall, for the topic answers alone (without the
small-talk topic) and per intent (worst first).
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Dict, List

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.stats import percentile  # noqa: E402
from bot.library.catalogue import JOURNEY, catalogue  # noqa: E402
from bot.library.search import prepare, search  # noqa: E402
from tests.conftest import load_examples  # noqa: E402

SMALL_TALK_TOPIC = "basics"


def is_hit(results, intent: str, topic: str, k: int) -> bool:
    return any(e.id == intent or (e.kind == JOURNEY and e.topic == topic) for e in results[:k])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    started = time.perf_counter()
    library = catalogue()
    prepare(library)
    build_ms = (time.perf_counter() - started) * 1000

    examples = load_examples(ROOT / "tests" / "nlu_holdout.yml")
    topic_of = {e.intent: e.topic for e in library.entries if e.intent}
    latencies: List[float] = []
    per_intent: Dict[str, List[int]] = defaultdict(lambda: [0, 0, 0])  # n, top1, top3
    missing: Dict[str, int] = defaultdict(int)
    for text, intent in examples:
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            results = search(text, limit=10)
            latencies.append((time.perf_counter() - t0) * 1000)
        if intent not in topic_of:
            missing[intent] += 1
            continue
        counts = per_intent[intent]
        counts[0] += 1
        counts[1] += is_hit(results, intent, topic_of[intent], 1)
        counts[2] += is_hit(results, intent, topic_of[intent], 3)

    def rates(intents) -> Dict[str, float]:
        n = sum(per_intent[i][0] for i in intents)
        return {"n": n, "top1": sum(per_intent[i][1] for i in intents) / n,
                "top3": sum(per_intent[i][2] for i in intents) / n}

    overall = rates(per_intent)
    answers = rates([i for i in per_intent if topic_of[i] != SMALL_TALK_TOPIC])
    report = {
        "entries": len(library.entries),
        "build_ms": round(build_ms, 1),
        "latency_ms": {"p50": round(percentile(latencies, 0.5), 3), "p95": round(percentile(latencies, 0.95), 3),
                       "mean": round(statistics.mean(latencies), 3), "searches": len(latencies)},
        "overall": overall,
        "topic_answers": answers,
        "per_intent": {i: {"n": c[0], "top1": c[1] / c[0], "top3": c[2] / c[0]} for i, c in per_intent.items()},
        "not_in_library": dict(missing),
    }

    print(f"catalogue: {report['entries']} entries; catalogue + index built in {build_ms:.0f} ms")
    lat = report["latency_ms"]
    print(f"search latency over {lat['searches']} searches: p50 {lat['p50']:.2f} ms, p95 {lat['p95']:.2f} ms")
    print(f"hit rate, all {overall['n']} held-out questions with an entry: "
          f"top-1 {overall['top1']:.1%}, top-3 {overall['top3']:.1%}")
    print(f"hit rate, topic answers only ({answers['n']}, without small talk): "
          f"top-1 {answers['top1']:.1%}, top-3 {answers['top3']:.1%}")
    print("per intent (worst top-1 first):")
    for intent, r in sorted(report["per_intent"].items(), key=lambda kv: (kv[1]["top1"], kv[1]["top3"])):
        print(f"  {intent:28} n={r['n']:3}  top-1 {r['top1']:6.1%}  top-3 {r['top3']:6.1%}")
    if missing:
        print("not in the library (no answer rule): " + ", ".join(f"{i} ({n})" for i, n in sorted(missing.items())))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
