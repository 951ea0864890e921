"""The Rasa NLG hook: published answers with Rasa's templated behaviour, and the form of address."""
import asyncio
import datetime

import pytest
from rasa.shared.core.events import SlotSet
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy.orm import sessionmaker

from bot.answers import store
from bot.answers.live import LiveAnswers
from bot.answers.rasa_nlg import PublishedAnswersNLG
from bot.db.engine import make_engine
from bot.db.migrate import upgrade

APPROVER = store.Actor("duyet", store.APPROVER)


@pytest.fixture
def live(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'nlg.sqlite3'}")
    upgrade(engine)
    live = LiveAnswers(sessionmaker(engine, future=True, expire_on_commit=False))
    live.snapshot()  # seeds the answers from the files
    yield live
    engine.dispose()


def tracker(domain, **slots):
    t = DialogueStateTracker.from_events("nlg-test", [], slots=domain.slots)
    for name, value in slots.items():
        t.update(SlotSet(name, value))
    return t


def say(nlg, name, t, channel="telegram"):
    return asyncio.run(nlg.generate(name, t, channel))


def test_a_published_text_is_said_at_once_with_its_buttons(domain, live):
    nlg = PublishedAnswersNLG(domain=domain, live=live)
    before = say(nlg, "utter_ask_pay_water", tracker(domain))
    assert before["text"] == domain.responses["utter_ask_pay_water"][0]["text"]
    new = {"variations": [{"text": "Mã danh bộ ở góc hóa đơn ạ", "buttons": [{"title": "👤 Gặp người hỗ trợ", "payload": "/request_human"}]}]}
    store.propose(live._factory, store.response_key("utter_ask_pay_water"), new, APPROVER, "Đổi", "Nguồn",
                  datetime.date(2026, 12, 1), publish=True)
    after = say(nlg, "utter_ask_pay_water", tracker(domain))
    assert after["text"] == "Mã danh bộ ở góc hóa đơn ạ"
    assert after["buttons"] == [{"title": "👤 Gặp người hỗ trợ", "payload": "/request_human"}]


def test_conditions_on_slots_still_choose_the_variation(domain, live):
    nlg = PublishedAnswersNLG(domain=domain, live=live)
    variations = domain.responses["utter_ask_customer_code"]
    conditional = [v for v in variations if v.get("condition")]
    assert conditional, "utter_ask_customer_code has conditional variations"
    wanted = conditional[0]
    slot = wanted["condition"][0]
    said = say(nlg, "utter_ask_customer_code", tracker(domain, **{slot["name"]: slot["value"]}))
    assert said["text"] == wanted["text"]


def test_channel_variations_and_slot_filling_still_work(domain, live):
    nlg = PublishedAnswersNLG(domain=domain, live=live)
    variations = [
        {"text": "Chung {bank}", "buttons": [{"title": "👤 Gặp người hỗ trợ", "payload": "/request_human"}]},
        {"text": "Riêng Zalo {bank}", "channel": "zalo"},
    ]
    store.propose(live._factory, store.response_key("utter_ask_pay_water"), {"variations": variations}, APPROVER,
                  "Đổi", "Nguồn", datetime.date(2026, 12, 1), publish=True)
    assert say(nlg, "utter_ask_pay_water", tracker(domain, bank="Agribank"), "zalo")["text"] == "Riêng Zalo Agribank"
    assert say(nlg, "utter_ask_pay_water", tracker(domain, bank="Agribank"), "telegram")["text"] == "Chung Agribank"


def test_answers_say_the_residents_form_of_address(domain, live):
    nlg = PublishedAnswersNLG(domain=domain, live=live)
    assert "anh/chị" in say(nlg, "utter_ask_pay_water", tracker(domain))["text"]
    said = say(nlg, "utter_ask_pay_water", tracker(domain, address_form="bac"))["text"]
    assert "anh/chị" not in said and "bác cần mã khách hàng" in said


def test_a_model_load_that_resets_the_responses_keeps_the_published_ones(domain, live):
    nlg = PublishedAnswersNLG(domain=domain, live=live)
    new = {"variations": [{"text": "Văn bản đã duyệt"}]}
    store.propose(live._factory, store.response_key("utter_ask_pay_water"), new, APPROVER, "Đổi", "Nguồn",
                  datetime.date(2026, 12, 1), publish=True)
    say(nlg, "utter_greet", tracker(domain))
    nlg.responses = domain.responses  # what Agent does when it loads a model
    assert say(nlg, "utter_ask_pay_water", tracker(domain))["text"] == "Văn bản đã duyệt"
