"""The admin dashboard through HTTP (aiohttp test server), on SQLite and PostgreSQL:
no data without a session, login with CSRF and lock-out, pages, inbox, YAML, CSV."""
import csv
import io
import re
from datetime import datetime, timedelta, timezone

import pytest
import yaml
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import insert, select

from bot.db.engine import session_factory
from bot.db.models import HandoffTicket, QuestionLogEntry
from bot.questionlog.rollups import rebuild
from bot.settings import Settings
from bot.web.admin import format_duration
from bot.web.app import create_app
from bot.web.auth import SESSION_COOKIE, AdminAccounts

PASSWORD = "mat-khau-du-dai-123"
ADMIN_PAGES = ["/admin", "/admin/charts", "/admin/questions", "/admin/inbox", "/admin/inbox/export.yml", "/admin/export/questions.csv"]


def log_row(**values):
    now = datetime.now(timezone.utc)
    row = dict(asked_at=now - timedelta(hours=1), channel="zalo", sender_hash="s" * 64, conversation_id="c" * 64,
               text_masked="mo tai khoan ngan hang", intent="ask_open_bank_account", confidence=0.93,
               ranking=[{"name": "ask_open_bank_account", "confidence": 0.93}], fallback=False, out_of_scope=False,
               answer="utter_ask_open_bank_account", handoff=False)
    row.update(values)
    return row


@pytest.fixture
async def client(database, monkeypatch):
    monkeypatch.delenv("ADMIN_USERNAME", raising=False)
    sessions = session_factory(database)
    AdminAccounts(sessions).create("canbo", PASSWORD)
    rows = [log_row(sender_hash=f"{i % 7:064d}", conversation_id=f"{i % 9:064d}") for i in range(30)]
    rows += [log_row(text_masked=t, intent="nlu_fallback", confidence=0.2, fallback=True, answer="action_check_fallback",
                     conversation_id="f" * 64)
             for t in ["the bhyt het han lam lai o dau", "thẻ bảo hiểm y tế hết hạn làm lại ở đâu", "the bhyt bi mat"]]
    rows += [log_row(text_masked="goi [SĐT] giup toi", intent="request_human", handoff=True, conversation_id="h" * 64,
                     channel="telegram"),
             log_row(text_masked="=HYPERLINK(\"x\")", intent="out_of_scope", out_of_scope=True, channel="web",
                     asked_at=datetime.now(timezone.utc) - timedelta(days=3))]
    with sessions() as session:
        session.execute(insert(QuestionLogEntry), rows)
        rebuild(session)  # rows written outside the log writer: recompute the roll-ups
        session.commit()
    app = create_app(Settings.from_env({}), sessions)
    async with TestClient(TestServer(app)) as test_client:
        test_client.sessions = sessions
        yield test_client


async def login(client, username="canbo", password=PASSWORD):
    page = await client.get("/admin/login")
    token = re.search(r'name="csrf" value="([^"]+)"', await page.text()).group(1)
    return await client.post("/admin/login", data={"username": username, "password": password, "csrf": token},
                             allow_redirects=False)


def csrf_of(html):
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


@pytest.mark.parametrize("path", ADMIN_PAGES)
async def test_no_data_without_a_session(client, path):
    answer = await client.get(path, allow_redirects=False)
    assert answer.status == 302 and answer.headers["Location"] == "/admin/login"
    assert "mo tai khoan" not in await answer.text()


async def test_posting_without_a_session_is_refused(client):
    answer = await client.post("/admin/inbox", data={"ids": "1", "action": "ignore"}, allow_redirects=False)
    assert answer.status == 403


async def test_login_sets_a_safe_session_cookie_and_logout_ends_it(client):
    answer = await login(client)
    assert answer.status == 302 and answer.headers["Location"] == "/admin"
    cookie = next(v for k, v in answer.headers.items() if k == "Set-Cookie" and v.startswith(SESSION_COOKIE))
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/admin" in cookie
    overview = await client.get("/admin")
    assert overview.status == 200
    html = await overview.text()
    await client.post("/admin/logout", data={"csrf": csrf_of(html)}, allow_redirects=False)
    assert (await client.get("/admin", allow_redirects=False)).status == 302


async def test_wrong_password_and_unknown_user_get_the_same_answer(client):
    wrong, unknown = await login(client, password="sai-mat-khau-roi"), await login(client, username="nobody")
    assert wrong.status == unknown.status == 401
    assert "Sai tên đăng nhập hoặc mật khẩu." in await wrong.text()
    assert "Sai tên đăng nhập hoặc mật khẩu." in await unknown.text()


async def test_login_without_its_csrf_token_is_refused(client):
    await client.get("/admin/login")
    answer = await client.post("/admin/login", data={"username": "canbo", "password": PASSWORD, "csrf": "forged"},
                               allow_redirects=False)
    assert answer.status == 403
    assert (await client.get("/admin", allow_redirects=False)).status == 302


async def test_five_failures_lock_the_account(client):
    for _ in range(5):
        assert (await login(client, password="sai-mat-khau-roi")).status == 401
    locked = await login(client)
    assert locked.status == 401 and "khóa 15 phút" in await locked.text()


async def test_overview_in_vietnamese_with_babel_numbers(client):
    await login(client)
    html = await (await client.get("/admin")).text()
    assert 'lang="vi"' in html and "Tỷ lệ tự giải quyết" in html
    assert re.search(r'id="messages">35<', html)
    # 9 topic conversations + the fallback one + the hand-off one + the out-of-scope one; 10 contained
    assert re.search(r'id="conversations">12<', html)
    assert re.search(r'id="containment">83,3\s?%<', html)
    assert "<svg" in html
    english = await (await client.get("/admin?lang=en")).text()
    assert "Containment rate" in english and re.search(r'id="containment">83.3%<', english)


def handoff(hours_ago, channel="zalo", commune="Tân Lập", taken=None, response=None, reminded=None, rating=None):
    """A ticket opened `hours_ago`; taken/response/reminded are seconds after opening; a rating closes it."""
    opened = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(hours=hours_ago)

    def after(seconds):
        return None if seconds is None else opened + timedelta(seconds=seconds)

    return HandoffTicket(channel=channel, conversation_id=f"{channel}:{hours_ago}", commune=commune,
                         status="closed" if rating else "taken" if taken else "open", opened_at=opened,
                         taken_at=after(taken), first_response_at=after(response), reminded_at=after(reminded),
                         closed_at=after(600) if rating else None, rating=rating, rated_at=after(700) if rating else None)


async def test_overview_shows_the_handoff_figures(client):
    with client.sessions() as session:
        session.add_all([
            handoff(2, channel="telegram", reminded=900),  # waiting, the team was reminded
            handoff(3, taken=90, response=270),  # taken, in progress
            handoff(24, channel="rest", commune="Hòa Bình", taken=150, response=330, rating=5),  # web chat
            handoff(48, taken=30, response=90, rating=4),
            handoff(40 * 24, taken=3000, response=3000, rating=1),  # before the period
        ])
        session.commit()
    await login(client)
    html = await (await client.get("/admin")).text()
    assert "Chuyển cho Tổ công nghệ số cộng đồng" in html
    figures = {name: re.search(rf'id="handoffs-{name}">([^<]*)<', html).group(1)
               for name in ("opened", "taken", "closed", "open", "reminded", "take", "response", "rating")}
    assert figures == {"opened": "4", "taken": "3", "closed": "2", "open": "2", "reminded": "1",
                       "take": "1 phút 30 giây", "response": "4 phút 30 giây", "rating": "4,5/5"}
    # p90 interpolated between the two slowest: 90 + 0.8 * 60 s and 270 + 0.8 * 60 s
    assert "9/10 trường hợp trong vòng 2 phút 18 giây" in html and "trong vòng 5 phút 18 giây" in html
    communes = re.search(r'id="handoff-communes">.*?<tbody>(.*?)</tbody>', html, re.S).group(1)
    rows = [re.findall(r"<td[^>]*>\s*([^<]*?)\s*</td>", row) for row in re.findall(r"<tr>(.*?)</tr>", communes, re.S)]
    assert rows == [["Tân Lập", "3", "1", "4"], ["Hòa Bình", "1", "1", "5"]]
    ratings = re.search(r'id="handoff-ratings">(.*?)</table>', html, re.S).group(1)
    assert re.findall(r"<td>(\d) ★</td><td class=\"num\">(\d+)</td>", ratings) == [
        ("5", "1"), ("4", "1"), ("3", "0"), ("2", "0"), ("1", "0")]

    english = await (await client.get("/admin?lang=en")).text()
    assert "Hand-offs to the commune teams" in english and 'id="handoffs-take">1 min 30 sec<' in english
    assert 'id="handoffs-rating">4.5/5<' in english
    web = await (await client.get("/admin?channel=web")).text()  # the web chat's tickets say `rest`
    assert 'id="handoffs-opened">1<' in web and 'id="handoffs-rating">5/5<' in web
    quiet = await (await client.get("/admin?channel=telegram&from=2020-01-01&to=2020-01-31")).text()
    assert "No hand-offs in this period." in quiet and 'id="handoffs-opened"' not in quiet


@pytest.mark.parametrize("seconds, vi, en", [
    (None, "–", "–"), (0.4, "0 giây", "0 sec"), (59.6, "1 phút", "1 min"), (912, "15 phút 12 giây", "15 min 12 sec"),
    (3599, "59 phút 59 giây", "59 min 59 sec"), (3630, "1 giờ", "1 hr"), (7199, "1 giờ 59 phút", "1 hr 59 min"),
    (90061, "1 ngày 1 giờ", "1 day 1 hr"),
])
def test_durations_read_in_two_units_at_most(seconds, vi, en):
    assert (format_duration(seconds, "vi"), format_duration(seconds, "en")) == (vi, en)


def add_small_talk(client):
    with client.sessions() as session:
        session.execute(insert(QuestionLogEntry), [log_row(text_masked="chao em", intent="greet", answer="utter_greet")])
        rebuild(session)
        session.commit()


async def test_charts_page_has_three_charts_and_channel_filter_works(client):
    await login(client)
    add_small_talk(client)
    html = await (await client.get("/admin/charts")).text()
    assert html.count("<svg") == 3
    # topics in the admins' words, each row linked to its answer page; small talk apart
    assert "Mở tài khoản ngân hàng" in html and ">ask_open_bank_account<" not in html
    assert '<a href="/admin/answers/entry/ask_open_bank_account">' in html
    assert html.index("Chào hỏi, cảm ơn, có/không") > html.index('<a href="/admin/answers/entry/ask_open_bank_account">')
    assert "Lời chào, giới thiệu trợ lý" in html.split("Chào hỏi, cảm ơn, có/không")[1]
    telegram = await (await client.get("/admin?channel=telegram")).text()
    assert re.search(r'id="messages">1<', telegram)


async def test_top_questions_show_masked_examples(client):
    await login(client)
    add_small_talk(client)
    html = await (await client.get("/admin/questions")).text()
    assert '<a href="/admin/answers/entry/ask_open_bank_account">' in html and "mo tai khoan ngan hang" in html
    assert "goi [SĐT] giup toi" in html
    assert "Muốn gặp người hỗ trợ" in html  # a topic with no answer page: its title, no link
    assert "Lời chào, giới thiệu trợ lý" in html.split("Chào hỏi, cảm ơn, có/không")[1]


async def test_inbox_clusters_assign_and_export_yaml(client):
    await login(client)
    html = await (await client.get("/admin/inbox")).text()
    ids = re.findall(r'name="ids" value="([\d,]+)"', html)
    assert len(ids) == 1 and len(ids[0].split(",")) == 3, "the three BHYT messages form one cluster"
    refused = await client.post("/admin/inbox", data={"ids": ids[0], "action": "new_topic", "new_topic": "ask_health_insurance"},
                                allow_redirects=False)
    assert refused.status == 403, "a form without its CSRF token is refused"
    saved = await client.post("/admin/inbox", data={"ids": ids[0], "action": "new_topic", "new_topic": "ask_health_insurance",
                                                    "csrf": csrf_of(html)})
    assert saved.status == 200 and "Đã lưu: 3 tin nhắn." in await saved.text()
    assert 'name="ids"' not in await saved.text()
    exported = await client.get("/admin/inbox/export.yml")
    data = yaml.safe_load(await exported.text())
    assert data["nlu"][0]["intent"] == "ask_health_insurance"
    assert "the bhyt bi mat" in data["nlu"][0]["examples"]


async def test_inbox_refuses_unknown_topics(client):
    await login(client)
    html = await (await client.get("/admin/inbox")).text()
    ids = re.findall(r'name="ids" value="([\d,]+)"', html)[0]
    answer = await client.post("/admin/inbox", data={"ids": ids, "action": "assign", "intent": "no_such", "csrf": csrf_of(html)})
    assert "Vui lòng chọn một chủ đề có sẵn." in await answer.text()
    with client.sessions() as session:
        assert session.execute(select(QuestionLogEntry.review_status).where(QuestionLogEntry.fallback)).scalars().all() == [None] * 3


async def test_csv_export_has_the_columns_and_masked_rows(client):
    await login(client)
    answer = await client.get("/admin/export/questions.csv")
    assert answer.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO((await answer.read()).decode("utf-8-sig"))))
    assert rows[0][:4] == ["asked_at", "channel", "text_masked", "intent"]
    assert len(rows) == 1 + 35
    assert ["telegram", "goi [SĐT] giup toi", "request_human"] in [r[1:4] for r in rows]
    assert "'=HYPERLINK(\"x\")" in [r[2] for r in rows], "formulas are neutralised"
    since = (datetime.now(timezone(timedelta(hours=7))) - timedelta(days=1)).date().isoformat()
    recent = list(csv.reader(io.StringIO((await (await client.get(
        "/admin/export/questions.csv?from=" + since)).read()).decode("utf-8-sig"))))
    assert len(recent) == 1 + 34


async def test_csv_export_neutralises_tab_and_carriage_return_starts(client):
    with client.sessions() as session:
        session.execute(insert(QuestionLogEntry), [
            log_row(text_masked="\t=1+1", intent="out_of_scope", channel="web"),
            log_row(text_masked="\r=HYPERLINK(\"y\")", intent="out_of_scope", channel="web"),
        ])
        session.commit()
    await login(client)
    answer = await client.get("/admin/export/questions.csv")
    cells = [r[2] for r in csv.reader(io.StringIO((await answer.read()).decode("utf-8-sig"), newline=""))]
    assert "'\t=1+1" in cells and "'\r=HYPERLINK(\"y\")" in cells
    assert not [c for c in cells if c[:1] in ("=", "+", "@", "\t", "\r")]


@pytest.fixture
async def proxied(tmp_path, monkeypatch):
    """The web app behind a trusted proxy on 127.0.0.1: X-Forwarded-For names the client."""
    monkeypatch.setenv("FORWARDED_ALLOW_IPS", "127.0.0.1")
    monkeypatch.delenv("ADMIN_USERNAME", raising=False)
    sessions = session_factory(f"sqlite:///{tmp_path / 'admin.sqlite3'}")
    AdminAccounts(sessions).create("admin", PASSWORD)
    async with TestClient(TestServer(create_app(Settings.from_env({}), sessions), host="127.0.0.1")) as client:
        client.sessions = sessions
        yield client


async def login_from(client, address, password, username="admin", proto="http"):
    headers = {"X-Forwarded-For": address, "X-Forwarded-Proto": proto}
    page = await client.get("/admin/login", headers=headers)
    token = csrf_of(await page.text())
    return await client.post("/admin/login", data={"username": username, "password": password, "csrf": token},
                             headers=headers, allow_redirects=False)


async def test_a_stranger_cannot_lock_the_admin_out(proxied):
    for _ in range(6):
        assert (await login_from(proxied, "203.0.113.9", "sai-mat-khau-roi")).status in (401, 429)
    assert (await login_from(proxied, "203.0.113.9", PASSWORD)).status in (401, 429), "the guesser's address stays locked"
    answer = await login_from(proxied, "198.51.100.7", PASSWORD)
    assert answer.status == 302, "the admin, from an address without failures, still gets in"


async def test_failed_logins_per_address_are_throttled(proxied):
    statuses = [(await login_from(proxied, "203.0.113.10", "sai-mat-khau-roi", username=f"user{i}")).status
                for i in range(12)]
    assert statuses[:10] == [401] * 10 and statuses[10:] == [429, 429]
    assert "15" in await (await login_from(proxied, "203.0.113.10", PASSWORD)).text()


async def test_parallel_wrong_passwords_are_all_counted_on_sqlite(proxied):
    import asyncio

    results = await asyncio.gather(*[login_from(proxied, f"203.0.113.{20 + i}", "sai-mat-khau-roi") for i in range(4)])
    assert [r.status for r in results] == [401] * 4
    with proxied.sessions() as session:
        from bot.db.models import AdminUser

        assert session.execute(select(AdminUser.failed_logins)).scalar_one() == 4


async def test_cookies_are_secure_behind_a_tls_proxy(proxied):
    page = await proxied.get("/admin/login", headers={"X-Forwarded-For": "198.51.100.8", "X-Forwarded-Proto": "https"})
    assert "Secure" in page.headers["Set-Cookie"]
    plain = await proxied.get("/admin/login", headers={"X-Forwarded-For": "198.51.100.8"})
    assert "Secure" not in plain.headers["Set-Cookie"]
    headers = {"X-Forwarded-For": "198.51.100.8", "X-Forwarded-Proto": "https"}
    answer = await proxied.post("/admin/login", headers=headers, allow_redirects=False, data={
        "username": "admin", "password": PASSWORD, "csrf": csrf_of(await plain.text())})
    assert answer.status == 302
    assert any("tls_admin=" in c and "Secure" in c for c in answer.headers.getall("Set-Cookie"))


async def test_a_password_change_ends_the_accounts_sessions(proxied):
    answer = await login_from(proxied, "198.51.100.9", PASSWORD)
    assert answer.status == 302
    assert (await proxied.get("/admin", allow_redirects=False)).status == 200
    AdminAccounts(proxied.sessions).set_password("admin", "mat-khau-moi-dai-456")
    assert (await proxied.get("/admin", allow_redirects=False)).status == 302


async def test_overview_warns_until_a_real_directory_is_imported(client):
    from bot.directory import Team
    from bot.directory.store import replace_teams

    await login(client)
    replace_teams(client.sessions, [Team("Xã Tân Lập", "[MẪU] Tổ công nghệ số cộng đồng xã Tân Lập", "0200 000 0001")])
    html = await (await client.get("/admin?lang=vi")).text()
    assert 'id="directory-warning"' in html and "UBND xã/phường" in html
    replace_teams(client.sessions, [Team("Xã Tân Lập", "Tổ công nghệ số cộng đồng xã Tân Lập", "0912 345 678")])
    assert 'id="directory-warning"' not in await (await client.get("/admin")).text()
