"""The parts every channel shares: splitting, typed commands, de-duplication, button stores."""
import pytest

from bot.channels.common import (
    ButtonPayloads,
    DeliveryLog,
    OfferedButtons,
    conversation_id,
    messenger_id,
    split_text,
    typed_command,
)
from bot.db.engine import session_factory


@pytest.fixture
def database(tmp_path):
    return f"sqlite:///{tmp_path / 'channels.sqlite3'}"


def test_split_keeps_short_text_whole():
    assert split_text("  Dạ, em chào bác ạ.  ", 4096) == ["Dạ, em chào bác ạ."]
    assert split_text("", 10) == [""]


def test_split_cuts_at_lines_then_spaces_never_over_the_limit():
    text = "\n".join(["một hai ba bốn năm"] * 50)
    parts = split_text(text, 100)
    assert all(len(p) <= 100 for p in parts)
    assert "\n".join(parts) == text
    words = " ".join(["trợ-cấp"] * 100)
    parts = split_text(words, 50)
    assert all(len(p) <= 50 for p in parts) and " ".join(parts) == words
    assert split_text("x" * 25, 10) == ["x" * 10, "x" * 10, "x" * 5]


@pytest.mark.parametrize(
    "typed, expected",
    [
        ("/start", "/greet"),
        ("/start ref123", "/greet"),
        ("/menu@tro_ly_so_bot", "/ask_help_menu"),
        ("/request_human", "request_human"),
        ('/inform{"x": 1}', 'inform{"x": 1}'),
        ("mo tai khoan", "mo tai khoan"),
        ("/", "/"),
    ],
)
def test_typed_slash_words_are_commands_we_know_or_plain_text(typed, expected):
    assert typed_command(typed) == expected


def test_conversation_ids_keep_messengers_apart():
    assert conversation_id("zalo", "123") != conversation_id("telegram", "123")
    assert messenger_id(conversation_id("zalo", "123")) == "123"


def test_a_delivery_is_claimed_once_also_after_a_restart(database):
    first = DeliveryLog(session_factory(database))
    assert first.claim("zalo", "msg:1") is True
    assert first.claim("zalo", "msg:1") is False
    assert first.claim("telegram", "msg:1") is True  # another channel's id space
    restarted = DeliveryLog(session_factory(database))
    assert restarted.claim("zalo", "msg:1") is False
    assert restarted.claim("zalo", "msg:2") is True


def test_old_deliveries_are_pruned(database):
    from datetime import timedelta

    log = DeliveryLog(session_factory(database))
    log.claim("zalo", "old")
    assert log.prune(older_than=timedelta(seconds=-1)) == 1
    assert log.claim("zalo", "old") is True


def test_long_payloads_get_stable_short_keys(database):
    store = ButtonPayloads(session_factory(database))
    payload = '/inform_commune{"commune": "Phường Nguyễn Trung Trực"}'
    key = store.key_for(payload)
    assert key == store.key_for(payload) and len(key) <= 64
    assert ButtonPayloads(session_factory(database)).payload_for(key) == payload
    assert store.payload_for("btn:unknown") is None


def test_offered_buttons_map_a_title_back_per_recipient(database):
    offered = OfferedButtons(session_factory(database))
    offered.remember("zalo", "u1", [{"title": "➡️ Tiếp", "payload": "/journey_next"}])
    offered.remember("zalo", "u1", [{"title": "Có", "payload": '/journey_choose{"journey_choice": "yes"}'}])
    assert offered.resolve("zalo", "u1", " ➡️ Tiếp ") == "/journey_next"
    assert offered.resolve("zalo", "u1", "Có") == '/journey_choose{"journey_choice": "yes"}'
    assert offered.resolve("zalo", "u2", "Có") is None
    assert offered.resolve("zalo", "u1", "có thể") is None
