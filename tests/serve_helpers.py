"""Start `python -m bot serve` on free ports and talk to it, for end-to-end tests."""
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
START_TIMEOUT = 420


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def http(url, payload=None, timeout=60):
    data = None if payload is None else json.dumps(payload).encode()
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def start_assistant(workdir: Path) -> dict:
    """Start the three processes; return their ports, process and log."""
    ports = {"RASA_PORT": free_port(), "ACTIONS_PORT": free_port(), "WEB_PORT": free_port()}
    log = workdir / "serve.log"
    env = {
        **os.environ,
        **{k: str(v) for k, v in ports.items()},
        "RASA_TELEMETRY_ENABLED": "false",
        "TEAM_DIRECTORY_CSV": str(ROOT / "data" / "team_directory.sample.csv"),
    }
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", "serve"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    deadline = time.monotonic() + START_TIMEOUT
    while b"READY" not in log.read_bytes():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail("serve did not start:\n" + log.read_text(errors="replace")[-4000:])
        time.sleep(1)
    return {"process": process, "log": log, **ports}


def stop_assistant(running: dict) -> None:
    process = running["process"]
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)


def rest(assistant: dict, sender: str, text: str) -> list:
    """Send one message through the Rasa REST channel; the bot's messages."""
    status, body = http(
        f"http://127.0.0.1:{assistant['RASA_PORT']}/webhooks/rest/webhook", {"sender": sender, "message": text}
    )
    assert status == 200, body
    return json.loads(body)


