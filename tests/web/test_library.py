"""The answer library pages through HTTP (aiohttp test server): results rendered
server-side, queries escaped, topic filter, printable handouts, 404s."""
import re

import pytest
from aiohttp.test_utils import TestClient, TestServer
from markupsafe import escape

from bot.db.engine import session_factory
from bot.library.catalogue import catalogue
from bot.settings import Settings
from bot.web.app import create_app
from bot.web.library import MAX_QUERY_CHARS, step_parts

ARTICLE = re.compile(r'<article class="entry (?:topic|journey)" id="([^"]+)"')
SHEET = re.compile(r'<section class="sheet (?:topic|journey)" id="([^"]+)"')


@pytest.fixture
async def client(tmp_path, monkeypatch):
    monkeypatch.delenv("ADMIN_USERNAME", raising=False)
    app = create_app(Settings.from_env({}), session_factory(f"sqlite:///{tmp_path / 'web.sqlite3'}"))
    async with TestClient(TestServer(app)) as test_client:
        yield test_client


async def page(client, path, status=200):
    answer = await client.get(path)
    assert answer.status == status, path
    assert answer.content_type == "text/html"
    return answer, await answer.text()


async def test_results_are_rendered_server_side_without_login(client):
    answer, body = await page(client, "/library?q=mo+tk+ngan+hang")
    found = ARTICLE.findall(body)
    assert found[0] == "ask_open_bank_account" and "journey-open_account" in found[:3]
    for message in catalogue().get("ask_open_bank_account").messages:
        assert str(escape(message)) in body
    assert 'value="mo tk ngan hang"' in body
    assert "Sao chép" in body and 'href="/library/print/bank?entry=ask_open_bank_account"' in body
    assert "default-src 'self'" in answer.headers["Content-Security-Policy"]


@pytest.mark.parametrize("attack,raw,escaped", [
    ("<script>alert(1)</script>", "<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;"),
    ('"><img src=x onerror=alert(1)>', "<img src=x", "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;"),
    ("</textarea><script>alert(1)</script>", "</textarea><script>", "&lt;/textarea&gt;&lt;script&gt;"),
])
async def test_an_injection_attempt_is_shown_only_escaped(client, attack, raw, escaped):
    answer = await client.get("/library", params={"q": attack})
    body = await answer.text()
    assert answer.status == 200
    assert raw not in body
    assert escaped in body
    assert body.count("<script") == 1  # only the page's own script tag


async def test_topic_filter(client):
    _, body = await page(client, "/library?topic=bills")
    assert ARTICLE.findall(body) == [e.id for e in catalogue().in_topic("bills")]
    assert '<option value="bills" selected>' in body

    _, body = await page(client, "/library?q=tien+dien&topic=bank")
    found = ARTICLE.findall(body)
    assert found and "ask_pay_electricity" not in found
    assert all(catalogue().get(i).topic == "bank" for i in found)


async def test_an_unknown_topic_filter_is_ignored_and_said(client):
    _, body = await page(client, "/library?q=tien+dien&topic=%3Cb%3Ex")
    assert "Không có chủ đề này" in body and "<b>x" not in body
    assert ARTICLE.findall(body)[0] == "ask_pay_electricity"


async def test_empty_query_lists_everything(client):
    _, body = await page(client, "/library")
    assert ARTICLE.findall(body) == [e.id for e in catalogue().entries]


async def test_a_long_query_is_cut(client):
    _, body = await page(client, "/library?q=" + "tien+dien+" * 500)
    assert f"{MAX_QUERY_CHARS} ký tự" in body
    value = re.search(r'id="q" name="q" value="([^"]*)"', body).group(1)
    assert len(value) <= MAX_QUERY_CHARS
    assert "ask_pay_electricity" in ARTICLE.findall(body)[:3]


async def test_no_result_says_what_to_try(client):
    _, body = await page(client, "/library?q=%F0%9F%99%82")  # 🙂
    assert ARTICLE.findall(body) == [] and "Không tìm thấy câu trả lời nào" in body


async def test_handout_of_a_topic_has_every_step_of_the_bill_journey_and_a_print_stylesheet(client):
    _, body = await page(client, "/library/print/bills")
    assert SHEET.findall(body) == [e.id for e in catalogue().in_topic("bills")]
    journey = catalogue().get("journey-pay_bill")
    for step in journey.messages:
        label, rest = step_parts(step)
        assert f"<strong>{label}</strong> {escape(rest)}</p>" in body
    assert 'id="print-button"' in body and ">In</button>" in body
    assert '<link rel="stylesheet" href="/static/library.css">' in body

    css = await (await client.get("/static/library.css")).text()
    print_rules = css[css.index("@media print"):]
    assert "break-after: page" in print_rules and "page-break-after: always" in print_rules
    assert re.search(r"\.no-print[^{]*\{\s*display:\s*none", print_rules)
    assert re.search(r"\.step \{ font-size: (1[6-9]|2\d)pt", print_rules)


async def test_handout_of_one_entry(client):
    _, body = await page(client, "/library/print/bills?entry=journey-pay_bill")
    assert SHEET.findall(body) == ["journey-pay_bill"]


@pytest.mark.parametrize("path", ["/library/print/no-such-topic", "/library/print/%3Cscript%3E",
                                  "/library/print/bills?entry=ask_vneid", "/library/print/bills?entry=nope"])
async def test_unknown_handout_is_a_404_in_vietnamese(client, path):
    _, body = await page(client, path, status=404)
    assert "Không có" in body and "Về thư viện câu trả lời" in body
    assert "<script>" not in body.replace('<script src="/static/library.js" defer></script>', "")
