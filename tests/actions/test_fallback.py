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
