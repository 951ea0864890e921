import pytest
from rasa.shared.nlu.constants import INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.noise_guard import NoWordsFallback
from bot.nlu.normalizer import has_words


@pytest.mark.parametrize("text", ["", "   ", "🤔🎉", "0912345678", "123 456 789", "?!"])
def test_messages_without_words(text):
    assert not has_words(text)


@pytest.mark.parametrize("text", ["ko", "👍", "mở tk", "10tr"])
def test_messages_with_words(text):
    assert has_words(text)


def classify(text, intent="ask_vneid"):
    message = Message(data={TEXT: text, INTENT: {"name": intent, "confidence": 0.97}})
    NoWordsFallback().process([message])
    return message.get(INTENT)


def test_no_words_becomes_fallback():
    assert classify("0912345678") == {"name": "nlu_fallback", "confidence": 1.0}


def test_words_keep_their_intent():
    assert classify("cài vneid")["name"] == "ask_vneid"


def test_button_payload_is_left_alone():
    assert classify("/ask_vneid")["name"] == "ask_vneid"
