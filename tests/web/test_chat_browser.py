"""The web chat in headless Debian Chromium (Playwright), against the running assistant.

On a phone-sized screen: the greeting arrives, a question typed without
diacritics is answered, a button click is answered, the conversation survives
a reload. A screenshot is saved to test-artifacts/ for people to look at.
"""
from pathlib import Path

import pytest
from playwright.async_api import expect

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
# Chromium as the machine allows it: no sandbox as root, no background traffic.
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True, "locale": "vi-VN"}


@pytest.fixture
async def page(browser):
    context = await browser.new_context(**PHONE)
    yield await context.new_page()
    await context.close()


async def test_phone_user_types_without_diacritics_clicks_a_button_and_reloads(assistant, page):
    polls = []
    page.on("request", lambda request: polls.append(request.url) if "/api/chat/updates" in request.url else None)
    await page.goto(f"http://127.0.0.1:{assistant['WEB_PORT']}/")
    bot = page.locator(".msg.bot:not(.typing)")
    await expect(bot.first).to_contain_text("Trợ lý số", timeout=30_000)

    await page.fill("#text", "mo tai khoan ngan hang o dau")
    await page.keyboard.press("Enter")
    await expect(page.locator(".msg.me").last).to_have_text("mo tai khoan ngan hang o dau")
    await expect(bot.filter(has_text="căn cước").first).to_be_visible(timeout=30_000)

    button = page.get_by_role("button", name="Xác thực khuôn mặt").last
    await button.click()
    await expect(page.locator(".msg.me").last).to_have_text("Xác thực khuôn mặt")
    await expect(bot.filter(has_text="10.000.000").first).to_be_visible(timeout=30_000)

    width = await page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], f"the page scrolls sideways on a phone: {width}"
    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / "web-chat-phone.png"), full_page=True)

    count = await page.locator(".msg").count()
    sender = await page.evaluate("localStorage.getItem('troLySo.sender')")
    await page.reload()
    await expect(page.locator(".msg")).to_have_count(count)
    assert await page.evaluate("localStorage.getItem('troLySo.sender')") == sender
    await expect(bot.filter(has_text="10.000.000").first).to_be_visible()
    await page.wait_for_timeout(3500)  # longer than the page's polling interval
    assert polls == [], "without a hand-off the page does not poll for team messages"


async def test_phone_user_is_handed_to_the_team_and_sees_their_reply(assistant, page, fake_telegram):
    """Web chat hand-off as a resident sees it: the team's reply (given in the
    Telegram group) appears on the page by itself; ending it asks for a rating."""
    from tests.fakes.telegram_api import group_reply_update
    from tests.handoff.test_relay_e2e import HOA_BINH, recorded, telegram_webhook, wait_group_post

    await page.goto(f"http://127.0.0.1:{assistant['WEB_PORT']}/")
    bot = page.locator(".msg.bot:not(.typing)")
    await expect(bot.first).to_contain_text("Trợ lý số", timeout=30_000)
    await page.fill("#text", "cho toi gap nguoi ho tro")
    await page.keyboard.press("Enter")
    await expect(bot.filter(has_text="xã/phường nào").last).to_be_visible(timeout=30_000)
    await page.fill("#text", "xa hoa binh")
    await page.keyboard.press("Enter")
    await expect(bot.filter(has_text="đã chuyển yêu cầu").last).to_be_visible(timeout=30_000)

    sender = await page.evaluate("localStorage.getItem('troLySo.sender')")
    ticket_post = wait_group_post(fake_telegram, HOA_BINH, "Web chat")
    assert "cho toi gap nguoi ho tro" in ticket_post.params["text"]
    telegram_webhook(assistant, group_reply_update(
        fake_telegram.next_update_id(), HOA_BINH, recorded(assistant, ticket_post), "Chào bác, cháu là Lan ở Tổ công nghệ số ạ"))
    await expect(bot.filter(has_text="Chào bác, cháu là Lan").last).to_be_visible(timeout=15_000)
    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / "web-chat-handoff.png"), full_page=True)

    await page.get_by_role("button", name="Kết thúc hỗ trợ").last.click()
    await expect(bot.filter(has_text="chấm điểm").last).to_be_visible(timeout=15_000)
    await page.get_by_role("button", name="⭐⭐⭐⭐⭐ 5").last.click()
    await expect(bot.filter(has_text="cảm ơn anh/chị đã chấm điểm").last).to_be_visible(timeout=15_000)
    assert sender.startswith("web-")
