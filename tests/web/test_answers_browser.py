"""The answer workflow in headless Debian Chromium (Playwright): an editor changes an answer
(preview and counter), an approver reviews the diff and publishes, the library shows the new
text. Screenshots go to test-artifacts/."""

import pytest
from aiohttp.test_utils import TestServer
from playwright.async_api import expect

from bot.answers import live
from bot.db.engine import session_factory
from bot.settings import Settings
from bot.web.app import create_app
from bot.web.auth import AdminAccounts
from tests.web.test_chat_browser import ARTIFACTS

PASSWORD = "mat-khau-cua-can-bo-1"
NEW_TEXT = "Dạ, để trả tiền nước, anh/chị cần mã khách hàng in ở góc trên hóa đơn nước (bản đã kiểm tra) ạ."


@pytest.fixture
async def site(tmp_path, monkeypatch):
    monkeypatch.delenv("ADMIN_USERNAME", raising=False)
    url = f"sqlite:///{tmp_path / 'answers.sqlite3'}"
    monkeypatch.setenv("DATABASE_URL", url)
    sessions = session_factory(url)
    AdminAccounts(sessions).create("bientap", PASSWORD, role="editor")
    AdminAccounts(sessions).create("duyet", PASSWORD, role="approver")
    live.snapshot()
    server = TestServer(create_app(Settings.from_env({}), sessions), host="127.0.0.1")
    await server.start_server()
    yield f"http://127.0.0.1:{server.port}"
    await server.close()


async def log_in(browser, site, username):
    page = await (await browser.new_context(viewport={"width": 1280, "height": 900}, locale="vi-VN")).new_page()
    await page.goto(site + "/admin/login")
    await page.fill("input[name=username]", username)
    await page.fill("input[name=password]", PASSWORD)
    await page.get_by_role("button", name="Đăng nhập").click()
    await expect(page.get_by_role("heading", name="Tổng quan")).to_be_visible()
    return page


async def test_editor_changes_approver_publishes_library_shows_it(site, browser):
    ARTIFACTS.mkdir(exist_ok=True)
    editor = await log_in(browser, site, "bientap")
    await editor.get_by_role("link", name="Câu trả lời").click()
    await editor.fill("input[name=q]", "tra tien nuoc")
    await editor.get_by_role("button", name="Tìm").click()
    await editor.get_by_role("link", name="Trả tiền nước", exact=True).click()
    await editor.get_by_role("link", name="Sửa").first.click()

    await editor.fill("#answer-text", "x" * 230)
    await expect(editor.locator("#answer-counter")).to_have_text("230/220 ký tự — quá dài")
    await expect(editor.locator("#answer-counter")).to_have_class("counter over")
    await editor.fill("#answer-text", NEW_TEXT)
    await expect(editor.locator("#preview-text")).to_have_text(NEW_TEXT)
    await expect(editor.locator("#answer-counter")).to_have_text(f"{len(NEW_TEXT)}/220 ký tự")
    await expect(editor.get_by_role("button", name="Đăng ngay")).to_have_count(0)  # an editor cannot publish
    await editor.fill("input[name=source]", "Hóa đơn của công ty cấp nước")
    await editor.fill("input[name=reason]", "Chỉ rõ chỗ in mã khách hàng")
    await editor.screenshot(path=str(ARTIFACTS / "answers-editor-preview.png"), full_page=True)
    await editor.get_by_role("button", name="Gửi duyệt").click()
    await expect(editor.locator("p.done")).to_contain_text("Đã gửi duyệt")

    approver = await log_in(browser, site, "duyet")
    await approver.goto(site + "/admin/answers/review")
    review = approver.locator("section.review").first
    await expect(review.locator("tr.diff-added")).to_contain_text("bản đã kiểm tra")
    await expect(review.locator("tr.diff-removed")).to_contain_text("mã danh bộ")
    await approver.screenshot(path=str(ARTIFACTS / "answers-review-diff.png"), full_page=True)
    await review.get_by_role("button", name="Duyệt và đăng").click()
    await expect(approver.locator("p.done")).to_contain_text("Đã xử lý")

    await approver.goto(site + "/library?q=tra+tien+nuoc")
    await expect(approver.locator("main")).to_contain_text("bản đã kiểm tra")
    await approver.screenshot(path=str(ARTIFACTS / "answers-library-updated.png"), full_page=True)
