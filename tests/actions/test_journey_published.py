"""Journeys read the published step texts (no restart): the action server's journey actions."""
import datetime

from rasa_sdk.executor import CollectingDispatcher

from actions.journey import ActionAskJourneyInput
from bot.answers import live, store
from bot.db.engine import session_factory
from tests.actions.helpers import journey_slots, texts, tracker

FORM = "journey_form"
APPROVER = store.Actor("duyet", store.APPROVER)


def ask(slots):
    dispatcher = CollectingDispatcher()
    ActionAskJourneyInput().run(dispatcher, tracker(slots, active_loop=FORM), {})
    return texts(dispatcher)[0]


def test_a_published_step_text_is_shown_by_the_next_step_message(actions_database):
    slots = journey_slots("open_account", "has_chip_id")
    before = ask(slots)
    assert "thẻ căn cước công dân gắn chip" in before
    live.snapshot()  # seeded
    store.propose(session_factory(actions_database), store.journey_key("open_account", "has_chip_id"),
                  {"text": "Anh/chị đã có thẻ căn cước chưa ạ? (bản mới)"}, APPROVER, "Đổi", "Nguồn",
                  datetime.date(2026, 12, 1), publish=True)
    after = ask(slots)
    assert after.endswith("Anh/chị đã có thẻ căn cước chưa ạ? (bản mới)")
    store.revert(session_factory(actions_database), store.journey_key("open_account", "has_chip_id"), 1, APPROVER)
    assert ask(slots) == before
