"""Fuzzing the running assistant (hypothesis): the webhooks and the web app's JSON endpoints.

Generated bodies (any JSON, shapes close to the messengers', raw bytes), signed
and unsigned, go to the Telegram, Zalo and REST webhooks of the Rasa server and
to the web app's /api/chat and /api/chat/updates. Nothing may answer 500 or
take a process down, and no personal data sent along may be stored unmasked.
The counts of each run are written to var/fuzz-counts.json (and printed with -s).
"""
import json
import time
from collections import Counter, defaultdict
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from bot.db.engine import session_factory
from bot.db.models import QuestionLogEntry
from tests.fakes.zalo_api import ZaloEvents
from tests.questionlog.test_masking import PERSONAL
from tests.serve_helpers import TELEGRAM_SECRET, ZALO_APP_ID, ZALO_OA_SECRET, http, port_open, post

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = 60
COUNTS = defaultdict(Counter)
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)

scalars = st.none() | st.booleans() | st.integers(-2**63, 2**63) | st.floats(allow_nan=False) | st.text(max_size=40)
any_json = st.recursive(
    scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=5),
    max_leaves=12,
)
telegram_like = st.fixed_dictionaries({
    "update_id": st.integers(0, 2**40) | any_json,
    "message": st.fixed_dictionaries({
        "message_id": st.integers(0, 2**31) | any_json,
        "date": st.integers(0, 2**32) | any_json,
        "chat": st.fixed_dictionaries({"id": st.integers(-2**52, 2**52) | any_json, "type": st.sampled_from(
            ["private", "group", "supergroup", "channel", "x"]) | any_json}),
        "from": st.fixed_dictionaries({"id": st.integers(1, 2**40), "is_bot": st.booleans(), "first_name": st.text(max_size=10)}),
        "text": st.text(max_size=300) | any_json,
    }) | any_json,
}) | st.dictionaries(st.sampled_from(["update_id", "callback_query", "inline_query", "message", "edited_message"]),
                     any_json, max_size=3)
zalo_like = st.fixed_dictionaries({
    "event_name": st.sampled_from(["user_send_text", "follow", "user_send_image", "oa_send_text", "x"]) | any_json,
    "sender": st.fixed_dictionaries({"id": st.text(max_size=20)}) | any_json,
    "follower": any_json,
    "message": st.fixed_dictionaries({"msg_id": st.text(max_size=20) | any_json, "text": st.text(max_size=300) | any_json}) | any_json,
})
personal = st.sampled_from(PERSONAL)
# a sender the endpoints take, half of the time
senders = st.from_regex(r"[A-Za-z0-9_-]{8,64}", fullmatch=True) | st.text(max_size=70) | any_json
chat_body = st.fixed_dictionaries({"sender": senders, "message": st.text(max_size=300) | any_json})
zalo_events = ZaloEvents(ZALO_APP_ID, ZALO_OA_SECRET)
SENT_SECRETS = []


@pytest.fixture(scope="module", autouse=True)
def report():
    yield
    path = ROOT / "var" / "fuzz-counts.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    summary = {endpoint: dict(statuses) for endpoint, statuses in COUNTS.items()}
    path.write_text(json.dumps(summary, indent=2, sort_keys=True), encoding="utf-8")
    print("\nfuzz counts (endpoint: {status: requests}):", json.dumps(summary, sort_keys=True))


def record(endpoint, status, allowed):
    COUNTS[endpoint][status] += 1
    assert status in allowed, f"{endpoint} answered {status}"


def rasa(assistant, path):
    return f"http://127.0.0.1:{assistant['RASA_PORT']}{path}"


@FUZZ
@given(body=any_json | telegram_like, signed=st.booleans())
def test_telegram_webhook(assistant, body, signed):
    headers = {"Content-Type": "application/json"}
    if signed:
        headers["X-Telegram-Bot-Api-Secret-Token"] = TELEGRAM_SECRET
    status, _ = post(rasa(assistant, "/webhooks/telegram/webhook"), json.dumps(body).encode(), headers)
    record("telegram", status, {200, 400} if signed else {403})


@FUZZ
@given(body=zalo_like | st.dictionaries(st.text(max_size=12), any_json, max_size=5), timestamp=st.booleans())
def test_zalo_webhook(assistant, body, timestamp):
    body = {**body, "app_id": ZALO_APP_ID}
    body["timestamp"] = str(int(time.time() * 1000)) if timestamp else str(body.get("timestamp", ""))
    raw, headers = zalo_events.sign(body)
    status, _ = post(rasa(assistant, "/webhooks/zalo/webhook"), raw, headers)
    record("zalo", status, {200, 400, 403})


@FUZZ
@given(raw=st.binary(max_size=300), header=st.sampled_from(["", "mac=", "mac=00", "MAC=x"]))
def test_zalo_webhook_raw_bytes(assistant, raw, header):
    status, _ = post(rasa(assistant, "/webhooks/zalo/webhook"), raw, {"X-ZEvent-Signature": header})
    record("zalo raw", status, {400, 403})


@FUZZ
@given(body=any_json | chat_body)
def test_rest_webhook(assistant, body):
    status, _ = post(rasa(assistant, "/webhooks/rest/webhook"), json.dumps(body).encode(), {"Content-Type": "application/json"})
    record("rest", status, {200, 400, 413})


@FUZZ
@given(
    body=any_json | chat_body,
    case=personal, n=st.integers(0, 10**6),
)
def test_web_chat_api(assistant, body, case, n):
    web = f"http://127.0.0.1:{assistant['WEB_PORT']}"
    status, _ = post(f"{web}/api/chat", json.dumps(body).encode(), {"Content-Type": "application/json"})
    record("web /api/chat", status, {200, 400, 413, 429, 502})
    text, secret, _ = case
    status, _ = http(f"{web}/api/chat", {"sender": f"web-fuzz-{n:08d}", "message": text})
    record("web /api/chat personal data", status, {200, 429})
    if status == 200:
        SENT_SECRETS.append(secret)


@FUZZ
@given(sender=st.from_regex(r"[A-Za-z0-9_-]{8,64}", fullmatch=True) | st.text(max_size=80))
def test_web_chat_updates(assistant, sender):
    from urllib.parse import quote

    status, _ = http(f"http://127.0.0.1:{assistant['WEB_PORT']}/api/chat/updates?sender={quote(sender)}")
    record("web /api/chat/updates", status, {200, 400})


def test_after_the_fuzzing_every_process_is_up_and_nothing_personal_was_stored(assistant):
    for port in ("RASA_PORT", "ACTIONS_PORT", "WEB_PORT"):
        assert port_open(assistant[port]), f"{port} is down"
    assert assistant["process"].poll() is None
    assert SENT_SECRETS, "the fuzzing sent personal data"
    deadline = time.monotonic() + 20
    with session_factory(assistant["DATABASE_URL"])() as session:
        while time.monotonic() < deadline:  # the question log is written in the background
            stored = session.execute(select(QuestionLogEntry.text_masked)).scalars().all()
            if len(stored) >= len(SENT_SECRETS):
                break
            time.sleep(0.5)
    joined = "\n".join(stored)
    leaked = [s for s in set(SENT_SECRETS) if s in joined]
    assert not leaked, f"stored unmasked: {leaked}"
    COUNTS["question log"]["rows checked"] = len(stored)
