"""Every channel's messages reach the question log, masked, through the real assistant."""
import json
import time

import pytest
from sqlalchemy import select

from bot.db.engine import session_factory
from bot.db.models import QuestionLogEntry
from tests.fakes.telegram_api import private_text_update
from tests.fakes.zalo_api import ZaloEvents
from tests.serve_helpers import TELEGRAM_SECRET, ZALO_APP_ID, ZALO_OA_SECRET, http, post

PHONE_QUESTION = "so dien thoai 0912345678 cua toi mo tai khoan ngan hang duoc ko"


def logged(assistant, predicate, timeout=30):
    """Rows of the assistant's question log that satisfy `predicate`, once there."""
    sessions = session_factory(assistant["DATABASE_URL"])
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with sessions() as session:
            rows = [r for r in session.execute(select(QuestionLogEntry)).scalars() if predicate(r)]
        if rows:
            return rows
        time.sleep(0.3)
    return []


def send_telegram(assistant, text):
    update = private_text_update(int(time.time() * 1000) % 10**9, 733_000_001, text)
    url = f"http://127.0.0.1:{assistant['RASA_PORT']}/webhooks/telegram/webhook"
    status, _ = post(url, json.dumps(update).encode(), {"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET})
    assert status == 200


def send_zalo(assistant, text):
    events = ZaloEvents(ZALO_APP_ID, ZALO_OA_SECRET)
    raw, headers = events.sign(events.text("733000002", text))
    status, _ = post(f"http://127.0.0.1:{assistant['RASA_PORT']}/webhooks/zalo/webhook", raw, headers)
    assert status == 200


def send_web(assistant, text):
    status, _ = http(f"http://127.0.0.1:{assistant['WEB_PORT']}/api/chat", {"sender": "web-733000003", "message": text})
    assert status == 200


@pytest.mark.parametrize("channel, send", [("telegram", send_telegram), ("zalo", send_zalo), ("web", send_web)])
def test_a_question_is_logged_masked_with_its_intent_and_answer(assistant, channel, send):
    marker = f"{channel} {PHONE_QUESTION}"
    send(assistant, marker)
    rows = logged(assistant, lambda r: r.channel == channel and r.text_masked.startswith(channel + " so dien thoai"))
    assert rows, f"nothing logged for {channel}"
    row = rows[-1]
    assert "0912345678" not in row.text_masked and "[SĐT]" in row.text_masked
    assert row.intent == "ask_open_bank_account" and row.confidence > 0.4
    assert row.answer.startswith("utter_ask_open_bank_account")
    assert len(row.sender_hash) == 64 and "733000" not in row.sender_hash
    assert not row.fallback and not row.handoff


def test_gibberish_is_logged_as_a_fallback_and_a_hand_off_request_as_a_hand_off(assistant):
    send_web(assistant, "qzxv wplk mmrt")
    send_web(assistant, "toi muon noi chuyen voi nguoi that")
    [gibberish] = logged(assistant, lambda r: r.text_masked == "qzxv wplk mmrt")
    assert gibberish.fallback and gibberish.intent == "nlu_fallback"
    [human] = logged(assistant, lambda r: r.text_masked == "toi muon noi chuyen voi nguoi that")
    assert human.handoff and human.intent == "request_human"
