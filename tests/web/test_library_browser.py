"""The answer library in headless Debian Chromium (Playwright), as a new volunteer
would use it: open /library on a phone, search "tien dien", find the electricity
walkthrough, copy an answer, open its handout and print it, all in under a
minute. Screenshots go to test-artifacts/ (phone and desktop)."""
import re
import time

import pytest
from aiohttp.test_utils import TestServer
from playwright.async_api import expect

from bot.db.engine import session_factory
from bot.library.catalogue import catalogue
from bot.settings import Settings
from bot.web.app import create_app
from tests.web.test_chat_browser import ARTIFACTS, PHONE

PT = 96 / 72  # CSS pixels per point


@pytest.fixture
async def library_site(tmp_path, monkeypatch):
    monkeypatch.delenv("ADMIN_USERNAME", raising=False)
    app = create_app(Settings.from_env({}), session_factory(f"sqlite:///{tmp_path / 'web.sqlite3'}"))
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    yield f"http://127.0.0.1:{server.port}"
    await server.close()


def squash(text):
    return " ".join(text.split())


async def test_a_volunteer_finds_and_prints_the_electricity_walkthrough_in_under_a_minute(library_site, browser):
    ARTIFACTS.mkdir(exist_ok=True)
    context = await browser.new_context(**PHONE)
    await context.grant_permissions(["clipboard-read", "clipboard-write"], origin=library_site)
    page = await context.new_page()
    started = time.monotonic()

    await page.goto(library_site + "/library")
    await page.get_by_label("Tìm câu trả lời").fill("tien dien")
    await page.get_by_role("button", name="Tìm", exact=True).click()
    await expect(page).to_have_url(re.compile(r"/library\?q=tien\+dien"))
    walkthrough = page.locator("article#journey-pay_bill")
    await expect(walkthrough.get_by_role("heading")).to_have_text("Trả tiền điện, tiền nước trực tuyến")
    await expect(page.locator("article.entry").first).to_have_id("ask_pay_electricity")

    answer = page.locator("article#ask_pay_electricity")
    updated = catalogue().get("ask_pay_electricity").updated.strftime("%d/%m/%Y")
    await expect(answer.locator(".updated")).to_have_text(f"Cập nhật ngày {updated}")  # its sources' check
    await answer.get_by_role("button", name="Sao chép").click()
    await expect(answer.locator(".copy-status")).to_have_text("Đã sao chép")
    assert await page.evaluate("navigator.clipboard.readText()") == catalogue().get("ask_pay_electricity").text
    width = await page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], f"the page scrolls sideways on a phone: {width}"
    await page.evaluate("window.scrollTo(0, 0)")
    await page.screenshot(path=str(ARTIFACTS / "library-search.png"))

    await walkthrough.get_by_role("link", name="In bài này").click()
    await expect(page).to_have_url(re.compile(r"/library/print/bills\?entry=journey-pay_bill$"))
    print_button = page.get_by_role("button", name="In", exact=True)
    await expect(print_button).to_be_visible()
    await page.emulate_media(media="print")
    await expect(print_button).to_be_hidden()
    steps = page.locator("section#journey-pay_bill .step")
    expected = catalogue().get("journey-pay_bill").messages
    await expect(steps).to_have_count(len(expected))
    shown = [squash(text) for text in await steps.all_inner_texts()]
    assert shown == [squash(message) for message in expected]
    sizes = await steps.evaluate_all("els => els.map(e => parseFloat(getComputedStyle(e).fontSize))")
    assert min(sizes) >= 16 * PT - 0.1, f"handout text smaller than 16pt: {sizes}"
    title_size = await page.locator("section#journey-pay_bill h1").evaluate("e => parseFloat(getComputedStyle(e).fontSize)")
    assert title_size > min(sizes)
    elapsed = time.monotonic() - started
    print(f"volunteer flow: {elapsed:.1f} s")
    assert elapsed < 60, f"finding and printing took {elapsed:.1f} s"
    await page.set_viewport_size({"width": 794, "height": 1123})  # an A4 sheet at 96 dpi, for people to look at
    await page.screenshot(path=str(ARTIFACTS / "library-handout-print.png"), full_page=True)


async def test_topic_handout_prints_one_entry_per_page_and_desktop_looks_right(library_site, browser):
    context = await browser.new_context(viewport={"width": 1280, "height": 900}, locale="vi-VN")
    page = await context.new_page()
    await page.goto(library_site + "/library?q=mo+tk+ngan+hang")
    await expect(page.locator("article.entry").first).to_have_id("ask_open_bank_account")
    await page.locator("article#journey-open_account summary").click()
    await expect(page.locator("article#journey-open_account .message").first).to_be_visible()
    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / "library-search-desktop.png"))

    await page.goto(library_site + "/library")
    await page.get_by_label("Chủ đề").select_option("bills")  # the filter applies itself
    await expect(page).to_have_url(re.compile(r"topic=bills"))
    entries = catalogue().in_topic("bills")
    await expect(page.locator("article.entry")).to_have_count(len(entries))
    await page.locator("article.entry").first.get_by_role("link", name="In cả chủ đề").click()
    await expect(page).to_have_url(re.compile(r"/library/print/bills$"))
    await page.screenshot(path=str(ARTIFACTS / "library-handout-screen.png"))
    pdf = await page.pdf(format="A4")  # the print stylesheet: a page break after every entry
    (ARTIFACTS / "library-handout-bills.pdf").write_bytes(pdf)
    pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf))
    assert pages >= len(entries), f"{pages} printed pages for {len(entries)} entries"
