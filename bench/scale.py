"""Scale benchmark: the same outside load against 1, 2 and 3 Rasa servers.

    .venv/bin/python bench/scale.py                        # embedded, 1, 2, 3 servers; 50 residents x 60 s
    .venv/bin/python bench/scale.py --configs embedded,2 --residents 50 --seconds 60 --json var/bench/scale.json

Each configuration starts `python -m bot serve` on free ports:
- "embedded": today's default, no REDIS_URL / RABBITMQ_URL (in-memory state,
  in-process log, the Rasa server's NLU in a process of its own: bot/nlu_server.py);
- "1", "2", "3": RASA_INSTANCES=N behind HAProxy, each parsing for itself
  (NLU_PROCESS=off, so "1" is one Rasa process), on the machine's Redis (a key
  prefix of its own), RabbitMQ (a vhost of its own) and PostgreSQL (a database
  of its own), all removed afterwards (tests/services.py, tests/databases.py).

The load is one asyncio process: R residents, each asking a held-out question
(tests/nlu_holdout.yml) or walking a journey (start it, press the first button
of each step), with a short think time (0.3-1.5 s) between messages. A message
goes through the REST channel on RASA_PORT, so its HTTP answer is the complete
answer. Printed per configuration: msg/s, p50/p95/p99 of the complete answer,
errors (non-200 or timeout), and msg/s relative to one server.
The machine is shared: rerun and compare within one run.
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, List

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.stats import percentile  # noqa: E402
from bot.journeys.render import start_payload  # noqa: E402
from tests.conftest import load_examples  # noqa: E402
from tests.serve_helpers import start_assistant, stop_assistant  # noqa: E402

JOURNEYS = ["open_account", "receive_benefit", "pay_bill", "vneid_portal"]
TIMEOUT = 60.0
WARM_UP_SECONDS = 10.0


async def resident(session, url, name, questions, stop_at, warm_until, latencies, errors, rng):
    buttons: List[str] = []
    while time.monotonic() < stop_at:
        if buttons and rng.random() < 0.8:
            text = buttons[0]
        elif rng.random() < 0.3:
            text = start_payload(rng.choice(JOURNEYS))
        else:
            text = rng.choice(questions)
        started = time.monotonic()
        try:
            async with session.post(url, json={"sender": name, "message": text},
                                    timeout=aiohttp.ClientTimeout(total=TIMEOUT)) as answer:
                body = await answer.json() if answer.status == 200 else None
                ok, kind = answer.status == 200, str(answer.status)
        except (aiohttp.ClientError, asyncio.TimeoutError) as error:
            ok, body, kind = False, None, error.__class__.__name__
        took = time.monotonic() - started
        if started >= warm_until and time.monotonic() <= stop_at + TIMEOUT:
            if ok:
                latencies.append(took)
            else:
                errors.append(kind)
        buttons = [b["payload"] for m in (body or []) for b in m.get("buttons", [])
                   if b.get("payload", "").startswith("/journey_choose") or b.get("payload") == "/journey_next"]
        await asyncio.sleep(rng.uniform(0.3, 1.5))


async def drive(port, residents, seconds, questions, seed):
    url = f"http://127.0.0.1:{port}/webhooks/rest/webhook"
    latencies: List[float] = []
    errors: List[str] = []
    now = time.monotonic()
    warm_until, stop_at = now + WARM_UP_SECONDS, now + WARM_UP_SECONDS + seconds
    connector = aiohttp.TCPConnector(limit=residents + 10)
    async with aiohttp.ClientSession(connector=connector) as session:
        await asyncio.gather(*[
            resident(session, url, f"bench-{seed}-{n}", questions, stop_at, warm_until, latencies, errors,
                     random.Random(seed * 1000 + n))
            for n in range(residents)
        ])
    return {
        "messages": len(latencies), "errors": len(errors), "msg_per_s": len(latencies) / seconds,
        "error_kinds": {kind: errors.count(kind) for kind in sorted(set(errors))},
        "p50": percentile(latencies, 0.5), "p95": percentile(latencies, 0.95), "p99": percentile(latencies, 0.99),
    }


@contextlib.contextmanager
def deployment(config: str, workdir: Path):
    if config == "embedded":
        running = start_assistant(workdir, {"REDIS_URL": "", "RABBITMQ_URL": "", "RASA_INSTANCES": "1"})
        try:
            yield running
        finally:
            stop_assistant(running)
        return
    from tests.databases import postgres_database
    from tests.services import rabbitmq_vhost, redis_prefix

    with postgres_database() as pg, redis_prefix() as (redis_url, prefix), rabbitmq_vhost() as amqp:
        running = start_assistant(workdir, {
            "RASA_INSTANCES": config, "NLU_PROCESS": "off", "REDIS_URL": redis_url, "REDIS_KEY_PREFIX": prefix,
            "RABBITMQ_URL": amqp, "DATABASE_URL": pg,
        })
        try:
            yield running
        finally:
            stop_assistant(running)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--configs", default="embedded,1,2,3")
    parser.add_argument("--residents", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    questions = [text for text, _ in load_examples(ROOT / "tests" / "nlu_holdout.yml")]
    results: Dict[str, dict] = {}
    for n, config in enumerate(args.configs.split(",")):
        with tempfile.TemporaryDirectory() as tmp, deployment(config, Path(tmp)) as running:
            print(f"== {config}: {args.residents} residents x {args.seconds:.0f} s", flush=True)
            results[config] = asyncio.run(drive(running["RASA_PORT"], args.residents, args.seconds, questions, n))
            print(json.dumps(results[config]), flush=True)
    base = results.get("1", {}).get("msg_per_s") or results.get("embedded", {}).get("msg_per_s") or 0
    print(f"\n| servers | msg/s | p50 s | p95 s | p99 s | errors | × one server |")
    print("|---|---|---|---|---|---|---|")
    for config, r in results.items():
        ratio = r["msg_per_s"] / base if base else float("nan")
        print(f"| {config} | {r['msg_per_s']:.1f} | {r['p50']:.2f} | {r['p95']:.2f} | {r['p99']:.2f} "
              f"| {r['errors']} | {ratio:.2f} |")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
