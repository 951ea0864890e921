"""Admin "Câu trả lời" pages through HTTP: list and search, edit with review, role rules, CSRF, escaping."""
import re

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.answers import live, store
from bot.db.engine import session_factory
from bot.settings import Settings
from bot.web.app import create_app
from bot.web.auth import AdminAccounts

PASSWORD = "mat-khau-du-dai-123"
KEY = store.response_key("utter_ask_pay_water")
EDIT = "/admin/answers/edit?key=response%3Autter_ask_pay_water"
HUMAN = "👤 Gặp người hỗ trợ | /request_human"


@pytest.fixture
async def client(monkeypatch, tmp_path):
    url = f"sqlite:///{tmp_path / 'admin.sqlite3'}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.delenv("ADMIN_USERNAME", raising=False)
    sessions = session_factory(url)
    accounts = AdminAccounts(sessions)
    accounts.create("bientap", PASSWORD, role="editor")
    accounts.create("bientap2", PASSWORD, role="editor")
    accounts.create("duyet", PASSWORD, role="approver")
    live.snapshot()  # seeds the answers
    app = create_app(Settings.from_env({}), sessions)
    async with TestClient(TestServer(app)) as test_client:
        test_client.sessions = sessions
        yield test_client


def csrf_of(html):
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


async def login(client, username):
    client.session.cookie_jar.clear()
    page = await client.get("/admin/login")
    answer = await client.post("/admin/login", data={"username": username, "password": PASSWORD, "csrf": csrf_of(await page.text())},
                               allow_redirects=False)
    assert answer.status == 302
    return csrf_of(await (await client.get("/admin/answers")).text())


def form(csrf, text="Dạ, trả tiền nước bằng mã khách hàng ạ.", action="review", **extra):
    data = {"csrf": csrf, "text": text, "buttons": HUMAN, "source": "Công ty cấp nước", "checked_on": "2026-12-01",
            "reason": "Cập nhật", "action": action}
    data.update(extra)
    return data


def published_text(client):
    with client.sessions() as session:
        return store.published(session)[KEY]["variations"][0]["text"]


async def test_the_list_shows_topics_in_vietnamese_and_search_ignores_diacritics(client):
    await login(client, "bientap")
    page = await (await client.get("/admin/answers")).text()
    assert "Trả tiền nước" in page and "ask_pay_water" not in page.split("<main>")[1].split("entry/ask_pay_water")[0][-5:]
    found = await (await client.get("/admin/answers?q=tra+tien+nuoc")).text()
    assert 'href="/admin/answers/entry/ask_pay_water"' in found
    assert 'href="/admin/answers/entry/ask_open_bank_account"' not in found
    entry = await (await client.get("/admin/answers/entry/ask_pay_water")).text()
    assert "mã danh bộ" in entry and "response%3Autter_ask_pay_water" in entry.replace(":", "%3A")


async def test_an_editor_sends_to_review_and_cannot_publish(client):
    csrf = await login(client, "bientap")
    before = published_text(client)
    answer = await client.post(EDIT, data=form(csrf), allow_redirects=False)
    assert answer.status == 303
    assert published_text(client) == before  # waiting for review
    refused = await client.post(EDIT, data=form(csrf, action="publish"), allow_redirects=False)
    assert refused.status == 403
    assert published_text(client) == before


async def test_an_editor_cannot_approve_anyones_change(client):
    csrf = await login(client, "bientap")
    await client.post(EDIT, data=form(csrf), allow_redirects=False)
    with client.sessions() as session:
        version = store.pending(session)[0][0]
    csrf = await login(client, "bientap2")
    refused = await client.post("/admin/answers/review", data={"csrf": csrf, "version": version.id, "action": "approve"},
                                allow_redirects=False)
    assert refused.status == 403
    assert "Dạ, trả tiền nước bằng mã" not in published_text(client)


async def test_an_approver_publishes_an_editors_change_after_seeing_the_diff(client):
    csrf = await login(client, "bientap")
    await client.post(EDIT, data=form(csrf), allow_redirects=False)
    csrf = await login(client, "duyet")
    review = await (await client.get("/admin/answers/review")).text()
    assert 'class="diff-added"' in review and "Dạ, trả tiền nước bằng mã khách hàng ạ." in review
    version = re.search(r'name="version" value="(\d+)"', review).group(1)
    answer = await client.post("/admin/answers/review", data={"csrf": csrf, "version": version, "action": "approve"},
                               allow_redirects=False)
    assert answer.status == 303
    assert published_text(client) == "Dạ, trả tiền nước bằng mã khách hàng ạ."


async def test_an_approver_publishes_directly_and_reverts_in_one_click(client):
    original = published_text(client)
    csrf = await login(client, "duyet")
    answer = await client.post(EDIT, data=form(csrf, action="publish"), allow_redirects=False)
    assert answer.status == 303 and published_text(client) == "Dạ, trả tiền nước bằng mã khách hàng ạ."
    page = await (await client.get(EDIT)).text()
    assert "So sánh" in page and "Quay lại bản này" in page
    diff = await (await client.get(EDIT.replace("/edit?", "/diff?") + "&a=2&b=1")).text()
    assert 'class="diff-removed"' in diff
    reverted = await client.post("/admin/answers/revert", data={"csrf": csrf, "key": KEY, "number": "1"}, allow_redirects=False)
    assert reverted.status == 303
    assert published_text(client) == original


async def test_every_post_needs_the_csrf_token(client):
    await login(client, "duyet")
    refused = await client.post(EDIT, data=form("wrong", action="publish"), allow_redirects=False)
    assert refused.status == 403
    refused = await client.post("/admin/answers/revert", data={"key": KEY, "number": "1"}, allow_redirects=False)
    assert refused.status == 403


async def test_without_a_session_nothing_is_shown_or_changed(client):
    answer = await client.get("/admin/answers", allow_redirects=False)
    assert answer.status == 302
    refused = await client.post(EDIT, data=form("x", action="publish"), allow_redirects=False)
    assert refused.status == 403


@pytest.mark.parametrize("change, message", [
    ({"text": "x" * 221}, "quá 220"),
    ({"source": ""}, "nguồn"),
    ({"checked_on": ""}, "nguồn"),
    ({"reason": ""}, "lý do"),
    ({"buttons": "Nút không lệnh"}, "Dòng nút 1"),
])
async def test_a_change_that_breaks_a_rule_is_refused_and_kept_in_the_form(client, change, message):
    csrf = await login(client, "duyet")
    before = published_text(client)
    answer = await client.post(EDIT, data=form(csrf, action="publish", **change), allow_redirects=False)
    assert answer.status == 400
    page = await answer.text()
    assert message.lower() in page.lower()
    assert published_text(client) == before


async def test_the_button_to_a_person_cannot_be_removed(client):
    csrf = await login(client, "duyet")
    answer = await client.post(EDIT.replace("utter_ask_pay_water", "utter_ask_pay_water_3"),
                               data=form(csrf, action="publish", buttons="📋 Menu | /ask_help_menu"), allow_redirects=False)
    assert answer.status == 400
    assert "Gặp người hỗ trợ" in await answer.text()


async def test_what_an_admin_typed_is_shown_escaped(client):
    csrf = await login(client, "duyet")
    text = "<script>alert(1)</script> Dạ ạ"
    await client.post(EDIT, data=form(csrf, text=text, action="publish"), allow_redirects=False)
    page = await (await client.get(EDIT)).text()
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


async def test_a_version_no_longer_in_review_cannot_be_published_again(client):
    csrf = await login(client, "duyet")
    with client.sessions() as session:
        answer = store.answer_by_key(session, KEY)
        first = store.versions(session, answer.id)[-1]
    answer = await client.post("/admin/answers/review", data={"csrf": csrf, "version": first.id, "action": "approve"},
                               allow_redirects=False)
    assert answer.status == 400
    assert "không còn chờ duyệt" in await answer.text()
