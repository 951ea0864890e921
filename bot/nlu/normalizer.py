"""Vietnamese text normalisation: the one place that knows how residents type.

Residents write with or without diacritics, in decomposed or precomposed
Unicode, with chat abbreviations ("ko", "dc", "tk") and stretched letters
("kooo", "dcccc"). :class:`TextNormalizer` turns any of these into one
lower-case, expanded token sequence, keeping for every token the span of the
original text it came from (so entity offsets still point at what was typed).
Every token has two views: ``text``, folded (no diacritics: "ban" for "bán"
and "bàn"), which everything that compares free text uses, and ``written``,
the same word with the diacritics the resident typed ("bán"), which lets the
NLU featurizers tell such words apart when the marks are there.

Used by the Rasa tokenizer component (:mod:`bot.nlu.normalizer_component`) and
by everything else that compares free text (library search, directory look-ups).
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Dict, Iterable, List, Mapping, Optional, Tuple

import regex
import yaml

DEFAULT_DATA_PATH = Path(__file__).with_name("abbreviations.yml")

# Doubled vowels that are real Vietnamese once folded (xoong, boong; hưu, cứu, bưu).
_KEPT_DOUBLES = frozenset({"oo", "uu"})
_WORD = r"\p{L}[\p{L}\p{M}]*|\p{N}+"
_RUN = regex.compile(r"(\p{L})\1+")


@dataclass(frozen=True)
class NormalToken:
    """A normalised word and the span of the original text it stands for.

    ``text`` is the folded view ('ban'), ``written`` the view as written
    ('bán': NFC, lower case, squashed, abbreviations expanded with their
    diacritics). Folding ``written`` gives ``text`` up to squashing.
    """

    text: str
    start: int
    end: int
    written: str


def nfc_lower(text: str) -> str:
    """Unicode NFC, then lower case."""
    return unicodedata.normalize("NFC", text).lower()


def fold_diacritics(text: str) -> str:
    """Remove Vietnamese tone and vowel marks: 'Điện thoại' -> 'Dien thoai'."""
    text = text.replace("đ", "d").replace("Đ", "D")
    decomposed = unicodedata.normalize("NFD", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return unicodedata.normalize("NFC", stripped)


def squash_repeats(word: str) -> str:
    """Squash stretched letters: 'kooo' -> 'ko', 'dcccc' -> 'dc', 'okk' -> 'ok'.

    Runs of three or more letters always become one letter. A doubled letter
    becomes one too, except the doubles that are real Vietnamese once folded
    ('xoong', 'huu'). The rule is the same for training data and for user
    messages, so it only has to be consistent, not linguistically perfect.
    """

    def _squash(match: "regex.Match[str]") -> str:
        run = match.group(0)
        if len(run) == 2 and run in _KEPT_DOUBLES:
            return run
        return match.group(1)

    return _RUN.sub(_squash, word)


def fold_word(word: str) -> str:
    """The comparable form of one word: NFC, lower, folded, squashed."""
    return squash_repeats(fold_diacritics(nfc_lower(word)))


def written_word(word: str) -> str:
    """One word as written, made consistent: NFC, lower, squashed, diacritics kept."""
    return squash_repeats(nfc_lower(word))


# A normalised word in both views: (folded, written).
_Views = Tuple[str, str]


def _views(phrase: str) -> Tuple[_Views, ...]:
    return tuple((fold_word(w), written_word(w)) for w in str(phrase).split())


class TextNormalizer:
    """Normalises text with an abbreviation table and an emoji table."""

    def __init__(
        self,
        abbreviations: Optional[Mapping[str, str]] = None,
        emoji: Optional[Mapping[str, str]] = None,
        units: Optional[Mapping[str, str]] = None,
        max_tokens: int = 128,
    ) -> None:
        self.max_tokens = max_tokens
        self._expansions = _expansion_table(abbreviations or {}, "abbreviations")
        self._units = _expansion_table(units or {}, "units")
        self._folded_expansions = {
            key: tuple(folded for folded, _ in words) for key, words in self._expansions.items()
        }
        self._emoji: Dict[str, Tuple[_Views, ...]] = {
            str(symbol): _views(meaning) for symbol, meaning in (emoji or {}).items()
        }
        emoji_alternatives = "|".join(
            regex.escape(symbol)
            for symbol in sorted(self._emoji, key=len, reverse=True)
        )
        pattern = _WORD if not emoji_alternatives else f"{emoji_alternatives}|{_WORD}"
        self._token_pattern = regex.compile(pattern)

    @classmethod
    def from_file(cls, path: Path = DEFAULT_DATA_PATH, max_tokens: int = 128) -> "TextNormalizer":
        """Build a normaliser from the editable YAML data file."""
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
        return cls(
            abbreviations=data.get("abbreviations") or {},
            emoji=data.get("emoji") or {},
            units=data.get("units") or {},
            max_tokens=max_tokens,
        )

    @property
    def abbreviations(self) -> Mapping[str, Tuple[str, ...]]:
        """Folded abbreviation keys and their folded expansions."""
        return self._folded_expansions

    def tokens(self, text: str) -> List[NormalToken]:
        """Normalised tokens of ``text`` with their spans in ``text``.

        Punctuation and unknown symbols are dropped; a known emoji becomes its
        meaning ('👍' -> 'ok'); an abbreviation expands to one or more words that
        all share the span of the abbreviation; a unit glued to a number reads
        as the unit ('500k' -> '500 nghin'). At most ``max_tokens`` tokens
        are returned, so a 5,000-character message costs what a long one does.
        Abbreviations are looked up by their folded form, so both views always
        have the same tokens: 'ko' and 'kô' give ('khong', written 'không').
        """
        result: List[NormalToken] = []
        previous_number_end = -1
        for match in self._token_pattern.finditer(text or ""):
            raw = match.group(0)
            if raw in self._emoji:
                words: Iterable[_Views] = self._emoji[raw]
            else:
                word = fold_word(raw)
                table = self._units if match.start() == previous_number_end else self._expansions
                # one letter held down ('zzzz', 'mmmm') is not the abbreviation of
                # that letter ('z' = 'vậy'): keyboard noise stays noise
                held_down = len(raw) >= 3 and len(set(raw.lower())) == 1 and raw.isalpha()
                words = (None if held_down else table.get(word)) or ((word, written_word(raw)),)
            previous_number_end = match.end() if raw.isdigit() else -1
            for folded, written in words:
                result.append(NormalToken(folded, match.start(), match.end(), written))
                if len(result) >= self.max_tokens:
                    return result
        return result

    def normalize(self, text: str) -> str:
        """The normalised text as one string: 'Mở TK ko đcccc' -> 'mo tai khoan khong duoc'."""
        return " ".join(token.text for token in self.tokens(text))

    def written(self, text: str) -> str:
        """The view as written as one string: 'Mở TK ko đcccc' -> 'mở tài khoản không đc'."""
        return " ".join(token.written for token in self.tokens(text))


def _expansion_table(entries: Mapping[str, str], name: str) -> Dict[str, Tuple[_Views, ...]]:
    """Fold the keys of a data-file table, both views of its values; refuse ambiguous keys."""
    table: Dict[str, Tuple[_Views, ...]] = {}
    for short, full in entries.items():
        key = fold_word(str(short))
        if not regex.fullmatch(_WORD, key):
            raise ValueError(f"{name}: key must be one word: {short!r}")
        if key in table:
            raise ValueError(f"{name}: {short!r} is the same key as another entry once folded ({key!r})")
        table[key] = _views(full)
    # A key that is itself a word of the language the table expands to would
    # rewrite that word everywhere: 'ttin' folds (stretched letters squashed)
    # to 'tin', and "tin nhắn" became "thông tin nhắn".
    words = {folded for expansion in table.values() for folded, _ in expansion}
    for key, expansion in table.items():
        if key in words and tuple(folded for folded, _ in expansion) != (key,):
            raise ValueError(f"{name}: the key {key!r} is a real word (it appears in an expansion); leave it out")
    return table


@lru_cache(maxsize=1)
def default_normalizer() -> TextNormalizer:
    """The normaliser built from the shipped data file (cached)."""
    return TextNormalizer.from_file()


def normalize(text: str) -> str:
    """Normalise ``text`` with the shipped data file."""
    return default_normalizer().normalize(text)


def has_words(text: str) -> bool:
    """True when the normalised text has at least one token with a letter."""
    return any(not token.text.isdigit() for token in default_normalizer().tokens(text or ""))
