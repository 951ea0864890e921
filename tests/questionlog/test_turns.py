"""Rasa events -> question-log turns."""
from bot.questionlog.turns import TurnAssembler


def user(sender, text, intent, confidence=0.9, channel="telegram", ts=1_764_000_000.0):
    ranking = [{"name": intent, "confidence": confidence}, {"name": "greet", "confidence": 0.05},
               {"name": "goodbye", "confidence": 0.03}, {"name": "affirm", "confidence": 0.01}]
    return {"event": "user", "sender_id": sender, "timestamp": ts, "text": text, "input_channel": channel,
            "parse_data": {"intent": {"name": intent, "confidence": confidence}, "intent_ranking": ranking}}


def action(sender, name):
    return {"event": "action", "sender_id": sender, "name": name, "timestamp": 1_764_000_001.0}


def feed_all(assembler, events):
    return [turn for turn in map(assembler.feed, events) if turn is not None]


def test_a_message_and_its_answer_make_one_turn():
    turns = feed_all(TurnAssembler(), [
        {"event": "session_started", "sender_id": "telegram:1", "timestamp": 1_763_999_000.0},
        user("telegram:1", "mo tai khoan", "ask_open_bank_account"),
        action("telegram:1", "utter_ask_open_bank_account"),
        {"event": "bot", "sender_id": "telegram:1", "text": "Dạ ..."},
        action("telegram:1", "action_offer_resume"),
        action("telegram:1", "action_listen"),
    ])
    [turn] = turns
    assert (turn.channel, turn.text, turn.intent, turn.confidence) == ("telegram", "mo tai khoan", "ask_open_bank_account", 0.9)
    assert turn.answer == ["utter_ask_open_bank_account", "action_offer_resume"]
    assert len(turn.ranking) == 3 and turn.ranking[0]["name"] == "ask_open_bank_account"
    assert (turn.fallback, turn.out_of_scope, turn.handoff) == (False, False, False)
    assert turn.session_started == 1_763_999_000.0
    assert turn.asked_at.year == 2025


def test_fallback_out_of_scope_and_handoff_are_marked():
    turns = feed_all(TurnAssembler(), [
        user("zalo:2", "asdkjh", "nlu_fallback", 0.2, channel="zalo"), action("zalo:2", "action_check_fallback"),
        action("zalo:2", "action_listen"),
        user("zalo:2", "thoi tiet", "out_of_scope", channel="zalo"), action("zalo:2", "utter_out_of_scope"),
        action("zalo:2", "action_listen"),
        user("zalo:2", "gap nguoi", "request_human", channel="zalo"), action("zalo:2", "utter_request_human"),
        action("zalo:2", "handoff_form"), action("zalo:2", "action_listen"),
    ])
    assert [(t.fallback, t.out_of_scope, t.handoff) for t in turns] == [
        (True, False, False), (False, True, False), (False, False, True)
    ]


def test_rest_is_the_web_chat_and_conversations_do_not_mix():
    assembler = TurnAssembler()
    turns = feed_all(assembler, [
        user("a", "xin chao", "greet", channel="rest"), user("b", "tam biet", "goodbye"),
        action("b", "utter_goodbye"), action("a", "utter_greet"), action("a", "action_listen"),
        action("b", "action_listen"),
    ])
    assert [(t.sender_id, t.channel, t.answer) for t in turns] == [("a", "web", ["utter_greet"]), ("b", "telegram", ["utter_goodbye"])]


def test_a_message_answered_by_nothing_yet_is_kept_until_the_next_or_shutdown():
    assembler = TurnAssembler()
    assert assembler.feed(user("c", "mot", "greet")) is None
    second = assembler.feed(user("c", "hai", "greet"))
    assert second.text == "mot" and second.answer == []
    assert [t.text for t in assembler.drain()] == ["hai"]
