"""The relay between a resident and the team's group, against the fake Telegram Bot API.

The resident here uses the web chat (their messages come back through the web
outbox); Telegram and Zalo residents are covered end to end in test_relay_e2e.py.
"""
import itertools
from datetime import timedelta

import pytest

from bot.db.engine import session_factory
from bot.handoff.relay import END_PAYLOAD, RATING_PAYLOAD, Relay, rating_of
from bot.handoff.team_chat import parse_callback

_chats = itertools.count(-1002000000001, -1)


@pytest.fixture
def relay(tmp_path, fake_telegram):
    env = {"TELEGRAM_BOT_TOKEN": fake_telegram.token, "TELEGRAM_API_BASE_URL": fake_telegram.base_url}
    return Relay.from_env(session_factory(f"sqlite:///{tmp_path / 'relay.sqlite3'}"), env)


@pytest.fixture
def group():
    return next(_chats)


def sent_to_group(fake, chat_id):
    return [c for c in fake.find(fake.sent_to(chat_id)) if c.result]


async def open_ticket(relay, group, conversation="web-resident-0001", recent=("toi can giup",)):
    ticket, _ = relay.tickets.open("rest", conversation, "Xã Hòa Bình", group)
    assert await relay.team_chat.post_ticket(ticket, list(recent))
    return relay.tickets.get(ticket.id)


def outbox(relay, conversation="web-resident-0001"):
    return relay.residents.outbox.take(conversation)


async def test_the_ticket_post_quotes_recent_messages_masked_with_take_and_close(relay, group, fake_telegram):
    ticket = await open_ticket(relay, group, recent=["số tài khoản của tôi là 0912345678", "giúp tôi với"])
    [post] = sent_to_group(fake_telegram, group)
    assert f"#{ticket.id}" in post.params["text"] and "Xã Hòa Bình" in post.params["text"]
    assert "0912345678" not in post.params["text"] and "giúp tôi với" in post.params["text"]
    buttons = [b["callback_data"] for row in post.params["reply_markup"]["inline_keyboard"] for b in row]
    assert [parse_callback(b) for b in buttons] == [("take", ticket.id), ("close", ticket.id)]
    assert ticket.team_message_id == post.result["message_id"]


async def test_while_open_the_assistant_is_quiet_and_messages_go_to_the_group_masked(relay, group, fake_telegram):
    ticket = await open_ticket(relay, group)
    outcome = await relay.intercept("web-resident-0001", "so cccd cua toi 001099012345 nhe")
    assert not outcome.to_assistant and outcome.replies == []
    forwarded = sent_to_group(fake_telegram, group)[-1]
    assert "001099012345" not in forwarded.params["text"] and "[CCCD]" in forwarded.params["text"]
    assert forwarded.params["reply_parameters"]["message_id"] == ticket.team_message_id
    # a reply to the forwarded message reaches the resident too
    assert relay.tickets.by_team_message(group, forwarded.result["message_id"]).id == ticket.id


async def test_a_scam_message_is_forwarded_and_still_answered_by_the_assistant(relay, group, fake_telegram):
    await open_ticket(relay, group)
    outcome = await relay.intercept("web-resident-0001", "co nguoi goi bao toi doc ma otp cho ho")
    assert outcome.to_assistant
    assert sent_to_group(fake_telegram, group)[-1].params["text"].startswith("⚠️")


async def test_an_old_button_while_waiting_keeps_the_resident_with_the_team(relay, group):
    await open_ticket(relay, group)
    outcome = await relay.intercept("web-resident-0001", "/ask_help_menu")
    assert not outcome.to_assistant
    assert END_PAYLOAD in [b["payload"] for m in outcome.replies for b in m.get("buttons", [])]


async def test_a_team_reply_is_delivered_takes_the_ticket_and_counts_as_first_response(relay, group, fake_telegram):
    ticket = await open_ticket(relay, group)
    assert await relay.team_reply(group, ticket.team_message_id, "Lan Nguyễn", "Bác mở app ngân hàng giúp cháu ạ")
    messages = outbox(relay)
    assert "Lan Nguyễn" in messages[0]["text"] and "đã nhận" in messages[0]["text"]
    assert "Bác mở app ngân hàng giúp cháu ạ" in messages[1]["text"]
    stored = relay.tickets.get(ticket.id)
    assert stored.status == "taken" and stored.taken_by == "Lan Nguyễn" and stored.first_response_at is not None
    assert fake_telegram.find(lambda c: c.method == "editMessageReplyMarkup" and c.params.get("chat_id") == group)
    assert not await relay.team_reply(group, 999999, "Lan", "không phải trả lời ticket")


async def test_take_twice_and_close_then_rating(relay, group, fake_telegram):
    ticket = await open_ticket(relay, group)
    assert "đã nhận" in await relay.take(ticket.id, "Minh")
    assert "Minh" in await relay.take(ticket.id, "Lan")  # already taken by Minh
    assert "Đã đóng" in await relay.close(ticket.id, "Minh")
    closing = outbox(relay)
    assert "kết thúc" in closing[-2]["text"]
    assert RATING_PAYLOAD % 5 in [b["payload"] for b in closing[-1]["buttons"]]
    outcome = await relay.intercept("web-resident-0001", RATING_PAYLOAD % 5)
    assert not outcome.to_assistant and "cảm ơn" in outcome.replies[0]["text"]
    assert relay.tickets.get(ticket.id).rating == 5
    assert (await relay.intercept("web-resident-0001", "tra tien dien")).to_assistant
    # a reply after closing is refused in the group, not delivered
    assert await relay.team_reply(group, ticket.team_message_id, "Lan", "còn đó không ạ")
    assert outbox(relay) == []
    assert "đã đóng" in sent_to_group(fake_telegram, group)[-1].params["text"]


async def test_the_resident_ends_it_and_may_skip_the_rating(relay, group, fake_telegram):
    ticket = await open_ticket(relay, group)
    outcome = await relay.intercept("web-resident-0001", "Kết thúc")
    assert not outcome.to_assistant and "chấm điểm" in outcome.replies[-1]["text"]
    assert "kết thúc" in sent_to_group(fake_telegram, group)[-1].params["text"]
    assert (await relay.intercept("web-resident-0001", "cach mo tai khoan")).to_assistant  # declined
    stored = relay.tickets.get(ticket.id)
    assert stored.closed_at is not None and stored.rating is None and stored.rated_at is not None


async def test_a_ticket_nobody_takes_gets_one_reminder(relay, group, fake_telegram):
    ticket = await open_ticket(relay, group)
    assert await relay.send_reminders(timedelta(minutes=15)) == 0  # not yet
    assert await relay.send_reminders(timedelta(0)) == 1
    assert await relay.send_reminders(timedelta(0)) == 0
    reminder = sent_to_group(fake_telegram, group)[-1].params["text"]
    assert reminder.startswith("⏰") and f"#{ticket.id}" in reminder


async def test_a_refused_post_is_reported(relay, group, fake_telegram):
    ticket, _ = relay.tickets.open("rest", "web-resident-0002", None, group)
    fake_telegram.fail_next("sendMessage", 400, "Bad Request: chat not found")
    assert not await relay.team_chat.post_ticket(ticket, [])


@pytest.mark.parametrize("text, rating", [
    ('/handoff_rating{"rating":3}', 3), ("5", 5), ("4 sao", 4), ("1 điểm", 1), ("6", None), ("tot", None), ("", None),
])
def test_rating_of(text, rating):
    assert rating_of(text) == rating
