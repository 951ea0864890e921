import time

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.handoff import UNKNOWN, ActionAskCommune, ActionExtractCommune, ActionHandoff, ValidateHandoffForm
from tests.actions.helpers import events_dict, journey_slots, payloads, texts, tracker

FORM = "handoff_form"


@pytest.fixture(autouse=True)
def real_directory(monkeypatch, tmp_path):
    """A real directory imported (test data, tests/data/team_directory.test.csv), in a fresh database."""
    from bot.directory.store import clear_cache
    from tests.conftest import ROOT

    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'handoff.sqlite3'}")
    monkeypatch.setenv("TEAM_DIRECTORY_CSV", str(ROOT / "tests" / "data" / "team_directory.test.csv"))
    clear_cache()
    yield
    clear_cache()


@pytest.fixture
def only_sample(monkeypatch, tmp_path):
    """A fresh install: the directory holds only the shipped sample rows ([MẪU])."""
    from bot.directory.store import clear_cache
    from tests.conftest import ROOT

    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'sample.sqlite3'}")
    monkeypatch.setenv("TEAM_DIRECTORY_CSV", str(ROOT / "data" / "team_directory.sample.csv"))
    clear_cache()


@pytest.fixture
def no_telegram(monkeypatch):
    """Telegram off: the hand-off can only give contacts."""
    import actions.handoff

    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    monkeypatch.setattr(actions.handoff, "_team_chat", {})


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


async def test_handoff_gives_the_directory_contact_and_offers_the_journey_back(no_telegram):
    dispatcher = CollectingDispatcher()
    slots = {"commune": "Xã Tân Lập", **journey_slots("pay_bill", "which_bill")}
    await ActionHandoff().run(dispatcher, tracker(slots), {})
    joined = " ".join(texts(dispatcher))
    assert "0201 000 0001" in joined and "OTP" in joined
    assert "/journey_resume" in payloads(dispatcher)


async def test_handoff_without_a_known_commune_points_to_the_commune_committee(no_telegram):
    dispatcher = CollectingDispatcher()
    events = await ActionHandoff().run(dispatcher, tracker({"commune": UNKNOWN}), {})
    assert "UBND xã/phường" in texts(dispatcher)[0]
    assert events_dict(events) == {"commune": None}


@pytest.fixture
def telegram_on(monkeypatch, fake_telegram):
    """Telegram on, pointed at the fake Bot API; the action server's bot made afresh."""
    import actions.handoff

    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", fake_telegram.token)
    monkeypatch.setenv("TELEGRAM_API_BASE_URL", fake_telegram.base_url)
    monkeypatch.delenv("TELEGRAM_HANDOFF_CHAT_ID", raising=False)
    monkeypatch.setattr(actions.handoff, "_team_chat", {})
    return fake_telegram


def resident_tracker(sender, commune, typed=("toi can nguoi giup", "/ask_help_menu", "so dt cua toi 0912345678")):
    t = tracker({"commune": commune})
    t.sender_id = sender
    t.events = [{"event": "user", "text": text, "input_channel": "zalo"} for text in typed]
    return t


async def test_a_commune_with_a_group_gets_a_ticket_posted_there(telegram_on):
    dispatcher = CollectingDispatcher()
    sender = "zalo:ticket-action-1"
    await ActionHandoff().run(dispatcher, resident_tracker(sender, "Xã Hòa Bình"), {})
    joined = " ".join(texts(dispatcher))
    assert "đã chuyển yêu cầu" in joined and "0201 000 0002" in joined and "OTP" in joined
    assert "/handoff_end" in payloads(dispatcher) and "/journey_resume" not in payloads(dispatcher)
    [post] = telegram_on.wait_for(lambda c: telegram_on.sent_to(-1001000000002)(c) and "Zalo" in c.params["text"], timeout=10)
    assert "toi can nguoi giup" in post.params["text"] and "/ask_help_menu" not in post.params["text"]
    assert "0912345678" not in post.params["text"]
    # asking again while it is open posts nothing new
    await ActionHandoff().run(CollectingDispatcher(), resident_tracker(sender, "Xã Hòa Bình"), {})
    assert len(telegram_on.find(lambda c: telegram_on.sent_to(-1001000000002)(c) and "Zalo" in c.params["text"])) == 1


async def test_without_a_group_or_fallback_chat_the_contact_is_given(telegram_on):
    dispatcher = CollectingDispatcher()
    await ActionHandoff().run(dispatcher, resident_tracker("zalo:ticket-action-2", "Xã Tân Lập"), {})
    assert "0201 000 0001" in " ".join(texts(dispatcher)) and "/handoff_end" not in payloads(dispatcher)


async def test_the_fallback_chat_takes_communes_without_a_group(telegram_on, monkeypatch):
    monkeypatch.setenv("TELEGRAM_HANDOFF_CHAT_ID", "-1009999")
    dispatcher = CollectingDispatcher()
    await ActionHandoff().run(dispatcher, resident_tracker("zalo:ticket-action-3", UNKNOWN), {})
    assert "/handoff_end" in payloads(dispatcher)
    assert telegram_on.wait_for(telegram_on.sent_to(-1009999), timeout=10)


async def test_a_refused_post_falls_back_to_the_contact(telegram_on):
    telegram_on.fail_next("sendMessage", 403, "Forbidden: bot was kicked from the supergroup chat")
    dispatcher = CollectingDispatcher()
    await ActionHandoff().run(dispatcher, resident_tracker("zalo:ticket-action-4", "Phường Quang Trung"), {})
    joined = " ".join(texts(dispatcher))
    assert "0201 000 0003" in joined and "đã chuyển yêu cầu" not in joined


# -- a fresh install: only the shipped sample rows ([MẪU]) ---------------------------------------
SAMPLE_COMMUNES = ("Tân Lập", "Hòa Bình", "Quang Trung", "Đồng Tâm", "Hùng Vương", "Yên Hòa")


def shown(dispatcher):
    """Everything the resident would see: texts, button titles and payloads."""
    return " ".join(
        [m.get("text") or "" for m in dispatcher.messages]
        + [b[k] for m in dispatcher.messages for b in m.get("buttons", []) for k in ("title", "payload")]
    )


def assert_no_sample(dispatcher):
    seen = shown(dispatcher)
    assert "MẪU" not in seen and "0200 000" not in seen, seen
    assert not any(name in seen for name in SAMPLE_COMMUNES), seen
    assert "/inform_commune" not in seen, seen


def test_only_sample_rows_the_commune_is_asked_without_sample_buttons(only_sample):
    dispatcher = CollectingDispatcher()
    ActionAskCommune().run(dispatcher, tracker(active_loop=FORM), {})
    assert "xã/phường nào" in texts(dispatcher)[0]
    assert_no_sample(dispatcher)


@pytest.mark.parametrize("typed", ["xa tan lap", "Xã Hòa Bình", "phuong quang trung", "xa khong co that"])
def test_only_sample_rows_any_commune_leads_to_the_general_way_at_once(only_sample, typed):
    dispatcher, result = validate(typed)
    assert result == {"commune": UNKNOWN, "commune_attempts": 0} and dispatcher.messages == []


@pytest.mark.parametrize("commune", ["Xã Tân Lập", "Xã Hòa Bình", "Phường Quang Trung", UNKNOWN])
async def test_only_sample_rows_the_handoff_gives_the_commune_committee(only_sample, no_telegram, commune):
    dispatcher = CollectingDispatcher()
    slots = {"commune": commune, **journey_slots("pay_bill", "which_bill")}
    await ActionHandoff().run(dispatcher, tracker(slots), {})
    assert "UBND xã/phường" in texts(dispatcher)[0]
    assert_no_sample(dispatcher)


async def test_only_sample_rows_no_ticket_goes_to_a_sample_group(only_sample, telegram_on):
    from bot.db.engine import session_factory
    from bot.handoff.tickets import TicketStore

    sender, started = "zalo:ticket-sample-1", time.monotonic()
    dispatcher = CollectingDispatcher()
    # a slot left from before (or typed by hand): the sample's Hòa Bình has the group -1001000000002
    await ActionHandoff().run(dispatcher, resident_tracker(sender, "Xã Hòa Bình"), {})
    assert "UBND xã/phường" in texts(dispatcher)[0] and "/handoff_end" not in payloads(dispatcher)
    assert_no_sample(dispatcher)
    assert TicketStore(session_factory()).active_for(sender) is None
    time.sleep(1)
    posted = [call for call in telegram_on.find(telegram_on.sent_to(-1001000000002))
              if call.at >= started and "toi can nguoi giup" in call.params.get("text", "")]
    assert posted == []


async def test_a_message_marked_capped_opens_no_ticket_and_points_to_the_committee(telegram_on):
    from bot.prompts import section

    sender, started = "rest-capped-1", time.monotonic()
    t = resident_tracker(sender, "Xã Hòa Bình")
    t.events[-1]["metadata"] = {"handoff_capped": True}
    dispatcher = CollectingDispatcher()
    await ActionHandoff().run(dispatcher, t, {})
    said = texts(dispatcher)
    assert said[0] == section("handoff")["capped"] and "UBND xã/phường" in said[0] and len(said[0]) <= 220
    assert "/handoff_end" not in payloads(dispatcher) and len(dispatcher.messages) <= 3
    time.sleep(1)
    assert [c for c in telegram_on.find(telegram_on.sent_to(-1001000000002))
            if c.at >= started and "toi can nguoi giup" in c.params.get("text", "")] == []
