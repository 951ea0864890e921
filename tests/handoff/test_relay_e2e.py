"""The hand-off relay end to end: the running assistant, the fake Telegram and Zalo APIs.

A resident on Telegram, on Zalo or in the web chat asks for a person, names
their commune and is connected to the commune team's Telegram group (the test
directory tests/data/team_directory.test.csv, imported by tests/serve_helpers.py:
Xã Hòa Bình -> -1001000000002, Phường Quang Trung -> -1001000000003).
"""
import itertools
import json
import time

import pytest
from sqlalchemy import select

from bot.db.engine import session_factory
from bot.db.models import HandoffMessage, HandoffTicket
from tests.fakes.telegram_api import callback_update, group_callback_update, group_reply_update, inline_query_update, private_text_update, team_member
from tests.fakes.zalo_api import ZaloEvents
from tests.serve_helpers import TELEGRAM_SECRET, ZALO_APP_ID, ZALO_OA_SECRET, http, post

HOA_BINH = -1001000000002
QUANG_TRUNG = -1001000000003

telegram_chats = itertools.count(830_000_001)
zalo_users = itertools.count(246_845_883_530_000_001)
zalo_events = ZaloEvents(ZALO_APP_ID, ZALO_OA_SECRET)


def telegram_webhook(assistant, update):
    raw = json.dumps(update, ensure_ascii=False).encode()
    headers = {"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET}
    status, body = post(f"http://127.0.0.1:{assistant['RASA_PORT']}/webhooks/telegram/webhook", raw, headers)
    assert status == 200, body
    return body


def after(fake, predicate, action):
    """The calls matching `predicate` that `action` caused, once they stop coming."""
    before = len(fake.find(predicate))
    action()
    return fake.settle(predicate)[before:]


def telegram_after(fake, chat_id, action):
    """The bot's messages to a Telegram resident caused by `action` (e.g. a team member's reply)."""
    return after(fake, fake.sent_to(chat_id), action)


def zalo_after(fake, user_id, action):
    return after(fake, fake.sent_to(user_id), action)


def telegram_says(assistant, fake, chat_id, text):
    """The bot's messages to the resident caused by this one (none if it stays quiet)."""
    return telegram_after(
        fake, chat_id, lambda: telegram_webhook(assistant, private_text_update(fake.next_update_id(), chat_id, text))
    )


def zalo_says(assistant, fake, user_id, text):
    def deliver():
        raw, headers = zalo_events.sign(zalo_events.text(user_id, text))
        status, body = post(f"http://127.0.0.1:{assistant['RASA_PORT']}/webhooks/zalo/webhook", raw, headers)
        assert status == 200, body

    return zalo_after(fake, user_id, deliver)


def texts(calls, key=lambda c: c.params.get("text", "")):
    return [key(call) for call in calls]


def zalo_text(call):
    return call.params["message"]["text"]


def group_posts(fake, group, since=0):
    return [c for c in fake.find(fake.sent_to(group)) if c.result][since:]


def wait_group_post(fake, group, contains, timeout=30):
    calls = fake.wait_for(lambda c: fake.sent_to(group)(c) and contains in c.params.get("text", ""), timeout=timeout)
    assert calls, f"no post with {contains!r} in group {group}"
    return calls[-1]


def recorded(assistant, post_call, timeout=10):
    """The post, once the assistant has stored it with its ticket (a person cannot reply faster)."""
    deadline = time.monotonic() + timeout
    sessions = session_factory(assistant["DATABASE_URL"])
    while time.monotonic() < deadline:
        with sessions() as session:
            if session.execute(select(HandoffMessage.id).where(
                HandoffMessage.team_chat_id == post_call.params["chat_id"],
                HandoffMessage.team_message_id == post_call.result["message_id"],
            )).first():
                return post_call.result
        time.sleep(0.05)
    raise AssertionError("the group post was never stored with its ticket")


def ticket_of(assistant, conversation):
    with session_factory(assistant["DATABASE_URL"])() as session:
        return session.execute(
            select(HandoffTicket).where(HandoffTicket.conversation_id == conversation).order_by(HandoffTicket.id.desc())
        ).scalars().first()


def open_by_telegram(assistant, fake, chat, commune="xa hoa binh", first="toi khong dang nhap duoc app ngan hang"):
    telegram_says(assistant, fake, chat, first)
    asked = telegram_says(assistant, fake, chat, "cho toi gap nguoi ho tro")
    assert "xã/phường" in asked[-1].params["text"]
    return telegram_says(assistant, fake, chat, commune)


def test_telegram_resident_and_the_team_group(assistant, fake_telegram):
    fake, chat = fake_telegram, next(telegram_chats)
    before = len(group_posts(fake, HOA_BINH))
    opened = open_by_telegram(assistant, fake, chat, first="stk cua toi 0912345678 ma khong nhan duoc tien")
    assert "đã chuyển yêu cầu" in " ".join(texts(opened))
    ticket = ticket_of(assistant, f"telegram:{chat}")
    assert ticket.status == "open" and ticket.commune == "Xã Hòa Bình" and ticket.channel == "telegram"

    post_call = group_posts(fake, HOA_BINH, before)[0]
    assert f"#{ticket.id}" in post_call.params["text"]
    assert "0912345678" not in post_call.params["text"], "recent messages are masked"
    assert [b["text"] for row in post_call.params["reply_markup"]["inline_keyboard"] for b in row] == ["✋ Nhận", "✅ Đóng"]

    # the assistant stays quiet; the message goes to the group
    assert telegram_says(assistant, fake, chat, "toi da cai app roi ma van loi") == []
    forwarded = wait_group_post(fake, HOA_BINH, "toi da cai app roi ma van loi")
    assert forwarded.params["reply_parameters"]["message_id"] == post_call.result["message_id"]

    # a team member replies to the forwarded message: the resident gets it, the ticket is taken
    delivered = telegram_after(fake, chat, lambda: telegram_webhook(
        assistant, group_reply_update(fake.next_update_id(), HOA_BINH, recorded(assistant, forwarded), "Bác gỡ app ra cài lại giúp cháu ạ")))
    joined = " ".join(texts(delivered))
    assert "Lan Nguyễn" in joined and "đã nhận" in joined and "Bác gỡ app ra cài lại giúp cháu ạ" in joined
    taken = ticket_of(assistant, f"telegram:{chat}")
    assert taken.status == "taken" and taken.first_response_at is not None

    # Đóng in the group: the resident is asked for a rating, and rates with a button
    closing = telegram_after(fake, chat, lambda: telegram_webhook(
        assistant, group_callback_update(fake.next_update_id(), HOA_BINH, post_call.result, f"tk:close:{ticket.id}")))
    assert "chấm điểm" in closing[-1].params["text"]
    rating_buttons = [b["callback_data"] for row in closing[-1].params["reply_markup"]["inline_keyboard"] for b in row]
    assert fake.wait_for(lambda c: c.method == "answerCallbackQuery" and "Đã đóng" in (c.params.get("text") or ""))
    thanks = telegram_after(fake, chat, lambda: telegram_webhook(
        assistant, callback_update(fake.next_update_id(), chat, rating_buttons[0], query_id=f"rate-{chat}")))
    assert "cảm ơn" in thanks[-1].params["text"]
    rated = ticket_of(assistant, f"telegram:{chat}")
    assert rated.status == "closed" and rated.rating == 5

    # the assistant is back
    answer = telegram_says(assistant, fake, chat, "cach tra tien dien")
    assert "mã khách hàng" in " ".join(texts(answer))


def test_zalo_resident_and_the_team_group(assistant, fake_telegram, fake_zalo):
    user = str(next(zalo_users))
    zalo_says(assistant, fake_zalo, user, "cho toi noi chuyen voi can bo cua to")
    opened = zalo_says(assistant, fake_zalo, user, "phuong quang trung")
    assert "đã chuyển yêu cầu" in " ".join(texts(opened, zalo_text))
    ticket = ticket_of(assistant, f"zalo:{user}")
    post_call = wait_group_post(fake_telegram, QUANG_TRUNG, f"#{ticket.id}")
    assert "Zalo" in post_call.params["text"]

    # Nhận: the resident is told someone took it
    told = zalo_after(fake_zalo, user, lambda: telegram_webhook(assistant, group_callback_update(
        fake_telegram.next_update_id(), QUANG_TRUNG, post_call.result, f"tk:take:{ticket.id}", team_member(8800002, "Minh", "Trần"))))
    assert "Minh Trần" in zalo_text(told[-1]) and "đã nhận" in zalo_text(told[-1])

    # resident -> group, group -> resident
    assert zalo_says(assistant, fake_zalo, user, "bac co the goi cho toi khong") == []
    forwarded = wait_group_post(fake_telegram, QUANG_TRUNG, "bac co the goi cho toi khong")
    replied = zalo_after(fake_zalo, user, lambda: telegram_webhook(assistant, group_reply_update(
        fake_telegram.next_update_id(), QUANG_TRUNG, recorded(assistant, forwarded), "Dạ, cháu gọi bác ngay ạ", team_member(8800002, "Minh", "Trần"))))
    assert "Dạ, cháu gọi bác ngay ạ" in zalo_text(replied[-1])

    # the resident ends it by typing, then rates by typing
    ended = zalo_says(assistant, fake_zalo, user, "ket thuc")
    assert "chấm điểm" in zalo_text(ended[-1])
    wait_group_post(fake_telegram, QUANG_TRUNG, "Người dân đã kết thúc")
    assert "cảm ơn" in zalo_text(zalo_says(assistant, fake_zalo, user, "4")[-1])
    assert ticket_of(assistant, f"zalo:{user}").rating == 4


def test_scam_guard_answers_while_a_ticket_is_open(assistant, fake_telegram):
    fake, chat = fake_telegram, next(telegram_chats)
    open_by_telegram(assistant, fake, chat)
    answer = telegram_says(assistant, fake, chat, "co nguoi goi bao toi doc ma OTP de nhan tro cap")
    assert answer and "OTP" in " ".join(texts(answer)), "the safety answer does not wait for a person"
    flagged = wait_group_post(fake, HOA_BINH, "⚠️")
    assert "doc ma" in flagged.params["text"]
    assert ticket_of(assistant, f"telegram:{chat}").status == "open"


def test_an_untaken_ticket_is_reminded_in_the_group(assistant, fake_telegram):
    """HANDOFF_REMINDER_MINUTES is 0.1 in the test assistant (15 by default)."""
    fake, chat = fake_telegram, next(telegram_chats)
    open_by_telegram(assistant, fake, chat)
    ticket = ticket_of(assistant, f"telegram:{chat}")
    reminder = wait_group_post(fake, HOA_BINH, f"⏰ Yêu cầu #{ticket.id}", timeout=30)
    assert "chưa ai nhận" in reminder.params["text"]
    time.sleep(3)
    assert len([c for c in group_posts(fake, HOA_BINH) if f"⏰ Yêu cầu #{ticket.id}" in c.params["text"]]) == 1
    assert ticket_of(assistant, f"telegram:{chat}").reminded_at is not None


def test_web_chat_resident_and_the_team_group(assistant, fake_telegram):
    web = f"http://127.0.0.1:{assistant['WEB_PORT']}"
    who = "web-handoff-0000000001"

    def chat(text):
        status, body = http(f"{web}/api/chat", {"sender": who, "message": text})
        assert status == 200, body
        return json.loads(body)["messages"]

    chat("/request_human")
    opened = chat("xa hoa binh")
    assert "đã chuyển yêu cầu" in " ".join(m.get("text", "") for m in opened)
    assert "/handoff_end" in [b["payload"] for m in opened for b in m.get("buttons", [])]
    ticket = ticket_of(assistant, who)
    assert ticket.channel == "rest"
    post_call = wait_group_post(fake_telegram, HOA_BINH, f"#{ticket.id}")
    assert "Web chat" in post_call.params["text"]
    assert chat("cam on, toi doi") == []
    telegram_webhook(assistant, group_reply_update(fake_telegram.next_update_id(), HOA_BINH, recorded(assistant, post_call), "Chào bạn, mình ở Tổ CNS đây"))
    deadline, updates = time.monotonic() + 20, []
    while time.monotonic() < deadline and not any("Tổ CNS đây" in m.get("text", "") for m in updates):
        status, body = http(f"{web}/api/chat/updates?sender={who}")
        updates += json.loads(body)["messages"]
        time.sleep(0.3)
    assert any("Tổ CNS đây" in m.get("text", "") for m in updates)
    status, body = http(f"{web}/api/chat/updates?sender={who}")
    assert json.loads(body)["messages"] == [], "each message is fetched once"
    assert http(f"{web}/api/chat/updates?sender=../etc")[0] == 400


@pytest.mark.parametrize("query", ["tien dien", "tiền điện", "tra tien đien"])
def test_inline_query_answers_from_the_library(assistant, fake_telegram, query):
    update = inline_query_update(fake_telegram.next_update_id(), 8800003, query)
    telegram_webhook(assistant, update)
    query_id = update["inline_query"]["id"]
    [call] = fake_telegram.wait_for(
        lambda c: c.method == "answerInlineQuery" and c.params.get("inline_query_id") == query_id, timeout=20
    )
    results = call.params["results"]
    assert 1 <= len(results) <= 10
    assert results[0]["type"] == "article"
    assert "điện" in results[0]["title"].lower()
    assert "mã khách hàng" in results[0]["input_message_content"]["message_text"]
    assert len({r["id"] for r in results}) == len(results)


def test_inline_query_with_nothing_typed_still_answers(assistant, fake_telegram):
    update = inline_query_update(fake_telegram.next_update_id(), 8800003, "")
    telegram_webhook(assistant, update)
    [call] = fake_telegram.wait_for(
        lambda c: c.method == "answerInlineQuery" and c.params.get("inline_query_id") == update["inline_query"]["id"], timeout=20
    )
    assert call.params["results"], "an empty query shows the library's first answers"


def test_buttons_and_replies_count_only_in_the_tickets_own_group(assistant, fake_telegram):
    fake, chat = fake_telegram, next(telegram_chats)
    open_by_telegram(assistant, fake, chat)
    ticket = ticket_of(assistant, f"telegram:{chat}")
    post_call = wait_group_post(fake, HOA_BINH, f"#{ticket.id}")
    elsewhere = {**post_call.result, "chat": {"id": QUANG_TRUNG, "type": "supergroup", "title": "Tổ khác"}}
    for verb in ("take", "close"):
        update = group_callback_update(fake.next_update_id(), QUANG_TRUNG, elsewhere, f"tk:{verb}:{ticket.id}")
        assert telegram_after(fake, chat, lambda: telegram_webhook(assistant, update)) == []
        query_id = update["callback_query"]["id"]
        [answer] = fake.wait_for(lambda c: c.method == "answerCallbackQuery" and c.params.get("callback_query_id") == query_id)
        assert "Không tìm thấy" in answer.params["text"]
    assert ticket_of(assistant, f"telegram:{chat}").status == "open"
    reply = group_reply_update(fake.next_update_id(), QUANG_TRUNG, elsewhere, "Tôi là người lạ")
    assert telegram_after(fake, chat, lambda: telegram_webhook(assistant, reply)) == []
    assert ticket_of(assistant, f"telegram:{chat}").status == "open"
