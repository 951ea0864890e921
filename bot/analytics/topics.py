"""The topics (intents) the assistant knows, read from the domain files."""
from __future__ import annotations

from functools import lru_cache
from typing import Dict, Optional, Tuple

import yaml

from bot.settings import PROJECT_ROOT

DOMAIN_DIR = PROJECT_ROOT / "domain"


@lru_cache(maxsize=1)
def known_intents() -> Tuple[str, ...]:
    intents = set()
    for path in sorted(DOMAIN_DIR.glob("*.yml")):
        for entry in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("intents", []) or []:
            intents.add(next(iter(entry)) if isinstance(entry, dict) else str(entry))
    return tuple(sorted(intents))


# Conversation, not questions: shown apart from the topics (greetings, thanks, yes/no).
SMALL_TALK = ("greet", "goodbye", "thank", "affirm", "deny", "bot_challenge")
# Intents that are steps of a conversation rather than topics with an answer page.
OTHER_TITLES = {
    "request_human": "Muốn gặp người hỗ trợ",
    "inform_commune": "Cho biết xã/phường",
    "ask_help_menu": "Mở menu",
    "start_journey": "Bắt đầu hướng dẫn từng bước",
    "journey_next": "Hướng dẫn: bước tiếp",
    "journey_back": "Hướng dẫn: quay lại",
    "journey_stop": "Hướng dẫn: dừng",
    "journey_resume": "Hướng dẫn: tiếp tục",
    "journey_choose": "Hướng dẫn: chọn",
}


@lru_cache(maxsize=1)
def topic_titles() -> Dict[str, str]:
    """{intent: the title admins know it by (the answer library's, in Vietnamese)}."""
    from bot.library.catalogue import FALLBACK_TITLES, catalogue

    titles = dict(OTHER_TITLES)
    titles.update(FALLBACK_TITLES)
    titles.update({e.intent: e.title for e in catalogue().entries if e.intent})
    return titles


def title_of(intent: str) -> str:
    return topic_titles().get(intent, intent)


def answer_page(intent: str) -> Optional[str]:
    """The admin page of the intent's answer, when it has one."""
    from bot.library.catalogue import catalogue

    return f"/admin/answers/entry/{intent}" if catalogue().get(intent) is not None else None
