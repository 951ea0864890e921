from rasa_sdk.executor import CollectingDispatcher

from actions.fallback import ActionCheckFallback
from tests.actions.helpers import events_dict, tracker


def user(intent):
    return {"event": "user", "parse_data": {"intent": {"name": intent}}}


def check(events):
    return events_dict(ActionCheckFallback().run(CollectingDispatcher(), tracker(events=events), {}))


def test_second_fallback_in_a_row_is_repeated():
    assert check([user("nlu_fallback"), {"event": "bot"}, user("nlu_fallback")]) == {"repeated_fallback": True}


def test_fallback_after_an_understood_message_is_not():
    assert check([user("ask_vneid"), user("nlu_fallback")]) == {"repeated_fallback": False}
    assert check([user("nlu_fallback")]) == {"repeated_fallback": False}


def test_an_unforeseen_turn_is_forgotten_and_offers_the_menu():
    from actions.fallback import ActionUnexpectedTurn

    dispatcher = CollectingDispatcher()
    events = ActionUnexpectedTurn().run(dispatcher, tracker(events=[user("journey_choose")]), {})
    assert [m.get("response") for m in dispatcher.messages] == ["utter_default", "utter_menu"]
    assert [e["event"] for e in events] == ["rewind"]
