"""The answer library (pages, handouts, Telegram inline search) shows the published answers."""
import datetime

from bot.answers import published, store
from bot.db.engine import session_factory
from bot.library.search import search

APPROVER = store.Actor("duyet", store.APPROVER)


def test_a_publish_reaches_the_library_and_its_search(monkeypatch, tmp_path):
    url = f"sqlite:///{tmp_path / 'library.sqlite3'}"
    monkeypatch.setenv("DATABASE_URL", url)
    before = published.library_catalogue().get("ask_pay_water")
    assert "mã danh bộ" in before.text
    new = {"variations": [{"text": "Dạ, trả tiền nước bằng mã khách hàng, mới kiểm tra ạ.",
                           "buttons": [{"title": "👤 Gặp người hỗ trợ", "payload": "/request_human"}]}]}
    sources = {"sources": [{"title": "Công ty cấp nước", "kind": "place", "checked": "2026-12-02"}]}
    store.propose(session_factory(url), store.response_key("utter_ask_pay_water"), new, APPROVER, "Đổi", "Nguồn",
                  datetime.date(2026, 12, 2), publish=True)
    store.propose(session_factory(url), store.source_key("ask_pay_water"), sources, APPROVER, "Đổi", "Nguồn",
                  datetime.date(2026, 12, 2), publish=True)
    after = published.library_catalogue().get("ask_pay_water")
    assert after.messages[0] == "Dạ, trả tiền nước bằng mã khách hàng, mới kiểm tra ạ."
    assert after.updated == datetime.date(2026, 12, 2)
    found = search("tra tien nuoc moi kiem tra", limit=3)
    assert found and found[0].id == "ask_pay_water" and "mới kiểm tra" in found[0].text
