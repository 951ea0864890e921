"""Full training time from scratch: `rasa train` (NLU and dialogue) with Rasa's
cache off, as on a fresh clone. Prints wall time and peak RSS.

    .venv/bin/python bench/train.py
"""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    env = {**os.environ, "RASA_TELEMETRY_ENABLED": "false", "RASA_MAX_CACHE_SIZE": "0", "TF_CPP_MIN_LOG_LEVEL": "2"}
    with tempfile.TemporaryDirectory(prefix="train-bench-") as out:
        command = [
            sys.executable, "-m", "rasa", "train", "--config", str(ROOT / "config.yml"),
            "--domain", str(ROOT / "domain"), "--data", str(ROOT / "nlu_data"),
            "--out", out, "--fixed-model-name", "bench", "--force",
        ]
        started = time.perf_counter()
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
    code = os.waitstatus_to_exitcode(status)
    print(f"rasa train from scratch: {seconds:.0f} s, peak RSS {usage.ru_maxrss / 1024:.0f} MiB, exit code {code}")
    return code


if __name__ == "__main__":
    sys.exit(main())
