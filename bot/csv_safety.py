"""CSV cells a spreadsheet will not run: the exports (questions, directory) pass every text cell here.

A cell that starts with = + - @, a tab or a carriage return can be read as a
formula by Excel, LibreOffice or Google Sheets (CSV injection); it gets a
leading apostrophe, which spreadsheets show as text. A plain number with a sign
("-1001000000002", "+84 912 345 678") is data, not a formula, and is kept.
"""
from __future__ import annotations

import re

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_SIGNED_NUMBER = re.compile(r"^[+-][0-9][0-9 .()]*$")


def spreadsheet_safe(value: str) -> str:
    if value.startswith(FORMULA_START) and not _SIGNED_NUMBER.match(value):
        return "'" + value
    return value


def unneutralise(value: str) -> str:
    """What `spreadsheet_safe` wrote, read back (a re-imported export)."""
    if value.startswith("'") and value[1:].startswith(FORMULA_START):
        return value[1:]
    return value
