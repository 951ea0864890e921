"""`python -m bot telegram-polling`: Telegram for a machine with no public address.

Fetches updates with getUpdates (long polling, PTB) and hands each one, as is,
to the Rasa server's Telegram webhook with the webhook secret, so polling and
webhook share every line of the handling code (secret check, de-duplication,
buttons, replies). An update is acknowledged to Telegram (the offset moves on)
only after the webhook accepted it.
"""
from __future__ import annotations

import asyncio
import logging
from typing import Optional

import aiohttp
from telegram.error import NetworkError, TelegramError

from bot.channels.telegram import ALLOWED_UPDATES, SECRET_HEADER
from bot.channels.telegram_bot import TelegramConfig, build_bot
from bot.settings import Settings

logger = logging.getLogger(__name__)

POLL_TIMEOUT_SECONDS = 25
MAX_BACKOFF_SECONDS = 30


async def forward(http: aiohttp.ClientSession, url: str, secret: str, update: dict) -> bool:
    """POST one update to the webhook; True once it is accepted (or a duplicate)."""
    try:
        async with http.post(url, json=update, headers={SECRET_HEADER: secret}) as reply:
            if reply.status == 200:
                return True
            if 400 <= reply.status < 500:
                logger.error("telegram-polling: the webhook refused update %s (%s)", update.get("update_id"), reply.status)
                return True  # it will never be accepted; do not block the queue
            return False
    except (aiohttp.ClientError, asyncio.TimeoutError) as error:
        logger.warning("telegram-polling: the Rasa server is not reachable: %s", error)
        return False


async def poll(config: TelegramConfig, webhook_url: str, stop: Optional[asyncio.Event] = None) -> None:
    stop = stop or asyncio.Event()
    bot = build_bot(config, rate_limited=False)
    backoff = 1.0
    async with bot, aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as http:
        await bot.delete_webhook()  # getUpdates is refused while a webhook is set
        offset: Optional[int] = None
        logger.info("telegram-polling: fetching updates, handing them to %s", webhook_url)
        while not stop.is_set():
            try:
                updates = await bot.get_updates(
                    offset=offset, timeout=POLL_TIMEOUT_SECONDS, allowed_updates=ALLOWED_UPDATES
                )
            except (NetworkError, TelegramError) as error:
                logger.warning("telegram-polling: getUpdates failed: %s", error)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)
                continue
            backoff = 1.0
            for update in updates:
                while not await forward(http, webhook_url, config.secret, update.to_dict()):
                    if stop.is_set():
                        return
                    await asyncio.sleep(backoff)
                    backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)
                backoff = 1.0
                offset = update.update_id + 1


def run() -> int:
    config = TelegramConfig.from_env()
    if not config.token:
        logger.error("telegram-polling: TELEGRAM_BOT_TOKEN is not set")
        return 2
    if not config.secret:
        logger.error("telegram-polling: TELEGRAM_WEBHOOK_SECRET is not set (python -m bot serve sets one itself)")
        return 2
    url = Settings.from_env().rasa_url + "/webhooks/telegram/webhook"
    try:
        asyncio.run(poll(config, url))
    except KeyboardInterrupt:
        pass
    return 0
