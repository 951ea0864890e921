"""How a message is written: with or without diacritics, with teencode.

Used to check the make-up of the held-out set and to report accuracy per
variant (bench/nlu.py).
"""
from __future__ import annotations

from typing import List

import regex

from bot.nlu.normalizer import default_normalizer, fold_diacritics, fold_word

# Teencode that the normaliser deliberately does not expand is still teencode.
AMBIGUOUS_TEENCODE = frozenset({"mk", "dk", "bn", "tt", "hd", "bt", "nc", "kh", "e", "a", "ad", "vk"})


def has_diacritics(text: str) -> bool:
    return fold_diacritics(text) != text


def has_teencode(text: str) -> bool:
    teencode = set(default_normalizer().abbreviations) | AMBIGUOUS_TEENCODE
    return bool({fold_word(word) for word in regex.findall(r"\w+", text)} & teencode)


def variants(text: str) -> List[str]:
    """'with_diacritics' or 'no_diacritics', plus 'teencode' when it has some."""
    result = ["with_diacritics" if has_diacritics(text) else "no_diacritics"]
    if has_teencode(text):
        result.append("teencode")
    return result
