"""Headless Debian Chromium for the browser tests (Playwright drives /usr/bin/chromium; nothing is downloaded)."""
from pathlib import Path

import pytest
from playwright.async_api import async_playwright

from tests.web.test_chat_browser import CHROMIUM, CHROMIUM_ARGS


@pytest.fixture
async def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: scripts/browser.sh installs Debian's chromium")
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        await chromium.close()


@pytest.fixture(autouse=True)
def quick_scrypt(request, monkeypatch):
    """Hashes in these tests cost scrypt's former N=2^14: the production N=2^17 (bot/web/auth.py)
    takes ~0.5 s and 128 MiB each. Tests marked `production_scrypt` keep the real cost."""
    if "production_scrypt" not in request.keywords:
        from bot.web import auth

        monkeypatch.setattr(auth, "SCRYPT_N", 2**14)
