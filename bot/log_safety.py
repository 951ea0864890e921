"""No secret in any log: every process calls `protect_logs()` once its logging is set up.

- httpx (python-telegram-bot's HTTP client) logs every request URL at INFO, and
  the Telegram Bot API puts the bot token in the URL: httpx and httpcore log at
  WARNING only.
- A filter on every handler of the root logger replaces a Telegram bot token
  (the configured one, and anything shaped like one) in any record that still
  carries it, e.g. in an exception's text.
"""
from __future__ import annotations

import logging
import os
import re
from typing import Iterable, List, Optional

QUIET_LOGGERS = ("httpx", "httpcore", "hpack")
# <bot id>:<35 characters>, as BotFather issues them
TOKEN_SHAPE = re.compile(r"(?<![0-9])[0-9]{5,}:[A-Za-z0-9_-]{30,}")
SECRET_VARIABLES = ("TELEGRAM_BOT_TOKEN", "TELEGRAM_WEBHOOK_SECRET", "ZALO_OA_SECRET_KEY", "ZALO_APP_SECRET",
                    "ZALO_ACCESS_TOKEN", "ZALO_REFRESH_TOKEN", "ACTIONS_TOKEN", "NLU_TOKEN", "ADMIN_PASSWORD",
                    "SENDER_HASH_KEY")
REDACTED = "[redacted]"


def hashed(identifier: object) -> str:
    """A short keyed hash of a resident's id (sender, recipient) for logs: never the id itself."""
    from bot.questionlog.pseudonym import Pseudonymiser, hash_key

    return "id#" + Pseudonymiser(hash_key())(str(identifier))[:12]


def redact(text: str, secrets: Iterable[str]) -> str:
    for secret in secrets:
        if secret and secret in text:
            text = text.replace(secret, REDACTED)
    return TOKEN_SHAPE.sub(REDACTED, text)


class RedactSecrets(logging.Filter):
    """Rewrites a record whose text holds a secret; never drops one."""

    def __init__(self, secrets: Optional[List[str]] = None) -> None:
        super().__init__()
        configured = [os.environ.get(name, "").strip() for name in SECRET_VARIABLES]
        # short values (a test's "x") would redact ordinary words
        self.secrets = [s for s in (secrets if secrets is not None else configured) if len(s) >= 8]

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a broken record is logging's problem, not ours
            return True
        cleaned = redact(message, self.secrets)
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text, self.secrets)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


def protect_logs() -> None:
    """Quiet the HTTP client loggers and put the redacting filter on every root handler."""
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    root = logging.getLogger()
    for handler in root.handlers:
        if not any(isinstance(f, RedactSecrets) for f in handler.filters):
            handler.addFilter(RedactSecrets())
