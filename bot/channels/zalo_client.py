"""The Zalo OpenAPI calls the channel makes: send a message, refresh the token.

- Send: `POST {ZALO_API_BASE_URL}/v3.0/oa/message/cs` with the `access_token` header.
- Error -216 (token expired): refresh with `POST {ZALO_OAUTH_BASE_URL}/v4/oa/access_token`
  (refresh_token grant, `secret_key` header), store both new tokens in the
  database *before* using them, retry the send once.
- The user cannot be messaged now (blocked, not following, outside the 48-hour
  window, ...): logged, not retried.
- Transient (-32, -100, HTTP 5xx, timeouts, connection errors): retried with
  exponential backoff, at most TRANSIENT_RETRIES times.
- Every attempt waits for the OA's turn (bot/channels/send_limits.py: ZALO_SEND_PER_SECOND
  overall, about one a second per user with bursts of 3), shared by every process
  through Redis when REDIS_URL is set.
"""
from __future__ import annotations

import asyncio
import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Dict, Optional

import aiohttp
from sqlalchemy.orm import sessionmaker

from bot.channels.send_limits import ZALO_PER_USER, SendLimiter, zalo_overall
from bot.db.models import ChannelToken
from bot.log_safety import hashed

logger = logging.getLogger(__name__)

TOKEN_EXPIRED = -216
TRANSIENT_ERRORS = {-32, -100}
UNREACHABLE_USER_ERRORS = {-213, -217, -227, -230, -232, -234, -244}
TRANSIENT_RETRIES = 3
BACKOFF_SECONDS = 0.5
REQUEST_TIMEOUT = aiohttp.ClientTimeout(total=10)


class Transient(Exception):
    """Worth trying again in a moment."""


@dataclass
class Tokens:
    access_token: str
    refresh_token: str


@dataclass
class SendResult:
    ok: bool
    error: int = 0
    message: str = ""
    attempts: int = 1


def _fingerprint(refresh_token: str) -> str:
    return hashlib.sha256(refresh_token.encode("utf-8")).hexdigest()


class TokenStore:
    """The OA's tokens: in the database once refreshed, seeded from the environment."""

    CHANNEL = "zalo"

    def __init__(self, sessions: sessionmaker, access_token: str, refresh_token: str) -> None:
        self._sessions = sessions
        self._seed = Tokens(access_token, refresh_token)

    def load(self) -> Tokens:
        with self._sessions() as session:
            row = session.get(ChannelToken, self.CHANNEL)
            if row is not None and (not self._seed.refresh_token or row.seed_fingerprint == _fingerprint(self._seed.refresh_token)):
                return Tokens(row.access_token, row.refresh_token)
        return self._seed

    def save(self, tokens: Tokens, expires_in: Optional[int]) -> None:
        expires_at = datetime.now(timezone.utc) + timedelta(seconds=expires_in) if expires_in else None
        with self._sessions() as session:
            row = session.get(ChannelToken, self.CHANNEL)
            if row is None:
                row = ChannelToken(channel=self.CHANNEL, seed_fingerprint=_fingerprint(self._seed.refresh_token))
                session.add(row)
            row.access_token, row.refresh_token, row.expires_at = tokens.access_token, tokens.refresh_token, expires_at
            session.commit()


class ZaloClient:
    def __init__(
        self, api_base_url: str, oauth_base_url: str, app_id: str, app_secret: str, tokens: TokenStore,
        limiter: Optional[SendLimiter] = None,
    ) -> None:
        self.send_url = api_base_url.rstrip("/") + "/v3.0/oa/message/cs"
        self.refresh_url = oauth_base_url.rstrip("/") + "/v4/oa/access_token"
        self.app_id = app_id
        self.app_secret = app_secret
        self.tokens = tokens
        self._refresh_lock = asyncio.Lock()
        self._session: Optional[aiohttp.ClientSession] = None
        self.limiter = limiter or SendLimiter.from_env("zalo:" + app_id, zalo_overall(), ZALO_PER_USER)

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=REQUEST_TIMEOUT)
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
        await self.limiter.close()

    async def send(self, user_id: str, message: Dict[str, Any]) -> SendResult:
        body = {"recipient": {"user_id": user_id}, "message": message}
        refreshed = False
        attempts = 0
        while True:
            attempts += 1
            token = self.tokens.load().access_token
            await self.limiter.wait(user_id)
            try:
                answer = await self._post_message(body, token)
            except Transient as error:
                if attempts > TRANSIENT_RETRIES:
                    logger.error("zalo: giving up sending to %s after %d attempts: %s", hashed(user_id), attempts, error)
                    return SendResult(False, message=str(error), attempts=attempts)
                await asyncio.sleep(BACKOFF_SECONDS * 2 ** (attempts - 1))
                continue
            code = int(answer.get("error", -1) or 0)
            text = str(answer.get("message", ""))
            if code == 0:
                return SendResult(True, attempts=attempts)
            if code == TOKEN_EXPIRED and not refreshed:
                refreshed = True
                if await self.refresh(token):
                    continue
                return SendResult(False, code, text, attempts)
            if code in TRANSIENT_ERRORS and attempts <= TRANSIENT_RETRIES:
                await asyncio.sleep(BACKOFF_SECONDS * 2 ** (attempts - 1))
                continue
            if code in UNREACHABLE_USER_ERRORS:
                logger.warning("zalo: cannot message %s now (error %s: %s); not retried", hashed(user_id), code, text)
            else:
                logger.error("zalo: sending to %s failed (error %s: %s)", hashed(user_id), code, text)
            return SendResult(False, code, text, attempts)

    async def _post_message(self, body: Dict[str, Any], token: str) -> Dict[str, Any]:
        try:
            async with self._http().post(self.send_url, json=body, headers={"access_token": token}) as reply:
                if reply.status >= 500:
                    raise Transient(f"HTTP {reply.status}")
                data = await reply.json(content_type=None)
        except (asyncio.TimeoutError, aiohttp.ClientConnectionError) as error:
            raise Transient(error.__class__.__name__) from None
        except ValueError:
            return {"error": -1, "message": "answer is not JSON"}
        return data if isinstance(data, dict) else {"error": -1, "message": "unexpected answer"}

    async def refresh(self, expired_token: str) -> bool:
        """Get new tokens unless another send already did; True when usable."""
        async with self._refresh_lock:
            current = self.tokens.load()
            if current.access_token != expired_token:
                return True
            if not (current.refresh_token and self.app_secret):
                logger.error("zalo: access token expired and no refresh token/app secret is configured")
                return False
            form = {"app_id": self.app_id, "grant_type": "refresh_token", "refresh_token": current.refresh_token}
            try:
                async with self._http().post(self.refresh_url, data=form, headers={"secret_key": self.app_secret}) as reply:
                    data = await reply.json(content_type=None)
            except (asyncio.TimeoutError, aiohttp.ClientError, ValueError) as error:
                logger.error("zalo: token refresh failed: %s", error)
                return False
            if not isinstance(data, dict) or not data.get("access_token") or not data.get("refresh_token"):
                logger.error("zalo: token refresh refused: %s", data)
                return False
            try:
                expires_in = int(data.get("expires_in") or 0) or None
            except (TypeError, ValueError):
                expires_in = None
            self.tokens.save(Tokens(data["access_token"], data["refresh_token"]), expires_in)
            logger.info("zalo: access token refreshed")
            return True
