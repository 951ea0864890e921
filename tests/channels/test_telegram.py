"""Telegram channel, end to end: the running assistant's webhook, PTB, and a fake Bot API on 127.0.0.1.

The assistant (tests/conftest.py) is started with TELEGRAM_API_BASE_URL
pointing at `fake_telegram`; every answer we check is a request the fake
received. The in-process tests at the end drive TelegramOutput against a fake
of their own (message splitting, 429 handling, long button payloads).
"""
import itertools
import json

import pytest

from bot.channels.common import ButtonPayloads, channel_prompts
from bot.channels.telegram import BotHandle, TelegramConfig, TelegramInput, TelegramOutput, build_bot
from bot.db.engine import session_factory
from tests.fakes.telegram_api import FakeTelegram, callback_update, private_text_update
from tests.serve_helpers import TELEGRAM_SECRET, post

chats = itertools.count(810_000_001)
update_ids = itertools.count(1_000)


@pytest.fixture
def chat():
    return next(chats)


def webhook(assistant, body, secret=TELEGRAM_SECRET):
    raw = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode()
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    return post(f"http://127.0.0.1:{assistant['RASA_PORT']}/webhooks/telegram/webhook", raw, headers)


def say(assistant, fake, chat_id, text):
    """Send a message as the resident; the bot's answers once they stop coming."""
    status, body = webhook(assistant, private_text_update(next(update_ids), chat_id, text))
    assert status == 200, body
    return fake.settle(fake.sent_to(chat_id))


def keyboard(call):
    markup = call.params.get("reply_markup") or {}
    return [row[0] for row in markup.get("inline_keyboard", [])]


def test_webhook_is_registered_with_the_secret_at_start(assistant, fake_telegram):
    calls = fake_telegram.wait_for(lambda c: c.method == "setWebhook", timeout=10)
    assert calls, "setWebhook was not called although TELEGRAM_WEBHOOK_URL is set"
    params = calls[0].params
    assert params["url"] == "https://tro-ly-so.example/webhooks/telegram/webhook"
    assert params["secret_token"] == TELEGRAM_SECRET
    assert "callback_query" in params["allowed_updates"]


def test_question_without_diacritics_is_answered_with_inline_buttons(assistant, fake_telegram, chat):
    replies = say(assistant, fake_telegram, chat, "mo tai khoan ngan hang o dau")
    assert len(replies) >= 2
    assert "tài khoản" in replies[0].params["text"]
    buttons = keyboard(replies[-1])
    assert {"text": "📋 Menu", "callback_data": "/ask_help_menu"} in buttons
    assert all(not keyboard(reply) for reply in replies[:-1]), "buttons belong under the last message only"


def test_button_press_is_acknowledged_and_handled_as_its_payload(assistant, fake_telegram, chat):
    status, _ = webhook(assistant, callback_update(next(update_ids), chat, "/ask_bank_biometric", "cbq-bio"))
    assert status == 200
    acks = fake_telegram.wait_for(lambda c: c.method == "answerCallbackQuery" and c.params.get("callback_query_id") == "cbq-bio")
    assert acks, "the button press was not acknowledged"
    replies = fake_telegram.settle(fake_telegram.sent_to(chat))
    assert any("khuôn mặt" in r.params["text"] for r in replies)


def test_every_button_fits_telegram_and_presses_back_to_its_payload(assistant, fake_telegram, chat):
    replies = say(assistant, fake_telegram, chat, "toi muon gap nguoi ho tro")
    buttons = [b for r in replies for b in keyboard(r)]
    assert buttons, "the hand-off question offers communes as buttons"
    assert all(len(b["callback_data"].encode()) <= 64 for b in buttons)
    commune = buttons[0]
    status, _ = webhook(assistant, callback_update(next(update_ids), chat, commune["callback_data"], "cbq-commune"))
    assert status == 200
    answer = fake_telegram.settle(fake_telegram.sent_to(chat))[len(replies):]
    named = commune["text"].lower()  # mid-sentence the prefix is lower case: "UBND xã Đồng Tâm"
    assert any(named in r.params["text"].lower() for r in answer), [r.params["text"] for r in answer]


@pytest.mark.parametrize("secret", [None, "", "wrong-secret"])
def test_missing_or_wrong_secret_is_refused_and_not_processed(assistant, fake_telegram, chat, secret):
    status, _ = webhook(assistant, private_text_update(next(update_ids), chat, "xin chao"), secret=secret)
    assert status == 403
    assert not fake_telegram.settle(fake_telegram.sent_to(chat), quiet=2)


@pytest.mark.parametrize(
    "body",
    [b"{not json", b"[]", b'"text"', b'{"message": {"text": "no update_id"}}', b'{"update_id": 7, "message": "oops"}'],
)
def test_malformed_deliveries_get_400_and_the_server_stays_up(assistant, fake_telegram, chat, body):
    status, _ = webhook(assistant, body)
    assert status == 400
    assert "tài khoản" in say(assistant, fake_telegram, chat, "mo tai khoan ngan hang")[0].params["text"]


def test_duplicate_update_is_processed_once(assistant, fake_telegram, chat):
    update = private_text_update(next(update_ids), chat, "cach tra tien dien qua ngan hang")
    first = webhook(assistant, update)
    second = webhook(assistant, update)
    assert first == (200, {"status": "accepted"})
    assert second == (200, {"status": "duplicate"})
    replies = fake_telegram.settle(fake_telegram.sent_to(chat))
    control = next(chats)
    assert len(replies) == len(say(assistant, fake_telegram, control, "cach tra tien dien qua ngan hang"))


def test_ten_thousand_characters_get_a_polite_answer(assistant, fake_telegram, chat):
    replies = say(assistant, fake_telegram, chat, "mo tai khoan " * 770)
    assert [r.params["text"] for r in replies] == [channel_prompts()["too_long"]]


@pytest.mark.parametrize("text", ["👍😊🙏", "🏦 mở tài khoản 🏦"])
def test_emoji_get_an_answer(assistant, fake_telegram, chat, text):
    replies = say(assistant, fake_telegram, chat, text)
    assert replies and all(r.params["text"].strip() for r in replies)


@pytest.mark.parametrize(
    "field, value",
    [
        ("photo", [{"file_id": "p1", "file_unique_id": "u1", "width": 90, "height": 90}]),
        ("sticker", {"file_id": "s1", "file_unique_id": "u2", "width": 512, "height": 512, "is_animated": False, "is_video": False, "type": "regular"}),
        ("voice", {"file_id": "v1", "file_unique_id": "u3", "duration": 3}),
        ("document", {"file_id": "d1", "file_unique_id": "u4"}),
    ],
)
def test_non_text_messages_are_asked_to_type(assistant, fake_telegram, chat, field, value):
    update = private_text_update(next(update_ids), chat, "")
    del update["message"]["text"]
    update["message"][field] = value
    assert webhook(assistant, update)[0] == 200
    replies = fake_telegram.settle(fake_telegram.sent_to(chat))
    assert [r.params["text"] for r in replies] == [channel_prompts()["non_text"]]


def test_edited_group_and_bot_messages_are_ignored(assistant, fake_telegram, chat):
    edited = private_text_update(next(update_ids), chat, "mo tai khoan")
    edited["edited_message"] = edited.pop("message")
    from_bot = private_text_update(next(update_ids), chat, "mo tai khoan")
    from_bot["message"]["from"]["is_bot"] = True
    group = private_text_update(next(update_ids), chat, "mo tai khoan")
    group["message"]["chat"]["type"] = "group"
    for update in (edited, from_bot, group):
        assert webhook(assistant, update) == (200, {"status": "ignored"})
    assert not fake_telegram.settle(fake_telegram.sent_to(chat), quiet=2)


def test_start_command_gets_the_welcome_and_menu(assistant, fake_telegram, chat):
    replies = say(assistant, fake_telegram, chat, "/start")
    assert "Trợ lý số" in replies[0].params["text"]
    assert any(b["callback_data"].startswith("/ask_help_menu") for b in keyboard(replies[-1]))


# -- in process: TelegramOutput against a fake of its own ----------------------


@pytest.fixture
def own_fake():
    server = FakeTelegram().start()
    yield server
    server.stop()


@pytest.fixture
def sessions(tmp_path):
    return session_factory(f"sqlite:///{tmp_path / 'telegram.sqlite3'}")


def make_output(fake, sessions):
    config = TelegramConfig(fake.token, "s", fake.base_url, "")
    return TelegramOutput(BotHandle(build_bot(config)), ButtonPayloads(sessions))


async def test_answers_over_4096_characters_are_split(own_fake, sessions):
    text = "\n".join(f"Dòng {i}: hướng dẫn chi tiết từng bước cho bác." for i in range(400))
    await make_output(own_fake, sessions).send_text_with_buttons(
        "telegram:5", text, [{"title": "📋 Menu", "payload": "/ask_help_menu"}]
    )
    sent = own_fake.find(own_fake.sent_to(5))
    assert len(sent) == len(text) // 4096 + 1
    assert all(len(c.params["text"]) <= 4096 for c in sent)
    assert "\n".join(c.params["text"] for c in sent) == text
    assert [bool(keyboard(c)) for c in sent] == [False] * (len(sent) - 1) + [True]


async def test_flood_limit_is_waited_out_then_sent(own_fake, sessions):
    own_fake.fail_next("sendMessage", 429, "Too Many Requests: retry after 1", retry_after=1)
    await make_output(own_fake, sessions).send_text_message("telegram:6", "Dạ, em chào bác ạ.")
    attempts = own_fake.find(own_fake.sent_to(6))
    assert len(attempts) == 2
    assert attempts[1].at - attempts[0].at >= 1.0


async def test_blocked_user_is_not_retried_and_does_not_raise(own_fake, sessions):
    own_fake.fail_next("sendMessage", 403, "Forbidden: bot was blocked by the user")
    await make_output(own_fake, sessions).send_text_message("telegram:7", "Dạ.")
    assert len(own_fake.find(own_fake.sent_to(7))) == 1


async def test_long_payload_travels_under_a_short_key(own_fake, sessions):
    payload = '/inform_commune{"commune": "Phường Nguyễn Trung Trực, tỉnh An Giang"}'
    assert len(payload.encode()) > 64
    output = make_output(own_fake, sessions)
    await output.send_text_with_buttons("telegram:8", "Xã nào ạ?", [{"title": "Nguyễn Trung Trực", "payload": payload}])
    data = keyboard(own_fake.find(own_fake.sent_to(8))[0])[0]["callback_data"]
    assert data.startswith("btn:") and len(data.encode()) <= 64
    channel = TelegramInput(TelegramConfig(own_fake.token, "s", own_fake.base_url, ""), sessions)
    incoming = channel.parse(callback_update(1, 8, data))
    assert (incoming.text, incoming.typed, incoming.sender) == (payload, False, "8")


def test_channel_is_off_without_a_token(monkeypatch):
    from rasa.shared.exceptions import RasaException

    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    with pytest.raises(RasaException):
        TelegramInput.from_credentials(None)


DEEP = b"[" * 100_000 + b"]" * 100_000


@pytest.mark.parametrize("secret, expected", [("wrong-secret", 403), (None, 403), (TELEGRAM_SECRET, 400)])
def test_the_secret_is_checked_before_the_body_is_parsed(assistant, secret, expected):
    """A stranger's body is never parsed: a JSON bomb gets 403 without the secret, 400 with it, never 500."""
    assert webhook(assistant, DEEP, secret=secret)[0] == expected


@pytest.mark.parametrize("secret", [TELEGRAM_SECRET, "wrong-secret"])
def test_bodies_over_a_megabyte_get_413(assistant, secret):
    body = json.dumps({"update_id": 1, "padding": "x" * (1024 * 1024 + 10)}).encode()
    assert webhook(assistant, body, secret=secret)[0] == 413
