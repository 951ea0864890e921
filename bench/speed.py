"""Speed benchmark: complete answers timed from outside, this code against an earlier commit.

    .venv/bin/python bench/speed.py                          # before = BEFORE_REV, 20 s per level
    .venv/bin/python bench/speed.py --before 52715e1 --seconds 30 --json var/bench/speed.json
    .venv/bin/python bench/speed.py --no-before              # this code only
    .venv/bin/python bench/speed.py --profile var/bench/prof  # also py-spy the Rasa and action servers

For each variant (the commit before the speed work, checked out as a git
worktree under var/bench/, sharing this .venv; then the working tree) it
starts `python -m bot serve` with Telegram on (the fake Bot API of the tests,
a real HTTP server on 127.0.0.1) and drives it from one asyncio process:

- REST webhook, closed loop, no think time, with 1, 10 and 50 concurrent
  residents: each sends a held-out question (tests/nlu_holdout.yml) or walks a
  journey (start, then "tiep" / a button), waits for the complete answer (the
  HTTP response carries every message) and sends the next at once. With
  --session-messages N a resident hands over to a new one after N messages
  (Rasa's cost per message grows with the conversation's length).
  Reported: msg/s, p50/p95/p99 of the complete answer, errors (non-200, no
  message, timeout).
- Telegram webhook at 20 residents (think time 3-5 s: Telegram lets a bot
  send about one message per second into one chat, in bursts of 3, and the
  assistant keeps to it (bot/channels/send_limits.py), so a resident who asks
  again before the last answer could be sent builds a queue): webhook -> first
  reply and -> last reply at the fake Bot API, p50/p95. A 503 (in-flight bound)
  is retried after 1 s, as Telegram retries.
- RSS (now and peak) of the Rasa server, the action server and the web app.

With --profile DIR, py-spy records the Rasa and action servers during the
50-resident level of each variant (DIR/<variant>-rasa.txt, top frames).
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.channels import TelegramChannel, questions, rss_peak_mib, run_channel  # noqa: E402
from bench.stats import children, percentile  # noqa: E402
from tests.fakes.telegram_api import FakeTelegram  # noqa: E402
from tests.fakes.zalo_api import FakeZalo  # noqa: E402
from tests.serve_helpers import channel_env, start_assistant, stop_assistant  # noqa: E402

# The last commit before the speed work (issue 11).
BEFORE_REV = "52715e1"
LEVELS = (1, 10, 50)
TELEGRAM_THINK = (3.0, 5.0)
PROCESSES = ("rasa", "nlu", "actions", "web")  # "nlu": bot/nlu_server.py, absent before it existed
ANSWER_TIMEOUT = 30.0
JOURNEY_SHARE = 0.25
JOURNEY_STARTS = (
    "huong dan tung buoc mo tai khoan nhan tro cap",
    "hướng dẫn từng bước trả tiền điện trên điện thoại",
    "chi tung buoc de nhan tien tro cap qua tk",
)
JOURNEY_MOVES = ("tiep", "tiếp", "co", "quay lai", "tiep")


@dataclass
class Level:
    residents: int
    latencies: List[float] = field(default_factory=list)
    errors: int = 0
    elapsed: float = 0.0

    def summary(self) -> dict:
        ms = [x * 1000 for x in self.latencies]
        count = len(self.latencies) + self.errors
        return {
            "residents": self.residents,
            "messages": count,
            "msg_per_s": round(len(self.latencies) / self.elapsed, 2) if self.elapsed else 0.0,
            "p50_ms": round(percentile(ms, 0.50), 1),
            "p95_ms": round(percentile(ms, 0.95), 1),
            "p99_ms": round(percentile(ms, 0.99), 1),
            "errors": self.errors,
        }


def resident_script(rng: random.Random, texts: List[str]):
    """Endless messages of one resident: questions, sometimes a journey walk."""
    while True:
        if rng.random() < JOURNEY_SHARE:
            yield rng.choice(JOURNEY_STARTS)
            for move in rng.sample(JOURNEY_MOVES, k=3):
                yield move
        else:
            yield rng.choice(texts)


async def resident(http: aiohttp.ClientSession, url: str, sender: str, texts: List[str], until: float,
                   level: Level, rng: random.Random, session_messages: int = 0) -> None:
    script = resident_script(rng, texts)
    first, sent = sender, 0
    while time.monotonic() < until:
        text = next(script)
        if session_messages and sent and sent % session_messages == 0:
            sender = f"{first}-s{sent}"  # the next resident (a new conversation); REST ids are [A-Za-z0-9_-]
        sent += 1
        started = time.monotonic()
        try:
            async with http.post(url, json={"sender": sender, "message": text}) as reply:
                body = await reply.json(content_type=None) if reply.status == 200 else None
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError):
            body = None
        if isinstance(body, list) and body:
            level.latencies.append(time.monotonic() - started)
        else:
            level.errors += 1


async def closed_loop(rasa_port: int, residents: int, seconds: float, seed: int, session_messages: int = 0) -> Level:
    url = f"http://127.0.0.1:{rasa_port}/webhooks/rest/webhook"
    texts = questions()
    level = Level(residents)
    rng = random.Random(seed)
    timeout = aiohttp.ClientTimeout(total=ANSWER_TIMEOUT)
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(timeout=timeout, connector=connector) as http:
        started = time.monotonic()
        until = started + seconds
        await asyncio.gather(*(
            resident(http, url, f"speed-{seed}-{residents}-{i}", texts, until, level, random.Random(rng.random()),
                     session_messages)
            for i in range(residents)
        ))
        level.elapsed = time.monotonic() - started
    return level


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_now_mib(pid: int) -> Optional[float]:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        return None
    return None


def before_tree(rev: str) -> Path:
    """A worktree of ``rev`` under var/bench/ that uses this .venv, trained."""
    sha = subprocess.check_output(["git", "rev-parse", "--short", rev], cwd=ROOT, text=True).strip()
    tree = ROOT / "var" / "bench" / f"before-{sha}"
    if not (tree / ".git").exists():
        tree.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(["git", "worktree", "prune"], cwd=ROOT, check=True)
        subprocess.run(["git", "worktree", "add", "--detach", str(tree), sha], cwd=ROOT, check=True)
    venv = tree / ".venv"
    if not venv.exists():
        venv.symlink_to(ROOT / ".venv")
    print(f"== training {sha} (skipped when its model fits)", flush=True)
    subprocess.run([sys.executable, "-m", "bot", "train"], cwd=tree, check=True, stdout=subprocess.DEVNULL)
    return tree


def profile(pid: int, seconds: float, target: Path) -> subprocess.Popen:
    """py-spy records ``pid`` for ``seconds`` (folded stacks, without pausing it)."""
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    return subprocess.Popen(
        [py_spy, "record", "--pid", str(pid), "--duration", str(int(seconds)), "--rate", "100",
         "--format", "raw", "--output", str(target.with_suffix(".folded")), "--nonblocking"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )


def top_frames(folded: Path, count: int = 15) -> List[str]:
    """Frames by share of samples they appear in (inclusive), from py-spy's raw output."""
    if not folded.exists():
        return []
    totals: Dict[str, int] = {}
    samples = 0
    for line in folded.read_text(errors="replace").splitlines():
        stack, _, n = line.rpartition(" ")
        if not n.isdigit():
            continue
        samples += int(n)
        for frame in set(stack.split(";")):
            totals[frame] = totals.get(frame, 0) + int(n)
    ranked = sorted(totals.items(), key=lambda kv: -kv[1])
    return [f"{100 * n / samples:5.1f}%  {frame}" for frame, n in ranked[:count]]


def measure(name: str, root: Path, args, telegram: FakeTelegram, zalo: FakeZalo) -> dict:
    workdir = Path(tempfile.mkdtemp(prefix=f"bench-speed-{name}-"))
    env = {**channel_env(telegram, zalo)}
    print(f"== {name}: starting {root}", flush=True)
    assistant = start_assistant(workdir, env, root=root)
    result: dict = {"variant": name, "root": str(root), "levels": []}
    try:
        pids = children(assistant["process"].pid)
        # warm-up: TensorFlow traces DIET for new input sizes on the first messages
        asyncio.run(closed_loop(assistant["RASA_PORT"], 4, args.warmup, seed=99))
        for seed, residents in enumerate(args.levels, start=1):
            spies = []
            if args.profile and residents == max(args.levels):
                args.profile.mkdir(parents=True, exist_ok=True)
                for process in ("rasa", "nlu", "actions"):
                    if process in pids:
                        spies.append((process, profile(pids[process], args.seconds, args.profile / f"{name}-{process}")))
            cpu_before = {process: cpu_seconds(pid) for process, pid in pids.items()}
            level = asyncio.run(closed_loop(assistant["RASA_PORT"], residents, args.seconds, seed, args.session_messages))
            summary = level.summary()
            # CPU time per answered message: what a message costs, whatever else the machine is doing
            answered = max(1, len(level.latencies))
            summary["cpu_ms_per_msg"] = {
                process: round(1000 * (cpu_seconds(pid) - cpu_before[process]) / answered, 1)
                for process, pid in sorted(pids.items())
            }
            result["levels"].append(summary)
            print(f"   {name} rest x{residents}: {json.dumps(summary)}", flush=True)
            for process, spy in spies:
                spy.wait(timeout=args.seconds + 60)
                frames = top_frames(args.profile / f"{name}-{process}.folded")
                (args.profile / f"{name}-{process}.txt").write_text("\n".join(frames) + "\n", encoding="utf-8")
                result.setdefault("profile", {})[process] = frames
        channel = TelegramChannel(assistant, telegram)
        telegram_result = asyncio.run(run_channel(channel, args.telegram_users, args.seconds, TELEGRAM_THINK, seed=7))
        result["telegram"] = {
            "residents": args.telegram_users,
            "messages": telegram_result["messages"],
            "first_reply_ms": telegram_result["first_reply_ms"],
            "last_reply_ms": telegram_result["last_reply_ms"],
            "lost": telegram_result["lost"],
        }
        print(f"   {name} telegram x{args.telegram_users}: {json.dumps(result['telegram'])}", flush=True)
        result["rss_mib"] = {
            process: {"now": rss_now_mib(pid), "peak": round(rss_peak_mib(pid) or 0, 1)}
            for process, pid in sorted(pids.items())
        }
        print(f"   {name} rss: {json.dumps(result['rss_mib'])}", flush=True)
    finally:
        stop_assistant(assistant)
    return result


def table(results: List[dict]) -> str:
    lines = [f"{'variant':<8} {'residents':>9} {'msg/s':>7} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'errors':>6}"
             f"   CPU ms/msg " + "/".join(PROCESSES)]
    for result in results:
        for level in result["levels"]:
            cpu = level.get("cpu_ms_per_msg", {})
            lines.append(f"{result['variant']:<8} {level['residents']:>9} {level['msg_per_s']:>7} {level['p50_ms']:>8} "
                         f"{level['p95_ms']:>8} {level['p99_ms']:>8} {level['errors']:>6}   "
                         + " / ".join(str(cpu.get(p, "-")) for p in PROCESSES))
    lines.append("")
    lines.append(f"{'variant':<8} {'telegram':>9} {'first p50':>9} {'first p95':>9} {'last p50':>9} {'last p95':>9} {'lost':>5}")
    for result in results:
        t = result["telegram"]
        lines.append(f"{result['variant']:<8} {t['residents']:>9} {t['first_reply_ms']['p50']:>9} {t['first_reply_ms']['p95']:>9} "
                     f"{t['last_reply_ms']['p50']:>9} {t['last_reply_ms']['p95']:>9} {t['lost']:>5}")
    lines.append("")
    lines.append(f"{'variant':<8} " + " ".join(f"{p + ' now/peak MiB':>24}" for p in PROCESSES))
    for result in results:
        rss = result["rss_mib"]
        lines.append(f"{result['variant']:<8} " + " ".join(
            f"{str(rss.get(p, {}).get('now')) + ' / ' + str(rss.get(p, {}).get('peak')):>24}" for p in PROCESSES))
    if len(results) == 2:
        before, after = results
        lines.append("")
        for b, a in zip(before["levels"], after["levels"]):
            ratio = a["msg_per_s"] / b["msg_per_s"] if b["msg_per_s"] else float("nan")
            lines.append(f"x{a['residents']}: msg/s after/before = {ratio:.2f}; "
                         f"p50 {b['p50_ms']} -> {a['p50_ms']} ms, p95 {b['p95_ms']} -> {a['p95_ms']} ms")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", default=BEFORE_REV, help=f"git revision to compare with (default {BEFORE_REV})")
    parser.add_argument("--no-before", action="store_true", help="measure the working tree only")
    parser.add_argument("--seconds", type=float, default=20.0, help="seconds per load level (default 20)")
    parser.add_argument("--levels", type=int, nargs="+", default=list(LEVELS))
    parser.add_argument("--warmup", type=float, default=20.0, help="seconds of warm-up load first (default 20)")
    parser.add_argument("--session-messages", type=int, default=0, metavar="N",
                        help="each simulated resident hands over to a new one (new conversation) after N messages; "
                             "0 (default): one conversation per resident for the whole level")
    parser.add_argument("--telegram-users", type=int, default=20)
    parser.add_argument("--profile", type=Path, help="py-spy the servers at the top level; frames written here")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()

    os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
    variants = [] if args.no_before else [("before", before_tree(args.before))]
    subprocess.run([sys.executable, "-m", "bot", "train"], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    variants.append(("after", ROOT))
    telegram, zalo = FakeTelegram().start(), FakeZalo().start()
    results = []
    try:
        for name, root in variants:
            results.append(measure(name, root, args, telegram, zalo))
    finally:
        telegram.stop()
        zalo.stop()
    print()
    print(table(results))
    for result in results:
        for process, frames in result.get("profile", {}).items():
            print(f"\n{result['variant']} {process}: top frames (inclusive share of samples)")
            print("\n".join(frames))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, ensure_ascii=False, indent=2), encoding="utf-8")
    return 0 if all(level["errors"] == 0 for r in results for level in r["levels"]) else 1


if __name__ == "__main__":
    sys.exit(main())
