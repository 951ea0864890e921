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

from tests.ports import free_port

ROOT = Path(__file__).resolve().parent.parent
START_TIMEOUT = 420




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


TELEGRAM_SECRET = "telegram-secret-for-tests"
ZALO_APP_ID = "360846524940903967"
ZALO_OA_SECRET = "oa-secret-for-tests"


def channel_env(telegram, zalo) -> dict:  # noqa: ANN001
    """Both messenger channels on, pointed at the fake APIs on 127.0.0.1."""
    return {
        "TELEGRAM_BOT_TOKEN": telegram.token,
        "TELEGRAM_WEBHOOK_SECRET": TELEGRAM_SECRET,
        "TELEGRAM_API_BASE_URL": telegram.base_url,
        "TELEGRAM_WEBHOOK_URL": "https://tro-ly-so.example/webhooks/telegram/webhook",
        "ZALO_APP_ID": ZALO_APP_ID,
        "ZALO_OA_SECRET_KEY": ZALO_OA_SECRET,
        "ZALO_ACCESS_TOKEN": zalo.valid_access_token,
        "ZALO_REFRESH_TOKEN": zalo.valid_refresh_token,
        "ZALO_APP_SECRET": zalo.app_secret,
        "ZALO_API_BASE_URL": zalo.base,
        "ZALO_OAUTH_BASE_URL": zalo.base,
    }


def start_assistant(workdir: Path, extra_env: dict = None, root: Path = ROOT) -> dict:
    """Start the three processes of the project at ``root``; return their ports, process, log and database."""
    # RASA_INSTANCES=N puts Rasa servers on RASA_PORT+1 ... RASA_PORT+N (bot/scale/front.py)
    ports = {"RASA_PORT": free_port(block=8), "ACTIONS_PORT": free_port(), "WEB_PORT": free_port(), "NLU_PORT": free_port()}
    log = workdir / "serve.log"
    database = f"sqlite:///{workdir / 'assistant.sqlite3'}"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "ZALO_"))},
        **{k: str(v) for k, v in ports.items()},
        "RASA_TELEMETRY_ENABLED": "false",
        # a real (test) directory imported, so the hand-off posts tickets and gives contacts; a
        # fresh install's sample-only directory is tested by passing data/team_directory.sample.csv
        "TEAM_DIRECTORY_CSV": str(ROOT / "tests" / "data" / "team_directory.test.csv"),
        "DATABASE_URL": database,
        # the whole suite chats from 127.0.0.1: the web chat's rate limits (bot/web/limits.py)
        # are tested in tests/web/test_app.py
        "WEB_RATE_PER_IP": "100000", "WEB_RATE_PER_SENDER": "100000", "WEB_NEW_SENDERS_PER_IP_HOUR": "100000",
        "WEB_HANDOFF_TICKETS_PER_IP_HOUR": "100000",
        **(extra_env or {}),
    }
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", "serve"], cwd=root, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    deadline = time.monotonic() + START_TIMEOUT
    while b"READY" not in log.read_bytes():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail("serve did not start:\n" + log.read_text(errors="replace")[-4000:])
        time.sleep(1)
    return {"process": process, "log": log, "DATABASE_URL": database, **ports}


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




def post(url: str, raw: bytes, headers: dict, timeout: float = 30):
    """POST exact bytes; (status, parsed JSON or raw body)."""
    request = urllib.request.Request(url, data=raw, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status, body = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, body = error.code, error.read()
    try:
        return status, json.loads(body)
    except ValueError:
        return status, body
