"""End to end: an approver publishes in the admin; the next Telegram message gets it, no restart, no training.

The running assistant (tests/conftest.py: `python -m bot serve`, Telegram faked
on 127.0.0.1) and its web app; the admin works through the same HTTP forms a
browser posts. Then the resident's own words set the form of address.
"""
import http.cookiejar
import itertools
import re
import time
import urllib.parse
import urllib.request

import pytest

from bot.answers import store
from bot.db.engine import session_factory
from bot.web.auth import AdminAccounts
from bot.journeys.render import start_payload
from tests.channels.test_telegram import say, update_ids, webhook
from tests.fakes.telegram_api import callback_update

PASSWORD = "mat-khau-du-dai-123"
NEW_TEXT = "Dạ, bản mới: để trả tiền nước, anh/chị cần mã khách hàng in trên hóa đơn nước ạ."
chats = itertools.count(830_000_001)


class Browser:
    """An admin's browser: cookies kept, forms posted with their CSRF token."""

    def __init__(self, base):
        self.base = base
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

    def get(self, path):
        with self.opener.open(self.base + path, timeout=30) as response:
            return response.status, response.read().decode()

    def post(self, path, data):
        body = urllib.parse.urlencode(data).encode()
        try:
            with self.opener.open(urllib.request.Request(self.base + path, data=body), timeout=30) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()

    def login(self, username):
        _, page = self.get("/admin/login")
        csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
        status, _ = self.post("/admin/login", {"username": username, "password": PASSWORD, "csrf": csrf})
        assert status == 200  # redirected to the overview
        _, page = self.get("/admin/answers")
        return re.search(r'name="csrf" value="([^"]+)"', page).group(1) if 'name="csrf"' in page else None


def wait_for_text(assistant, fake_telegram, wanted, timeout=10):
    """The first Telegram answer to "trả tiền nước" once it contains ``wanted`` (the poll is 2 s)."""
    deadline = time.monotonic() + timeout
    while True:
        replies = say(assistant, fake_telegram, next(chats), "trả tiền nước như thế nào")
        if wanted in replies[0].params["text"] or time.monotonic() > deadline:
            return replies[0].params["text"]
        time.sleep(0.5)


@pytest.fixture(scope="module")
def approver(assistant):
    sessions = session_factory(assistant["DATABASE_URL"])
    AdminAccounts(sessions).create("duyet_e2e", PASSWORD, role="approver")
    return Browser(f"http://127.0.0.1:{assistant['WEB_PORT']}")


def test_a_published_text_reaches_telegram_at_once_and_revert_brings_the_old_one_back(assistant, fake_telegram, approver):
    old = say(assistant, fake_telegram, next(chats), "trả tiền nước như thế nào")[0].params["text"]
    assert "mã danh bộ" in old
    csrf = approver.login("duyet_e2e")
    edit = "/admin/answers/edit?key=" + urllib.parse.quote(store.response_key("utter_ask_pay_water"), safe="")
    status, page = approver.post(edit, {
        "csrf": csrf, "text": NEW_TEXT, "buttons": "", "source": "Hóa đơn của công ty cấp nước",
        "checked_on": "2026-12-01", "reason": "Kiểm thử đầu-cuối", "action": "publish",
    })
    assert status == 200 and "Đã đăng" in page
    started = time.monotonic()
    assert wait_for_text(assistant, fake_telegram, "bản mới") == NEW_TEXT
    assert time.monotonic() - started < 10

    with session_factory(assistant["DATABASE_URL"])() as session:
        answer = store.answer_by_key(session, store.response_key("utter_ask_pay_water"))
        first = min(v.number for v in store.versions(session, answer.id))
    status, _ = approver.post("/admin/answers/revert", {"csrf": csrf, "key": store.response_key("utter_ask_pay_water"),
                                                        "number": str(first)})
    assert status == 200
    assert wait_for_text(assistant, fake_telegram, "mã danh bộ") == old


def said_now(assistant, fake_telegram, chat, text=None, button=None):
    """The texts of the answers to this message (or button press) only (the fake keeps every message of the chat)."""
    before = len(fake_telegram.find(fake_telegram.sent_to(chat)))
    if button is None:
        replies = say(assistant, fake_telegram, chat, text)
    else:
        status, _ = webhook(assistant, callback_update(next(update_ids), chat, button, f"cbq-{chat}"))
        assert status == 200
        replies = fake_telegram.settle(fake_telegram.sent_to(chat))
    return " ".join(r.params["text"] for r in replies[before:])


def test_the_resident_is_addressed_as_they_present_themselves_for_the_conversation(assistant, fake_telegram):
    chat = next(chats)
    first = said_now(assistant, fake_telegram, chat, "cháu ơi, bác muốn trả tiền nước thì làm sao")
    assert "bác cần mã khách hàng" in first and "anh/chị" not in first
    later = said_now(assistant, fake_telegram, chat, "còn trả tiền điện thì sao")  # no form in this message: kept
    assert "mã khách hàng" in later and "anh/chị" not in later and "bác" in later
    # journey steps come from the action server: said in the same form
    spoken = said_now(assistant, fake_telegram, chat, button=start_payload("open_account"))
    assert "bác đã có thẻ căn cước" in spoken and "anh/chị" not in spoken
    other = say(assistant, fake_telegram, next(chats), "tui muốn trả tiền nước")
    assert "anh/chị cần mã khách hàng" in other[0].params["text"]
