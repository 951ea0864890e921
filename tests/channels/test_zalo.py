"""Zalo OA channel, end to end: signed webhook deliveries to the running assistant,
answers received by a fake Zalo OpenAPI/OAuth server on 127.0.0.1."""
import itertools
import time

import pytest
from sqlalchemy import select

from bot.channels.common import channel_prompts
from bot.db.engine import session_factory
from bot.db.models import ChannelToken
from tests.fakes.zalo_api import ZaloEvents
from tests.serve_helpers import ZALO_APP_ID, ZALO_OA_SECRET, post

users = itertools.count(246_845_883_529_000_001)
events = ZaloEvents(ZALO_APP_ID, ZALO_OA_SECRET)


@pytest.fixture
def user():
    return str(next(users))


def deliver(assistant, event, raw=None, headers=None):
    """POST an event signed as Zalo signs it, or the given bytes and headers."""
    if raw is None or headers is None:
        signed_raw, signed_headers = events.sign(event)
        raw, headers = raw or signed_raw, headers or signed_headers
    return post(f"http://127.0.0.1:{assistant['RASA_PORT']}/webhooks/zalo/webhook", raw, headers)


def say(assistant, fake, user_id, text):
    status, body = deliver(assistant, events.text(user_id, text))
    assert status == 200, body
    return fake.settle(fake.sent_to(user_id))


def text_of(call):
    return call.params["message"]["text"]


def buttons_of(call):
    attachment = call.params["message"].get("attachment") or {}
    return attachment.get("payload", {}).get("buttons", [])


def test_question_without_diacritics_is_answered_with_template_buttons(assistant, fake_zalo, user):
    replies = say(assistant, fake_zalo, user, "lam sao de nhan tro cap qua tai khoan")
    assert len(replies) >= 2
    assert "trợ cấp" in text_of(replies[0])
    assert all(r.headers.get("access_token") == fake_zalo.valid_access_token for r in replies)
    buttons = buttons_of(replies[-1])
    assert buttons and all(b["type"] == "oa.query.show" for b in buttons)
    assert all(len(b["title"]) <= 100 and len(b["payload"]) <= 1000 for b in buttons)
    assert {"title": "📋 Menu", "type": "oa.query.show", "payload": "📋 Menu"} in buttons


def test_follow_gets_the_welcome_and_menu_and_a_tap_opens_its_section(assistant, fake_zalo, user):
    assert deliver(assistant, events.event("follow", user))[0] == 200
    replies = fake_zalo.settle(fake_zalo.sent_to(user))
    assert "Trợ lý số" in text_of(replies[0])
    menu = buttons_of(replies[-1])
    bank = next(b for b in menu if "Ngân hàng" in b["title"])
    # Zalo posts an oa.query.show button back as the resident's own text message.
    answer = say(assistant, fake_zalo, user, bank["payload"])[len(replies):]
    titles = [b["title"] for r in answer for b in buttons_of(r)]
    assert "Mở tài khoản ngân hàng" in titles, titles


@pytest.mark.parametrize(
    "event_name, message",
    [
        ("user_send_image", {"attachments": [{"type": "image", "payload": {"url": "https://example.invalid/a.jpg"}}]}),
        ("user_send_sticker", {"attachments": [{"type": "sticker", "payload": {"id": "st1"}}]}),
        ("user_send_audio", {"attachments": [{"type": "audio", "payload": {"url": "https://example.invalid/a.aac"}}]}),
        ("user_send_file", {"attachments": [{"type": "file", "payload": {"name": "a.pdf"}}]}),
        ("user_send_location", {"attachments": [{"type": "location", "payload": {"coordinates": {"latitude": "10.7", "longitude": "106.6"}}}]}),
    ],
)
def test_non_text_events_are_asked_to_type(assistant, fake_zalo, user, event_name, message):
    event = events.event(event_name, user, {**message, "msg_id": events.next_msg_id()})
    assert deliver(assistant, event)[0] == 200
    replies = fake_zalo.settle(fake_zalo.sent_to(user))
    assert [text_of(r) for r in replies] == [channel_prompts()["non_text"]]


def test_oa_echo_events_are_ignored(assistant, fake_zalo, user):
    echo = events.event("oa_send_text", user, {"text": "Dạ, em chào anh/chị", "msg_id": events.next_msg_id()})
    echo["sender"], echo["recipient"] = {"id": events.oa_id}, {"id": user}
    assert deliver(assistant, echo) == (200, {"status": "ignored"})
    assert not fake_zalo.settle(fake_zalo.sent_to(user), quiet=2)


def test_signature_failures_are_refused_and_not_processed(assistant, fake_zalo, user):
    event = events.text(user, "xin chao")
    raw, headers = events.sign(event)
    no_header = {"Content-Type": "application/json"}
    wrong = {**headers, "X-ZEvent-Signature": "mac=" + "0" * 64}
    tampered = raw.replace(b"xin chao", b"xin chao!")
    stale = events.event("user_send_text", user, {"text": "xin chao", "msg_id": events.next_msg_id()},
                         timestamp=int(time.time() * 1000) - 6 * 60 * 1000)
    other_app = {**events.text(user, "xin chao"), "app_id": "111"}
    assert deliver(assistant, event, raw, no_header)[0] == 403
    assert deliver(assistant, event, raw, wrong)[0] == 403
    assert deliver(assistant, event, tampered, headers)[0] == 403
    assert deliver(assistant, stale)[0] == 403
    assert deliver(assistant, other_app)[0] == 403
    assert not fake_zalo.settle(fake_zalo.sent_to(user), quiet=2)


@pytest.mark.parametrize(
    "body",
    [
        {"app_id": ZALO_APP_ID, "timestamp": "TS", "sender": {"id": "1"}},  # no event_name
        {"app_id": ZALO_APP_ID, "timestamp": "TS", "event_name": "user_send_text", "sender": {"id": "1"},
         "message": {"text": "no msg_id"}},
        {"app_id": ZALO_APP_ID, "timestamp": "TS", "event_name": "user_send_text", "message": {"text": "x", "msg_id": "m"}},
    ],
)
def test_malformed_deliveries_get_400_and_the_server_stays_up(assistant, fake_zalo, user, body):
    body["timestamp"] = str(int(time.time() * 1000))
    status, _ = deliver(assistant, body)
    assert status == 400
    assert "trợ cấp" in text_of(say(assistant, fake_zalo, user, "nhan tro cap qua ngan hang")[0])


def test_duplicate_msg_id_is_answered_once(assistant, fake_zalo, user):
    event = events.text(user, "tra tien nuoc qua app ngan hang")
    assert deliver(assistant, event) == (200, {"status": "accepted"})
    assert deliver(assistant, event) == (200, {"status": "duplicate"})
    replies = fake_zalo.settle(fake_zalo.sent_to(user))
    control = str(next(users))
    assert len(replies) == len(say(assistant, fake_zalo, control, "tra tien nuoc qua app ngan hang"))


def test_ten_thousand_characters_get_a_polite_answer(assistant, fake_zalo, user):
    replies = say(assistant, fake_zalo, user, "tra tien dien " * 715)
    assert [text_of(r) for r in replies] == [channel_prompts()["too_long"]]


def test_emoji_get_an_answer(assistant, fake_zalo, user):
    replies = say(assistant, fake_zalo, user, "🙏🙏🙏")
    assert replies and all(text_of(r).strip() for r in replies)


def test_expired_token_is_refreshed_stored_and_the_send_retried(assistant, fake_zalo, user):
    old_refresh = fake_zalo.valid_refresh_token
    fake_zalo.expire_access_token()
    replies = say(assistant, fake_zalo, user, "xin chao")
    refreshes = fake_zalo.find(lambda c: c.method == "refresh")
    assert len(refreshes) == 1
    assert refreshes[0].headers.get("secret_key") == fake_zalo.app_secret
    assert refreshes[0].params == {"app_id": ZALO_APP_ID, "grant_type": "refresh_token", "refresh_token": old_refresh}
    delivered = [r for r in replies if r.headers.get("access_token") == fake_zalo.valid_access_token]
    assert len(delivered) >= 2 and len(replies) == len(delivered) + 1  # one refused, then all with the new token
    with session_factory(assistant["DATABASE_URL"])() as session:
        row = session.execute(select(ChannelToken)).scalar_one()
    assert (row.access_token, row.refresh_token) == (fake_zalo.valid_access_token, fake_zalo.valid_refresh_token)


@pytest.mark.parametrize("raw", [b"{not json", b"[1, 2]", b"[" * 100_000 + b"]" * 100_000])
def test_a_signature_header_on_a_broken_body_gets_403(assistant, raw):
    headers = {"Content-Type": "application/json", "X-ZEvent-Signature": "mac=" + "0" * 64}
    assert deliver(assistant, {}, raw=raw, headers=headers)[0] == 403


@pytest.mark.parametrize("timestamp", ["²³", "１７００００００００００", "١٧٠٠٠٠٠٠٠٠٠٠٠", "12.5", "-1", " 1"])
def test_a_timestamp_that_is_not_ascii_digits_gets_403(assistant, fake_zalo, user, timestamp):
    event = events.event("user_send_text", user, {"text": "xin chao", "msg_id": events.next_msg_id()})
    event["timestamp"] = timestamp
    assert deliver(assistant, event)[0] == 403
    assert not fake_zalo.settle(fake_zalo.sent_to(user), quiet=1)
