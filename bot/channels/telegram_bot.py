"""The assistant's Telegram bot (python-telegram-bot 22): configuration and construction.

Shared by the Telegram channel, the polling command and the hand-off relay,
which posts to the community teams' groups from any process.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from dataclasses import dataclass
from typing import Any, Callable, Coroutine, Dict, Mapping, Optional

from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter, ExtBot
from telegram.request import HTTPXRequest

from bot.channels.send_limits import TELEGRAM_OVERALL, TELEGRAM_PER_CHAT, TELEGRAM_PER_GROUP, SendLimiter

logger = logging.getLogger(__name__)

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


class SharedRateLimiter(BaseRateLimiter):
    """PTB's rate limiter on this bot's send budget (bot/channels/send_limits.py): shared by every
    process through Redis when REDIS_URL is set. Requests to a chat wait for their turn (30 a
    second overall, about one a second per chat with bursts of 3, 20 a minute per group); a
    "retry after" from the API holds every process's sends and the request is retried."""

    def __init__(self, limiter: SendLimiter, max_retries: int = 3) -> None:
        self.limiter = limiter
        self.max_retries = max_retries

    @classmethod
    def from_env(cls, token: str, env: Optional[Mapping[str, str]] = None) -> "SharedRateLimiter":
        return cls(SendLimiter.from_env("telegram:" + token, TELEGRAM_OVERALL, TELEGRAM_PER_CHAT,
                                        TELEGRAM_PER_GROUP, env))

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        await self.limiter.close()

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, Any]],
        args: Any,
        kwargs: Dict[str, Any],
        endpoint: str,
        data: Dict[str, Any],
        rate_limit_args: Optional[int],
    ) -> Any:
        chat_id = data.get("chat_id")
        with contextlib.suppress(ValueError, TypeError):
            chat_id = int(chat_id)
        group = (isinstance(chat_id, int) and chat_id < 0) or isinstance(chat_id, str)
        retries = rate_limit_args or self.max_retries
        for attempt in range(retries + 1):
            if chat_id is not None:  # getMe, answerCallbackQuery, setWebhook... are not messages
                await self.limiter.wait(str(chat_id), group)
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as error:
                if attempt == retries:
                    raise
                seconds = error.retry_after.total_seconds() if hasattr(error.retry_after, "total_seconds") \
                    else float(error.retry_after)
                logger.info("telegram: rate limit hit on %s; every sender waits %.1f s", endpoint, seconds)
                await self.limiter.retry_after(seconds + 0.1)
        return None


def build_bot(config: TelegramConfig, rate_limited: bool = True) -> ExtBot:
    """PTB's bot on the configured Bot API base, with room for concurrent sends."""
    return ExtBot(
        config.token,
        base_url=config.api_base_url,
        request=HTTPXRequest(connection_pool_size=32, pool_timeout=10.0, read_timeout=15.0),
        get_updates_request=HTTPXRequest(connection_pool_size=2, read_timeout=40.0),
        rate_limiter=SharedRateLimiter.from_env(config.token) if rate_limited else None,
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
