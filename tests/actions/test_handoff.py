import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.handoff import UNKNOWN, ActionAskCommune, ActionExtractCommune, ActionHandoff, ValidateHandoffForm
from tests.actions.helpers import events_dict, journey_slots, payloads, texts, tracker

FORM = "handoff_form"


@pytest.fixture(autouse=True)
def sample_directory(monkeypatch):
    from tests.conftest import ROOT

    monkeypatch.setenv("TEAM_DIRECTORY_CSV", str(ROOT / "data" / "team_directory.sample.csv"))


def validate(value, attempts=0):
    dispatcher = CollectingDispatcher()
    t = tracker({"commune_attempts": attempts}, active_loop=FORM)
    return dispatcher, ValidateHandoffForm().validate_commune(value, dispatcher, t, {})


def test_ask_offers_the_communes_as_buttons():
    dispatcher = CollectingDispatcher()
    ActionAskCommune().run(dispatcher, tracker(active_loop=FORM), {})
    assert any("Tân Lập" in p for p in payloads(dispatcher))


def test_typed_commune_without_diacritics_is_found():
    _, result = validate("nha toi o xa tan lap")
    assert result == {"commune": "Xã Tân Lập", "commune_attempts": 0}


def test_unknown_commune_is_asked_again_then_given_up():
    dispatcher, result = validate("xa khong co that")
    assert result == {"commune": None, "commune_attempts": 1}
    assert "chưa tìm thấy" in texts(dispatcher)[0]
    _, result = validate("van khong co", attempts=1)
    assert result["commune"] == UNKNOWN


@pytest.mark.parametrize("intent, expected", [("deny", [UNKNOWN]), ("report_scam", [])])
def test_extraction_cancel_and_scam(intent, expected):
    events = ActionExtractCommune().run(CollectingDispatcher(), tracker(intent=intent, text="x", active_loop=FORM), {})
    assert [e["value"] for e in events] == expected


def test_handoff_gives_the_directory_contact_and_offers_the_journey_back():
    dispatcher = CollectingDispatcher()
    slots = {"commune": "Xã Tân Lập", **journey_slots("pay_bill", "which_bill")}
    ActionHandoff().run(dispatcher, tracker(slots), {})
    joined = " ".join(texts(dispatcher))
    assert "0200 000 0001" in joined and "OTP" in joined
    assert "/journey_resume" in payloads(dispatcher)


def test_handoff_without_a_known_commune_points_to_the_commune_committee():
    dispatcher = CollectingDispatcher()
    events = ActionHandoff().run(dispatcher, tracker({"commune": UNKNOWN}), {})
    assert "UBND xã/phường" in texts(dispatcher)[0]
    assert events_dict(events) == {"commune": None}
