"""The assistant's Telegram bot (python-telegram-bot 22): configuration and construction.

Shared by the Telegram channel, the polling command and the hand-off relay,
which posts to the community teams' groups from any process.
"""
from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass
from typing import Mapping, Optional

from telegram.ext import AIORateLimiter, ExtBot
from telegram.request import HTTPXRequest

DEFAULT_API_BASE_URL = "https://api.telegram.org/bot"


@dataclass(frozen=True)
class TelegramConfig:
    token: str
    secret: str
    api_base_url: str
    webhook_url: str

    @classmethod
    def from_env(cls, env: Optional[Mapping[str, str]] = None) -> "TelegramConfig":
        env = os.environ if env is None else env
        return cls(
            token=env.get("TELEGRAM_BOT_TOKEN", "").strip(),
            secret=env.get("TELEGRAM_WEBHOOK_SECRET", "").strip(),
            api_base_url=env.get("TELEGRAM_API_BASE_URL", "").strip() or DEFAULT_API_BASE_URL,
            webhook_url=env.get("TELEGRAM_WEBHOOK_URL", "").strip(),
        )


def build_bot(config: TelegramConfig, rate_limited: bool = True) -> ExtBot:
    """PTB's bot on the configured Bot API base, with room for concurrent sends."""
    return ExtBot(
        config.token,
        base_url=config.api_base_url,
        request=HTTPXRequest(connection_pool_size=32, pool_timeout=10.0, read_timeout=15.0),
        get_updates_request=HTTPXRequest(connection_pool_size=2, read_timeout=40.0),
        rate_limiter=AIORateLimiter(max_retries=3) if rate_limited else None,
    )


class BotHandle:
    """One PTB bot per channel, initialised (getMe) on first use."""

    def __init__(self, bot: ExtBot) -> None:
        self.bot = bot
        self._lock = asyncio.Lock()
        self._ready = False

    async def ready(self) -> ExtBot:
        if not self._ready:
            async with self._lock:
                if not self._ready:
                    await self.bot.initialize()
                    self._ready = True
        return self.bot
