"""The REST channel refuses other channels' sender ids and over-long messages (through real HTTP)."""
import json

import pytest
from sqlalchemy import select

from bot.channels.common import MAX_INPUT_CHARS
from bot.db.engine import session_factory
from bot.db.models import HandoffTicket
from tests.serve_helpers import http, rest


def rest_call(assistant, body):
    return http(f"http://127.0.0.1:{assistant['RASA_PORT']}/webhooks/rest/webhook", body)


@pytest.mark.parametrize("sender", ["telegram:830999002", "zalo:246845883530999002", "rest:x", "a" * 65, "", "web chat", 12])
def test_other_channels_sender_ids_are_refused(assistant, sender):
    status, body = rest_call(assistant, {"sender": sender, "message": "/request_human"})
    assert status == 400, body
    with session_factory(assistant["DATABASE_URL"])() as session:
        assert session.execute(
            select(HandoffTicket).where(HandoffTicket.conversation_id == str(sender))
        ).first() is None


def test_a_message_over_the_limit_is_refused_with_a_clear_answer(assistant):
    status, body = rest_call(assistant, {"sender": "rest-too-long", "message": "a " * MAX_INPUT_CHARS})
    assert status == 413
    assert "ngắn gọn" in json.loads(body)["text"]


@pytest.mark.parametrize("body", [["not", "an", "object"], {"sender": "rest-no-text"}, {"sender": "rest-num", "message": 5}])
def test_malformed_bodies_get_400(assistant, body):
    assert rest_call(assistant, body)[0] == 400


def test_a_caller_cannot_claim_another_input_channel(assistant):
    """A hand-off opened over REST is the web chat's (`rest`), whatever the body says."""
    who = "rest-claims-telegram"
    status, _ = rest_call(assistant, {"sender": who, "message": "/request_human", "input_channel": "telegram",
                                      "metadata": {"channel": "telegram"}})
    assert status == 200
    status, _ = rest_call(assistant, {"sender": who, "message": "xa hoa binh", "input_channel": "telegram"})
    assert status == 200
    with session_factory(assistant["DATABASE_URL"])() as session:
        ticket = session.execute(select(HandoffTicket).where(HandoffTicket.conversation_id == who)).scalars().first()
    assert ticket is not None and ticket.channel == "rest"


def test_the_web_chat_senders_still_work(assistant):
    assert rest(assistant, "web-0123456789abcdef", "xin chao")


def test_a_hand_off_marked_capped_by_the_web_app_posts_no_ticket(assistant, fake_telegram):
    """The web app marks messages from an address over WEB_HANDOFF_TICKETS_PER_IP_HOUR; the
    hand-off then points to the commune People's Committee and opens no ticket."""
    from bot.prompts import section

    who = "rest-capped-address"
    capped = {"metadata": {"handoff_capped": True}}
    assert rest_call(assistant, {"sender": who, "message": "/request_human", **capped})[0] == 200
    status, body = rest_call(assistant, {"sender": who, "message": "xa hoa binh", **capped})
    answer = [m.get("text") for m in json.loads(body)]
    assert status == 200 and section("handoff")["capped"] in answer, answer
    assert all(len(text or "") <= 220 for text in answer) and len(answer) <= 3
    with session_factory(assistant["DATABASE_URL"])() as session:
        assert session.execute(select(HandoffTicket).where(HandoffTicket.conversation_id == who)).first() is None


def test_other_caller_metadata_is_dropped(assistant):
    """Only the `handoff_capped: true` flag passes (it can only take a right away)."""
    who = "rest-other-metadata"
    other = {"metadata": {"handoff_capped": "no", "channel": "telegram"}}
    assert rest_call(assistant, {"sender": who, "message": "/request_human", **other})[0] == 200
    assert rest_call(assistant, {"sender": who, "message": "xa hoa binh", **other})[0] == 200
    with session_factory(assistant["DATABASE_URL"])() as session:
        assert session.execute(select(HandoffTicket).where(HandoffTicket.conversation_id == who)).first() is not None
