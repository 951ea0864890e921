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
