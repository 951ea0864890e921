"""The admin dashboard in headless Debian Chromium (Playwright): log in, see the
overview with its charts, open the inbox, assign a cluster, download the YAML.
Screenshots go to test-artifacts/."""

import pytest
import yaml
from aiohttp.test_utils import TestServer
from playwright.async_api import expect

from bot.db.engine import session_factory
from bot.questionlog.seed import seed
from bot.settings import Settings
from bot.web.app import create_app
from bot.web.auth import AdminAccounts
from tests.web.test_chat_browser import ARTIFACTS

PASSWORD = "mat-khau-cua-can-bo-1"


@pytest.fixture
async def dashboard(tmp_path, monkeypatch):
    monkeypatch.delenv("ADMIN_USERNAME", raising=False)
    url = f"sqlite:///{tmp_path / 'dashboard.sqlite3'}"
    seed(url, rows=3000, days=20)  # well inside the default period (last 30 days)
    sessions = session_factory(url)
    AdminAccounts(sessions).create("canbo", PASSWORD)
    server = TestServer(create_app(Settings.from_env({}), sessions), host="127.0.0.1")
    await server.start_server()
    yield f"http://127.0.0.1:{server.port}"
    await server.close()


async def test_admin_logs_in_reviews_and_exports(dashboard, tmp_path, browser):
    ARTIFACTS.mkdir(exist_ok=True)
    page = await (await browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True, locale="vi-VN")).new_page()

    await page.goto(dashboard + "/admin")
    await expect(page).to_have_url(dashboard + "/admin/login")
    await page.fill("input[name=username]", "canbo")
    await page.fill("input[name=password]", PASSWORD)
    await page.get_by_role("button", name="Đăng nhập").click()
    await expect(page.get_by_role("heading", name="Tổng quan")).to_be_visible()
    assert int((await page.text_content("#messages")).replace(".", "")) == 3000
    await expect(page.locator("svg.chart")).to_have_count(1)
    await page.screenshot(path=str(ARTIFACTS / "admin-overview.png"), full_page=True)

    await page.get_by_role("link", name="Biểu đồ").click()
    await expect(page.locator("svg.chart")).to_have_count(3)
    await page.screenshot(path=str(ARTIFACTS / "admin-charts.png"), full_page=True)

    await page.get_by_role("link", name="Chưa trả lời được").click()
    clusters = page.locator("section.cluster")
    before = await clusters.count()
    assert before >= 3, "the synthetic month has several themes of unanswered questions"
    first = clusters.first
    label = await first.locator("h2").text_content()
    await first.locator("input[name=new_topic]").fill("ask_health_insurance")
    await first.get_by_role("button", name="Đánh dấu là chủ đề mới").click()
    await expect(page.locator("p.done")).to_contain_text("Đã lưu")
    assert await clusters.count() == before - 1
    await page.screenshot(path=str(ARTIFACTS / "admin-inbox.png"), full_page=True)

    async with page.expect_download() as info:
        await page.get_by_role("link", name="Tải các tin nhắn đã gán dưới dạng Rasa NLU YAML").click()
    download = await info.value
    target = tmp_path / download.suggested_filename
    await download.save_as(target)
    data = yaml.safe_load(target.read_text(encoding="utf-8"))
    assert [block["intent"] for block in data["nlu"]] == ["ask_health_insurance"], label
    assert len(data["nlu"][0]["examples"].strip().splitlines()) >= 2
