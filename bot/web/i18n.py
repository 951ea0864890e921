"""Languages of the admin dashboard: Babel message catalogues and Babel formatting.

The catalogues are `locale/<lang>/LC_MESSAGES/messages.po` (msgids in
English, Vietnamese the default); they are compiled in memory at start, so no
build step and no binary files. Numbers, percentages and dates are formatted
with Babel for the page's locale; times are Viet Nam time.
"""
from __future__ import annotations

import io
from datetime import date, datetime, timedelta, timezone
from functools import lru_cache
from pathlib import Path
from typing import Dict, Union

from babel import Locale
from babel.dates import format_date, format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal, format_percent
from babel.support import Translations

LOCALE_DIR = Path(__file__).with_name("locale")
LANGUAGES = ("vi", "en")
DEFAULT_LANGUAGE = "vi"
VIETNAM = timezone(timedelta(hours=7))


@lru_cache(maxsize=None)
def translations(language: str) -> Translations:
    path = LOCALE_DIR / language / "LC_MESSAGES" / "messages.po"
    with open(path, "rb") as source:
        catalog = read_po(source, locale=language)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(fp=buffer)


class Formatter:
    """Babel formatting for one locale (what templates call as filters)."""

    def __init__(self, language: str) -> None:
        self.language = language
        self.locale = Locale.parse(language)

    def number(self, value: Union[int, float]) -> str:
        return format_decimal(value, locale=self.locale)

    def percent(self, value: float) -> str:
        return format_percent(value, format="#,##0.0%", locale=self.locale)

    def day(self, value: Union[str, date]) -> str:
        if isinstance(value, str):
            value = date.fromisoformat(value)
        return format_date(value, format="dd/MM" if self.language == "vi" else "MMM d", locale=self.locale)

    def long_date(self, value: date) -> str:
        return format_date(value, format="long", locale=self.locale)

    def moment(self, value: datetime) -> str:
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return format_datetime(value.astimezone(VIETNAM), format="short", locale=self.locale)

    def filters(self) -> Dict[str, object]:
        return {"number": self.number, "percent": self.percent, "day": self.day,
                "long_date": self.long_date, "moment": self.moment}


def pick_language(requested: str) -> str:
    return requested if requested in LANGUAGES else DEFAULT_LANGUAGE
