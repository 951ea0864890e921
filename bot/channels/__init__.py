"""Messenger channels of the Rasa server, one module per messenger.

Every channel has the same shape (see common.py). A channel is on when the
variables it needs are set; `python -m bot serve` gives Rasa only those.
"""
from typing import Dict, Mapping, Tuple

# credentials.yml key -> environment variables that must be set to turn it on
REQUIRED_VARIABLES: Dict[str, Tuple[str, ...]] = {
    "bot.channels.telegram.TelegramInput": ("TELEGRAM_BOT_TOKEN",),
    "bot.channels.zalo.ZaloInput": ("ZALO_APP_ID", "ZALO_OA_SECRET_KEY"),
}


def channel_enabled(key: str, env: Mapping[str, str]) -> bool:
    """Built-in Rasa channels (rest) are always on; ours need their variables."""
    return all(env.get(name, "").strip() for name in REQUIRED_VARIABLES.get(key, ()))
