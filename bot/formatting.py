"""Vietnamese formatting of what the assistant says: amounts and dates, with Babel.

    >>> format_vnd(10_000_000)
    '10.000.000\xa0₫'
    >>> format_long_date(datetime.date(2026, 11, 25))
    'Thứ Tư, ngày 25 tháng 11 năm 2026'
"""
from __future__ import annotations

import datetime
import re
from typing import Union

from babel.dates import format_date
from babel.numbers import format_currency, parse_decimal

LOCALE = "vi"
LONG_DATE_PATTERN = "EEEE, 'ngày' d 'tháng' M 'năm' y"
# An amount as written in an answer: "10.000.000 ₫" (any space before the sign).
AMOUNT_IN_TEXT = re.compile(r"(\d{1,3}(?:\.\d{3})*)\s*₫")


def format_vnd(amount: Union[int, float]) -> str:
    """An amount of Vietnamese đồng as Vietnamese write it: '10.000.000 ₫'."""
    return format_currency(amount, "VND", locale=LOCALE)


def format_long_date(day: datetime.date) -> str:
    """A date in full: 'Thứ Tư, ngày 25 tháng 11 năm 2026'."""
    return format_date(day, LONG_DATE_PATTERN, locale=LOCALE)


def amounts_in(text: str) -> list:
    """(as written, as Babel formats it) for every amount in ``text``."""
    found = []
    for match in AMOUNT_IN_TEXT.finditer(text):
        value = int(parse_decimal(match.group(1), locale=LOCALE))
        found.append((match.group(0), format_vnd(value)))
    return found
