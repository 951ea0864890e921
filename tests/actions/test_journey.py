from rasa_sdk.executor import CollectingDispatcher

from actions.journey import (
    ActionAskJourneyInput,
    ActionExtractJourneyInput,
    ActionOfferResume,
    ActionResumeJourney,
    ActionStartJourney,
    ValidateJourneyForm,
)
from tests.actions.helpers import events_dict, journey_slots, payloads, texts, tracker

FORM = "journey_form"
AT_QUESTION = journey_slots("open_account", "has_chip_id")
AT_INFO = journey_slots("open_account", "get_chip_id", ["has_chip_id"])


def run(action, t):
    dispatcher = CollectingDispatcher()
    return dispatcher, action.run(dispatcher, t, {})


def validate(value, slots):
    dispatcher = CollectingDispatcher()
    result = ValidateJourneyForm().validate_journey_input(value, dispatcher, tracker(slots, active_loop=FORM), {})
    return dispatcher, result


def test_start_names_the_journey_and_opens_it():
    t = tracker(intent="start_journey", entities=[{"entity": "journey_name", "value": "pay_bill"}])
    dispatcher, events = run(ActionStartJourney(), t)
    slots = events_dict(events)
    assert slots["journey"] == "pay_bill" and slots["journey_open"] is True
    assert "Trả tiền điện" in texts(dispatcher)[0]


def test_start_without_a_name_leaves_the_form_to_show_the_list():
    dispatcher, events = run(ActionStartJourney(), tracker(intent="start_journey"))
    assert events_dict(events)["journey_open"] is False
    ask_dispatcher, ask_events = run(ActionAskJourneyInput(), tracker(active_loop=FORM))
    assert any("/start_journey" in p for p in payloads(ask_dispatcher))
    assert {"event": "active_loop", "name": None, "timestamp": None} in ask_events


def test_extraction_turns_answers_into_commands():
    extract = ActionExtractJourneyInput()
    cases = [
        ("affirm", "co", "choice:yes"),
        ("deny", "khong", "choice:no"),
        ("journey_stop", "tam dung", "stop"),
        ("nlu_fallback", "123456789012", "invalid"),
    ]
    for intent, text, command in cases:
        _, events = run(extract, tracker(AT_QUESTION, intent, text, active_loop=FORM))
        assert events_dict(events) == {"journey_input": command}, text


def test_extraction_lets_interruptions_through():
    extract = ActionExtractJourneyInput()
    for intent, text in [("report_scam", "co nguoi doi ma otp"), ("ask_pay_water", "tien nuoc tra sao")]:
        _, events = run(extract, tracker(AT_QUESTION, intent, text, active_loop=FORM))
        assert events == []
    _, events = run(extract, tracker(AT_QUESTION, "affirm", "co"))  # form not active
    assert events == []


def test_ask_renders_the_current_step_with_navigation():
    dispatcher, _ = run(ActionAskJourneyInput(), tracker(AT_INFO, active_loop=FORM))
    assert texts(dispatcher)[0].startswith("Bước 2/")
    assert payloads(dispatcher) == ["/journey_next", "/journey_back", "/journey_stop", "/request_human"]


def test_question_step_has_choice_buttons():
    dispatcher, _ = run(ActionAskJourneyInput(), tracker(AT_QUESTION, active_loop=FORM))
    assert texts(dispatcher)[0].startswith("Bước 1/")
    assert '/journey_choose{"journey_choice": "yes"}' in payloads(dispatcher)
    assert "/journey_back" not in payloads(dispatcher)


def test_validation_moves_on_and_keeps_asking():
    dispatcher, result = validate("next", AT_INFO)
    assert result["journey_input"] is None
    assert result["journey_step"] == "chip_id_documents"
    assert result["journey_history"] == ["has_chip_id", "get_chip_id"]
    assert dispatcher.messages == []


def test_validation_of_bad_input_says_what_is_expected_and_stays():
    dispatcher, result = validate("invalid", AT_INFO)
    assert result["journey_step"] == "get_chip_id"
    assert "Tiếp" in texts(dispatcher)[0]
    assert "123456789012" not in " ".join(texts(dispatcher))


def test_stop_pauses_and_offers_to_continue_later():
    dispatcher, result = validate("stop", AT_INFO)
    assert result == {"journey_input": "paused"}
    assert "/journey_resume" in payloads(dispatcher)


def test_the_last_step_completes_and_closes_the_journey():
    slots = journey_slots("open_account", "chip_id_documents", ["has_chip_id", "get_chip_id"])
    dispatcher, result = validate("next", slots)
    assert result["journey_input"] == "completed"
    assert result["journey_open"] is False and result["journey"] is None
    assert texts(dispatcher)[0].startswith("Bước 4/4")
    assert "/ask_help_menu" in payloads(dispatcher)


def test_choosing_a_bank_fills_the_bank_slot():
    slots = journey_slots("open_account", "choose_bank", ["has_chip_id", "has_smartphone"])
    _, result = validate("choice:Agribank", slots)
    assert result["bank"] == "Agribank"


def test_cleared_slot_on_activation_changes_nothing():
    dispatcher, result = validate(None, AT_INFO)
    assert result == {"journey_input": None} and dispatcher.messages == []


def test_offer_resume_leaves_the_form_and_offers_to_continue():
    dispatcher, events = run(ActionOfferResume(), tracker(AT_INFO, active_loop=FORM))
    assert "Bước 2/" in texts(dispatcher)[0]
    assert payloads(dispatcher) == ["/journey_resume", "/journey_stop"]
    assert {"event": "active_loop", "name": None, "timestamp": None} in events


def test_offer_resume_is_silent_without_an_interrupted_journey():
    dispatcher, events = run(ActionOfferResume(), tracker(AT_INFO))
    assert events == [] and dispatcher.messages == []


def test_resume_says_when_the_journey_was_started():
    dispatcher, _ = run(ActionResumeJourney(), tracker(AT_INFO))
    assert "Thứ Tư, ngày 25 tháng 11 năm 2026" in texts(dispatcher)[0]
