"""Every branch of every journey, through the running assistant (REST channel),
with buttons only and with answers typed without diacritics; interruptions,
scam messages and bad input in the middle of a journey."""
import itertools

import pytest

from bot.journeys.engine import CHOICE_PREFIX, NEXT, default_catalogue
from bot.journeys.render import NEXT_PAYLOAD, choice_payload, start_payload
from bot.nlu.normalizer import fold_diacritics
from tests.journeys.test_engine import all_paths
from tests.serve_helpers import rest

CATALOGUE = default_catalogue()
_senders = itertools.count()




def sender(prefix):
    return f"{prefix}-{next(_senders)}"


def step_of(messages):
    """The 'Bước i/n: …' message of a reply."""
    steps = [m for m in messages if (m.get("text") or "").startswith("Bước ")]
    assert steps, [m.get("text") for m in messages]
    return steps[-1]


def expect_step(messages, journey, step_id, index):
    message = step_of(messages)
    text = journey.step(step_id).text
    assert message["text"].startswith(f"Bước {index}/"), message["text"]
    assert message["text"].endswith(text)
    return message


def typed(command, step):
    if command == NEXT:
        return "tiep"
    value = command[len(CHOICE_PREFIX):]
    if value == "yes":
        return "co"
    if value == "no":
        return "khong"
    return fold_diacritics(step.choice_for(value).title).lower()


CASES = [
    (journey.id, n, steps, commands)
    for journey in CATALOGUE.journeys.values()
    for n, (steps, commands) in enumerate(all_paths(journey))
]


@pytest.mark.parametrize("journey_id, n, steps, commands", CASES, ids=[f"{c[0]}-{c[1]}" for c in CASES])
def test_every_branch_with_buttons(assistant, journey_id, n, steps, commands):
    journey = CATALOGUE.get(journey_id)
    who = sender("buttons")
    expect_step(rest(assistant, who, start_payload(journey_id)), journey, steps[0], 1)
    for index, (command, step_id) in enumerate(zip(commands, steps[1:]), start=2):
        payload = NEXT_PAYLOAD if command == NEXT else choice_payload(command[len(CHOICE_PREFIX):])
        expect_step(rest(assistant, who, payload), journey, step_id, index)
    after = rest(assistant, who, "/journey_resume")
    assert "không có hướng dẫn nào đang làm dở" in after[0]["text"]


@pytest.mark.parametrize("journey_id", sorted(CATALOGUE.journeys))
def test_every_journey_with_typed_answers_without_diacritics(assistant, journey_id):
    journey = CATALOGUE.get(journey_id)
    for steps, commands in all_paths(journey)[:2]:
        who = sender("typed")
        expect_step(rest(assistant, who, start_payload(journey_id)), journey, steps[0], 1)
        for index, (command, step_id) in enumerate(zip(commands, steps[1:]), start=2):
            answer = typed(command, journey.step(steps[index - 2]))
            expect_step(rest(assistant, who, answer), journey, step_id, index)


def start_and_advance(assistant, who):
    journey = CATALOGUE.get("open_account")
    rest(assistant, who, start_payload("open_account"))
    reply = rest(assistant, who, choice_payload("no"))  # -> an information step
    expect_step(reply, journey, "get_chip_id", 2)
    return journey


@pytest.mark.parametrize("bad", ["asdfgh qwerty", "🤔🤔", "123456789012", "", "!!!"])
def test_bad_input_keeps_the_journey_where_it_was(assistant, bad):
    who = sender("bad")
    journey = start_and_advance(assistant, who)
    reply = rest(assistant, who, bad)
    assert "Tiếp" in reply[0]["text"], "says what is expected"
    expect_step(reply, journey, "get_chip_id", 2)
    assert all("123456789012" not in (m.get("text") or "") for m in reply)


def test_scam_message_mid_journey_gets_the_safety_answer_then_resumes(assistant):
    who = sender("scam")
    journey = start_and_advance(assistant, who)
    reply = rest(assistant, who, "co nguoi goi xung can bo xa bao doc ma otp 123456")
    joined = " ".join(m.get("text") or "" for m in reply)
    assert "OTP" in joined and "Công an" in joined
    assert "123456" not in joined
    assert "/journey_resume" in [b["payload"] for m in reply for b in m.get("buttons", [])]
    expect_step(rest(assistant, who, "/journey_resume"), journey, "get_chip_id", 2)


def test_another_topic_mid_journey_is_answered_then_offered_to_continue(assistant):
    who = sender("topic")
    journey = start_and_advance(assistant, who)
    reply = rest(assistant, who, "rut tien o cay atm the nao")
    assert "ATM" in reply[0]["text"]
    assert "Bước 2/" in reply[-1]["text"] and "làm tiếp" in reply[-1]["text"]
    expect_step(rest(assistant, who, "tiep tuc"), journey, "get_chip_id", 2)


def test_back_stop_and_resume_later(assistant):
    who = sender("nav")
    journey = start_and_advance(assistant, who)
    expect_step(rest(assistant, who, "/journey_back"), journey, "has_chip_id", 1)
    expect_step(rest(assistant, who, "chua co"), journey, "get_chip_id", 2)
    paused = rest(assistant, who, "/journey_stop")
    assert "tạm dừng" in paused[0]["text"]
    other = rest(assistant, who, "rut tien o cay atm the nao")
    assert "/journey_resume" not in [b["payload"] for m in other for b in m.get("buttons", [])], "paused: no nagging"
    expect_step(rest(assistant, who, "tiep tuc"), journey, "get_chip_id", 2)


def test_an_old_step_button_of_a_paused_journey_is_an_unforeseen_turn(assistant):
    """No rule or story covers it: the dialogue's fallback says it did not
    understand and shows the menu, and the next message is answered as usual."""
    who = sender("unforeseen")
    journey = start_and_advance(assistant, who)
    assert "tạm dừng" in rest(assistant, who, "/journey_stop")[0]["text"]
    reply = rest(assistant, who, '/journey_choose{"journey_input": "choice:yes"}')
    assert reply[0]["text"].startswith("Dạ, em chưa hiểu ý")
    assert len([b for b in reply[-1].get("buttons", [])]) >= 5, reply[-1]  # the topic menu
    expect_step(rest(assistant, who, "tiep tuc"), journey, "get_chip_id", 2)


def test_person_mid_journey_gets_the_commune_team_then_the_journey_back(assistant):
    who = sender("human")
    journey = start_and_advance(assistant, who)
    asked = rest(assistant, who, "/request_human")
    assert "xã/phường nào" in asked[-1]["text"]
    contact = rest(assistant, who, "xa tan lap")  # a team without a Telegram group: its contact
    joined = " ".join(m.get("text") or "" for m in contact)
    assert "0201 000 0001" in joined
    assert "/journey_resume" in [b["payload"] for m in contact for b in m.get("buttons", [])]
    expect_step(rest(assistant, who, "/journey_resume"), journey, "get_chip_id", 2)


def test_two_fallbacks_in_a_row_offer_a_person(assistant):
    who = sender("fallback")
    first = rest(assistant, who, "xkcd qwerty")
    assert "/request_human" not in [b["payload"] for m in first for b in m.get("buttons", [])]
    second = rest(assistant, who, "zzzz mmmm")
    assert "/request_human" in [b["payload"] for m in second for b in m.get("buttons", [])]


def test_a_journey_through_the_web_chat_api(assistant):
    """The web chat page talks to /api/chat; a resident completes a journey there."""
    import json

    from tests.serve_helpers import http

    journey = CATALOGUE.get("receive_benefit")
    steps, commands = all_paths(journey)[0]
    url = f"http://127.0.0.1:{assistant['WEB_PORT']}/api/chat"
    who = "web-journey-0000000001"

    def chat(text):
        status, body = http(url, {"sender": who, "message": text})
        assert status == 200, body
        return json.loads(body)["messages"]

    expect_step(chat("huong dan tung buoc nhan tro cap qua ngan hang"), journey, steps[0], 1)
    for index, (command, step_id) in enumerate(zip(commands, steps[1:]), start=2):
        expect_step(chat(typed(command, journey.step(steps[index - 2]))), journey, step_id, index)
