"""Duties done once per deployment, not once per Rasa server (REDIS_URL set).

`first_to_claim(duty, seconds)` is True for the one process that claims the
duty first within `seconds` (Redis SET NX with expiry); without REDIS_URL
there is one server, so it is always True. If Redis cannot be reached the
duty is done anyway: twice is better than never for setWebhook.
"""
from __future__ import annotations

import logging
import os
import socket
from typing import Mapping, Optional

from bot.scale.endpoints import redis_url

logger = logging.getLogger(__name__)


def first_to_claim(duty: str, seconds: int, env: Optional[Mapping[str, str]] = None) -> bool:
    env = os.environ if env is None else env
    url = redis_url(env)
    if not url:
        return True
    import redis

    prefix = env.get("REDIS_KEY_PREFIX", "").strip() or "trolyso"
    client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
    try:
        holder = f"{socket.gethostname()}:{os.getpid()}"
        return bool(client.set(f"{prefix}:once:{duty}", holder, nx=True, ex=max(1, int(seconds))))
    except redis.exceptions.RedisError as error:
        logger.warning("once-per-deployment claim of %s failed (%s); doing it here", duty, error)
        return True
    finally:
        client.close()
