"""What the benchmark scripts share: the percentile they report, the processes `serve` started."""
from __future__ import annotations

from pathlib import Path
from typing import Dict, Iterable


def percentile(values: Iterable[float], q: float) -> float:
    """The q-quantile (0..1) as the nearest sample (nan when there are none)."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def children(serve_pid: int) -> Dict[str, int]:
    """pids of the Rasa server, its NLU process, the action server and the web app started by serve."""
    found: Dict[str, int] = {}
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            status = (entry / "status").read_text()
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if f"PPid:\t{serve_pid}\n" not in status:
            continue
        if b"bot.nlu_server" in argv:
            found["nlu"] = int(entry.name)
        elif b"rasa_sdk" in argv or b"bot.action_server" in argv:
            found["actions"] = int(entry.name)
        elif {b"rasa", b"bot.rasa_server"} & set(argv) and b"run" in argv:
            found["rasa"] = int(entry.name)
        elif b"bot" in argv and b"web" in argv:
            found["web"] = int(entry.name)
    return found
