"""Keyed hashes for sender ids: the log can count residents, not name them.

The key comes from SENDER_HASH_KEY; without it a random key is made once and
kept in var/sender-hash.key, so hashes stay the same across restarts. Anyone
without the key cannot turn a hash back into a Telegram/Zalo id by trying ids.
"""
from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path
from typing import Mapping, Optional

from bot.settings import VAR_DIR

KEY_FILE = VAR_DIR / "sender-hash.key"


def hash_key(env: Optional[Mapping[str, str]] = None, key_file: Path = KEY_FILE) -> bytes:
    env = os.environ if env is None else env
    configured = env.get("SENDER_HASH_KEY", "").strip()
    if configured:
        return configured.encode("utf-8")
    if key_file.exists():
        return key_file.read_bytes().strip()
    key_file.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32).encode()
    try:
        with open(key_file, "xb") as out:  # another process may have made it meanwhile
            os.chmod(key_file, 0o600)
            out.write(key)
    except FileExistsError:
        return key_file.read_bytes().strip()
    return key


class Pseudonymiser:
    def __init__(self, key: bytes) -> None:
        self._key = key

    def __call__(self, *parts: str) -> str:
        message = "\x1f".join(parts).encode("utf-8")
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()
