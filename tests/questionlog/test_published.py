"""What the Rasa servers publish to RabbitMQ: masked, reduced, sender hashed."""
import json

from bot.questionlog.published import BATCH_KIND, batch_message
from bot.questionlog.pseudonym import Pseudonymiser

USER = {
    "event": "user", "timestamp": 1_764_000_100.5, "text": "so cccd cua toi 001099012345, sdt 0912345678",
    "input_channel": "telegram",
    "parse_data": {
        "text": "so cccd cua toi 001099012345, sdt 0912345678",
        "intent": {"name": "ask_vneid_account", "confidence": 0.9},
        "entities": [{"entity": "phone", "value": "0912345678"}],
        "intent_ranking": [{"name": f"i{n}", "confidence": 0.1} for n in range(6)],
    },
    "metadata": {"chat": "12345"},
}


def test_personal_data_never_reaches_the_message():
    pseudonym = Pseudonymiser(b"key")
    events = [
        {"event": "action", "name": "action_session_start", "timestamp": 1.0},
        {"event": "session_started", "timestamp": 1.0},
        {"sender_id": "telegram:12345", **USER},
        {"event": "slot", "name": "phone", "value": "0912345678"},
        {"event": "bot", "text": "Số 0912345678 của bác", "timestamp": 2.0},
        {"event": "action", "name": "utter_ask_vneid_account", "timestamp": 2.0},
    ]
    message = batch_message(pseudonym, "telegram:12345", 1.0, events)
    raw = json.dumps(message, ensure_ascii=False)
    for secret in ("001099012345", "0912345678", "12345\""):
        assert secret not in raw
    assert message["kind"] == BATCH_KIND and message["sender"] == pseudonym("telegram:12345")
    assert [e["event"] for e in message["events"]] == ["action", "session_started", "user", "action"]
    user = message["events"][2]
    assert "[CCCD]" in user["text"]
    assert user["parse_data"]["intent"]["name"] == "ask_vneid_account"
    assert len(user["parse_data"]["intent_ranking"]) == 3 and "entities" not in user["parse_data"]


def test_a_save_without_loggable_events_publishes_nothing():
    assert batch_message(Pseudonymiser(b"k"), "s", None, [{"event": "slot", "name": "x", "value": 1}]) is None
