import json
import re

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.community_team import ActionCommunityTeam, texts
from bot.directory import Directory, Team
from tests.actions.helpers import payloads, texts as said, tracker

SAMPLE_PHONES = {"Xã Tân Lập": "0200 000 0001", "Xã Hòa Bình": "0200 000 0002", "Phường Quang Trung": "0200 000 0003"}


@pytest.fixture(autouse=True)
def imported_directory(monkeypatch, tmp_path_factory):
    """A real directory imported (the shipped sample's rows without the [MẪU] mark):
    sample rows are never shown to residents (test_the_shipped_sample_is_never_shown)."""
    from tests.conftest import ROOT

    folder = tmp_path_factory.mktemp("imported-directory")
    sample = (ROOT / "data" / "team_directory.sample.csv").read_text(encoding="utf-8")
    (folder / "teams.csv").write_text(sample.replace("[MẪU] ", ""), encoding="utf-8")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{folder / 'directory.sqlite3'}")
    monkeypatch.setenv("TEAM_DIRECTORY_CSV", str(folder / "teams.csv"))


def answer(**kwargs):
    dispatcher = CollectingDispatcher()
    events = ActionCommunityTeam().run(dispatcher, tracker(**kwargs), {})
    assert events == []
    return dispatcher


def phones_in(dispatcher):
    return re.findall(r"\d{4} \d{3} \d{4}", " ".join(said(dispatcher)))


def test_a_commune_button_gives_that_team():
    entities = [{"entity": "commune", "value": "Xã Tân Lập"}]
    dispatcher = answer(intent="inform_commune", text='/inform_commune{"commune": "Xã Tân Lập"}', entities=entities)
    (text,) = said(dispatcher)
    assert text.startswith("Dạ, Tổ công nghệ số ở xã Tân Lập: Tổ công nghệ số cộng đồng xã Tân Lập")
    assert phones_in(dispatcher) == ["0200 000 0001"] and "UBND xã Tân Lập" in text


@pytest.mark.parametrize("intent, text, commune", [
    ("ask_community_team", "sdt to cong nghe so xa hoa binh", "Xã Hòa Bình"),
    ("ask_community_team", "Tổ công nghệ số phường Quang Trung ở đâu ạ", "Phường Quang Trung"),
    ("inform_commune", "toi o phuong quang trung", "Phường Quang Trung"),
])
def test_a_commune_named_in_the_message(intent, text, commune):
    assert phones_in(answer(intent=intent, text=text)) == [SAMPLE_PHONES[commune]]


def test_the_commune_of_an_earlier_hand_off_is_used_for_a_question():
    dispatcher = answer(slots={"commune": "Xã Hòa Bình"}, intent="ask_community_team", text="to cong nghe so o dau")
    assert phones_in(dispatcher) == ["0200 000 0002"]


def test_the_general_answer_offers_a_button_per_commune():
    dispatcher = answer(slots={"commune": "-"}, intent="ask_community_team", text="to cong nghe so cong dong la gi")
    intro, choose = said(dispatcher)
    assert "Tổ công nghệ số cộng đồng" in intro and "VNeID" in intro
    assert "UBND xã/phường" in choose and not phones_in(dispatcher)  # never a number without a commune
    buttons = payloads(dispatcher)
    assert len(buttons) == 6 and all(p.startswith("/inform_commune{") for p in buttons)
    assert json.loads(buttons[0][len("/inform_commune"):]) == {"commune": dispatcher.messages[1]["buttons"][0]["title"]}


def test_a_long_directory_asks_to_type_the_commune(monkeypatch):
    import actions.community_team as module

    many = Directory([Team(f"Xã Số {i}", f"Tổ {i}", "0912345678") for i in range(9)])
    monkeypatch.setattr(module, "default_directory", lambda: many)
    dispatcher = answer(intent="ask_community_team", text="to cong nghe so")
    assert "gõ tên xã/phường" in said(dispatcher)[1] and "xã Số 0" in said(dispatcher)[1]
    assert payloads(dispatcher) == []


def test_an_empty_directory_points_to_the_commune_committee(monkeypatch):
    import actions.community_team as module

    monkeypatch.setattr(module, "default_directory", lambda: Directory([]))
    dispatcher = answer(intent="ask_community_team", text="to cong nghe so")
    assert "UBND xã/phường" in said(dispatcher)[1] and payloads(dispatcher) == []


@pytest.mark.parametrize("kwargs", [
    {"intent": "inform_commune", "text": "toi o xa phu loc"},
    {"intent": "inform_commune", "text": "/inform_commune", "entities": [{"entity": "commune", "value": "Xã Phú Lộc"}]},
    {"intent": "inform_commune", "text": "xa phu loc", "slots": {"commune": "Xã Tân Lập"}},  # a new commune wins
])
def test_a_commune_not_in_the_directory_gets_no_invented_number(kwargs):
    dispatcher = answer(**kwargs)
    (text,) = said(dispatcher)
    assert text == texts()["not_found"] and not phones_in(dispatcher)


def test_texts_follow_the_content_rules():
    for name, text in texts().items():
        assert text.startswith(("Dạ", "Anh/chị", "Để")) and len(text) <= 400, name
        assert not re.search(r"\b(huyện|quận)\b", text.lower()), name


@pytest.mark.parametrize("kwargs", [
    {"intent": "ask_community_team", "text": "to cong nghe so cong dong la gi", "slots": {"commune": "-"}},
    {"intent": "ask_community_team", "text": "sdt to cong nghe so xa hoa binh"},
    {"intent": "inform_commune", "text": "/inform_commune", "entities": [{"entity": "commune", "value": "Xã Tân Lập"}]},
])
def test_the_shipped_sample_is_never_shown(monkeypatch, kwargs):
    """With only the [MẪU] rows: no sample team, no placeholder phone, no sample commune buttons."""
    from tests.conftest import ROOT

    monkeypatch.setenv("TEAM_DIRECTORY_CSV", str(ROOT / "data" / "team_directory.sample.csv"))
    dispatcher = answer(**kwargs)
    joined = " ".join(said(dispatcher))
    assert "MẪU" not in joined and not phones_in(dispatcher) and payloads(dispatcher) == []
    assert "UBND xã/phường" in joined
