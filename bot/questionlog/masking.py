"""Mask personal data in a resident's message before it goes into the question log.

``mask(text)`` replaces personal data with short placeholders and leaves every
other character of the message exactly as typed (diacritics, spacing, case):

    [CCCD]  12-digit citizen ID (căn cước)       [CMND]  9-digit old ID
    [SĐT]   phone number                          [STK]   bank account number
    [THẺ]   card number                           [OTP]   OTP / PIN / password
    [EMAIL] e-mail address

How it works (all on a folded copy of the text: lower case, no diacritics,
đ -> d, with an index map back to the original characters):

1. E-mail addresses are masked first.
2. A secret written after "mật khẩu/mk/password/pass ... là|:|=" (or after an
   OTP word) that is not a plain number, e.g. "Abc@123", becomes [OTP].
3. Digit groups are found: runs of digits joined by single spaces, dots or
   dashes, with an optional leading "+" or "(028)". Groups glued to letters
   that are not a keyword ("PE0100012345", "H12.34-250101-0001") are codes
   and are kept; dates and times (slashes, colons) are kept.
4. A group may hold several numbers ("năm 1990 0912345678"), so it is split
   into windows of whole chunks, each window classified, and the split that
   explains the most digits with confident labels wins.
5. A window is classified by, in order: public hotline (1800/1900) or date or
   amount (currency after it, money word before it, or 1.500.000 grouping) ->
   kept; "+" prefix -> [SĐT]; the nearest keyword within six words before or
   four after in the same sentence ("sđt", "cccd", "stk", "thẻ", "otp", ...),
   if the digit count fits that kind; the number's own shape (mobile/landline
   prefixes, 9704 or Luhn-valid cards, province code of a CCCD); and last,
   the digit count alone: 9 -> [CMND], 12 -> [CCCD], 10-11 starting with 0 or
   13 and more -> [STK].

Deliberately kept: hotlines 1800/1900 + 4-6 digits, numbers of fewer than 9
digits without a keyword, 10-11 digit numbers not starting with 0 without a
keyword, comma-grouped numbers (each comma part is a separate short number),
codes with letters glued in, dates, times, amounts, counts and percentages.
``mask(mask(x)) == mask(x)``: placeholders contain no digits and are never
read as keywords.
"""
from __future__ import annotations

import bisect
import re
import unicodedata
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple

CCCD = "CCCD"
CMND = "CMND"
SDT = "SĐT"
STK = "STK"
THE = "THẺ"
OTP = "OTP"
EMAIL = "EMAIL"
KINDS = (CCCD, CMND, SDT, STK, THE, OTP, EMAIL)
PLACEHOLDERS: Dict[str, str] = {kind: f"[{kind}]" for kind in KINDS}

_KEEP = "KEEP"  # a look-alike (amount, date, hotline) that must survive
_OTP_WEAK = "OTP?"  # "mã": an OTP keyword only if the sentence names an OTP
_CVV = "CVV"  # the 3-4 digits on a card's back: masked as [THẺ]

# Keywords, written folded (lower case, no diacritics, đ -> d).
_KEYWORDS: Dict[str, Tuple[str, ...]] = {
    OTP: (
        "otp", "ma otp", "smart otp", "smartotp", "xac thuc", "ma xac thuc", "ma xac nhan", "ma pin", "pin",
        "mat khau", "matkhau", "mat ma", "mk", "password", "passwd", "pass", "pw", "passcode", "code",
        "ma bao mat", "ma kich hoat", "ma giao dich", "ma dang nhap",
        # what a scammer asks for without saying "OTP": "đọc 6 số", "gửi mã vừa nhận"
        "doc", "doc so", "doc lai", "doc giup", "doc ma", "gui ma", "nhan ma", "ma vua nhan", "tin nhan ma",
        "so vua nhan", "so gui ve", "ma gui ve", "ma ve may",
    ),
    _CVV: ("cvv", "cvc", "cvv2", "cvc2", "ma cvv", "ma cvc", "so cvv", "ma bao mat the", "so mat sau", "mat sau the"),
    _OTP_WEAK: ("ma", "ma so"),
    SDT: (
        "sdt", "sdth", "so dt", "dt", "so dien thoai", "dien thoai", "sodienthoai", "dienthoai", "dthoai",
        "di dong", "didong", "phone", "tel", "mobile", "hotline", "zalo", "lien he", "lien lac", "goi",
        "nhan tin", "sim", "so may", "may ban", "fax",
    ),
    CCCD: ("cccd", "can cuoc", "cancuoc", "dinh danh", "so dinh danh", "ma dinh danh", "vneid"),
    CMND: ("cmnd", "cmt", "cmtnd", "chung minh", "chung minh nhan dan", "chung minh thu"),
    STK: (
        "stk", "so tk", "tk", "tai khoan", "so tai khoan", "taikhoan", "sotaikhoan", "account", "acc",
        "ngan hang", "vcb", "vietcombank", "bidv", "agribank", "agri", "techcombank", "tcb", "vietinbank",
        "vtb", "mb", "mbbank", "acb", "tpbank", "tpb", "vpbank", "vpb", "sacombank", "scb", "shb", "hdbank",
        "vib", "ocb", "msb", "seabank", "lpbank", "eximbank",
    ),
    THE: (
        "the", "so the", "atm", "visa", "master", "mastercard", "card", "napas", "jcb", "credit", "debit",
        "the tin dung", "the ghi no",
    ),
}
# Digit counts a keyword can vouch for.
_RANGES: Dict[str, range] = {
    OTP: range(4, 9), _OTP_WEAK: range(4, 9), SDT: range(8, 12), CCCD: range(9, 13), CMND: range(9, 13),
    STK: range(6, 20), THE: range(12, 20), _CVV: range(3, 5),
}
_KIND_ORDER = (_CVV, OTP, _OTP_WEAK, SDT, CCCD, CMND, STK, THE)
_BEFORE_WORDS = 6
_MAX_CHUNKS = 12  # "0 9 1 2 3 4 5 6 7 8" is still a phone number
_AFTER_WORDS = 4
# "cua mk" is "của mình" (mine), not "mật khẩu".
_MK_NOT_AFTER = frozenset({"cua", "cho", "voi", "ca", "giup"})
# A letter word glued in front of digits that still lets them be personal data.
_GLUE_OK = frozenset(
    kw for kind in (OTP, SDT, CCCD, CMND, STK, THE, _CVV) for kw in _KEYWORDS[kind] if " " not in kw
) | {"so"}
# A word right before an amount ("giá 150.000.000", "số tiền là 123456789").
_MONEY_BEFORE = frozenset({
    "gia", "phi", "tien", "tong", "het", "mat", "tra", "nop", "toan", "luong", "muc", "vay", "no", "chuyen",
    "vnd", "usd",
})
# Words that may stand between that word and the amount.
_MONEY_FILLER = frozenset({"la", "khoang", "tam", "gan", "hon", "tren", "duoi", "tu", "den", "co", "chi"})
_PROVINCES = frozenset(
    "001 002 004 006 008 010 011 012 014 015 017 019 020 022 024 025 026 027 030 031 033 034 035 036 037 "
    "038 040 042 044 045 046 048 049 051 052 054 056 058 060 062 064 066 067 068 070 072 074 075 077 079 "
    "080 082 083 084 086 087 089 091 092 093 094 095 096".split()
)

# Zero-width and other invisible characters, dropped before matching.
_INVISIBLE = frozenset("\u00ad\u180e\u200b\u200c\u200d\u200e\u200f\u2060\u2061\u2062\u2063\u2064\ufeff")

_FOLDED_PLACEHOLDERS = "|".join(
    sorted({re.escape(p.lower().replace("đ", "d").replace("ẻ", "e")) for p in PLACEHOLDERS.values()})
)
_EMAIL = r"(?<![a-z0-9._%+\-])[a-z0-9][a-z0-9._%+\-]*@[a-z0-9](?:[a-z0-9\-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9\-]*[a-z0-9])?)*\.[a-z]{2,}"
_EMAIL_RE = re.compile(_EMAIL)
_TOKEN_RE = re.compile(rf"(?P<ph>{_FOLDED_PLACEHOLDERS})|(?P<email>{_EMAIL})|(?P<num>[0-9]+)|(?P<word>[^\W\d_]+)")
_SENTENCE_END_RE = re.compile(r"[.!?…]+(?=\s|$)|\n")
_CLAUSE_END_RE = re.compile(r"[,;()]")
# Chunks of a number are joined by spaces or tabs (one or more), or by one of
# . - – _ / with optional spaces around it ("0912 - 345 - 678", "0912/345/678").
_SEP = r"(?:[ \t\u00a0]*[.\-\u2013_/][ \t\u00a0]*|[ \t\u00a0]+|\)[ \t\u00a0]?)"
_GROUP_RE = re.compile(r"(?<![0-9])(?:\(?\+[ \u00a0]?|\()?[0-9]+(?:" + _SEP + r"[0-9]+)*")
_CHUNK_RE = re.compile(r"[0-9]+")
_CURRENCY_AFTER_RE = re.compile(
    r"[ \u00a0]?(?:₫|\$|(?:vnd|vn|dong|d|k|tr|trieu|nghin|ngan|ty|ti|cu|usd|dola|euro|eur|xu)(?![a-z]))"
)
_UNIT_AFTER_RE = re.compile(
    r"[ \u00a0]?(?:%|(?:mah|kwh|kw|gb|mb|kb|tb|km|kg|cm|mm|m2|m3|ml|lit|lan|nguoi|phut|giay|tieng|tuoi|"
    r"trang|cai|chiec|buoc|h|p|s)(?![a-z]))"
)
_SECRET_RE = re.compile(
    r"(?<![a-z])(?P<kw>mat khau|matkhau|mat ma|mk|password|passwd|pass|pw|ma otp|otp|ma xac thuc|"
    r"ma xac nhan|ma pin|pin)(?![a-z])(?:[ \t]+[a-z]+){0,3}?(?:[ \t]*[:=]|[ \t]+(?:la|is)(?![a-z]))"
    r"[ \t]*(?P<tok>[^\s]+)"
)
_PASSWORD_WORDS = frozenset({"mat khau", "matkhau", "mat ma", "mk", "password", "passwd", "pass", "pw"})
# One Vietnamese syllable written without diacritics ("gi", "sai", "truong"): a word, not a password.
_SYLLABLE_RE = re.compile(r"(?:ngh|ng|nh|ch|gh|gi|kh|ph|qu|th|tr|[bcdghklmnprstvx])?[aeiouy]{1,3}(?:ch|ng|nh|[cmnptiouy])?")
_NUMBER_UNIT_RE = re.compile(r"[0-9]+[a-z]{1,4}")  # 5000mah
_TRAILING_PUNCT = ".,;!?)]}\"'…"
_PLACEHOLDER_START_RE = re.compile(rf"[\"'(\[{{]*(?:{_FOLDED_PLACEHOLDERS})")
_DIGIT_GROUP_TOKEN_RE = re.compile(r"[+(]?[0-9][0-9 .\-()]*")


@dataclass(frozen=True)
class Masked:
    start: int  # offsets in the original text
    end: int
    kind: str

    @property
    def placeholder(self) -> str:
        return PLACEHOLDERS[self.kind]


def mask(text: str) -> str:
    """The text with personal data replaced by placeholders ("[SĐT]", "[CCCD]", ...)."""
    if not text:
        return text
    out = text
    for item in sorted(find(text), key=lambda m: m.start, reverse=True):
        out = out[: item.start] + item.placeholder + out[item.end :]
    return out


def found_kinds(text: str) -> List[str]:
    """The kinds masked in the text, one per masked item, in reading order ("SĐT", "CCCD", ...)."""
    return [item.kind for item in find(text or "")]


def find(text: str) -> List[Masked]:
    """Everything `mask` replaces, in reading order, as spans of the original text."""
    if not text:
        return []
    folded, index = _fold(text)
    spans: List[Tuple[int, int, str]] = []  # in folded offsets

    def free(start: int, end: int) -> bool:
        return all(end <= s or start >= e for s, e, _ in spans)

    for m in _EMAIL_RE.finditer(folded):
        spans.append((m.start(), m.end(), EMAIL))
    for start, end in _secret_tokens(text, folded, index):
        if free(start, end):
            spans.append((start, end, OTP))

    context = _Context(folded)
    for start, end, kind in _spelt_numbers(folded, context):
        if free(start, end):
            spans.append((start, end, kind))
    for group in _GROUP_RE.finditer(folded):
        if not free(group.start(), group.end()):
            continue
        for start, end, kind in _classify_group(folded, group, context):
            spans.append((start, end, kind))

    return [Masked(index[s], index[e], kind) for s, e, kind in sorted(spans)]


# --- folding ---------------------------------------------------------------

def _fold(text: str) -> Tuple[str, List[int]]:
    """Lower case, no diacritics, đ -> d, NFKC (full-width digits are digits), invisible
    characters dropped; plus, for each folded char, its index in `text`."""
    chars: List[str] = []
    index: List[int] = []
    for i, ch in enumerate(text):
        if ch in _INVISIBLE:
            continue  # "0912\u200b345678" is one number
        if ch in "đĐ":
            base = "d"
        else:
            compat = unicodedata.normalize("NFKC", ch) if not ch.isascii() else ch
            base = "".join(c for c in unicodedata.normalize("NFD", compat) if not unicodedata.combining(c))
        low = base.lower()
        for c in low if len(low) == len(base) else base:
            chars.append(c)
            index.append(i)
    index.append(len(text))
    return "".join(chars), index


# --- context ---------------------------------------------------------------

@dataclass(frozen=True)
class _Word:
    start: int
    end: int
    text: str
    sentence: int


class _Context:
    """Words of the message (placeholders, e-mails and numbers are not words) and sentences."""

    def __init__(self, folded: str) -> None:
        self.folded = folded
        self._ends = [m.end() for m in _SENTENCE_END_RE.finditer(folded)]
        self.words = [
            _Word(m.start(), m.end(), m.group(), self.sentence(m.start()))
            for m in _TOKEN_RE.finditer(folded)
            if m.lastgroup == "word"
        ]
        self._starts = [w.start for w in self.words]
        self._sentence_words: Dict[int, List[str]] = {}
        self._otp_sentences: Dict[int, bool] = {}
        for w in self.words:
            self._sentence_words.setdefault(w.sentence, []).append(w.text)

    def sentence(self, pos: int) -> int:
        return bisect.bisect_right(self._ends, pos)

    def before(self, pos: int) -> List[_Word]:
        sid = self.sentence(pos)
        i = bisect.bisect_left(self._starts, pos)
        return [w for w in self.words[max(0, i - _BEFORE_WORDS) : i] if w.sentence == sid and w.end <= pos]

    def after(self, pos: int, sid: int) -> List[_Word]:
        """The next words of the same clause ("123456 la ma otp", not "123456, so tai khoan")."""
        i = bisect.bisect_left(self._starts, pos)
        words = [w for w in self.words[i : i + _AFTER_WORDS] if w.sentence == sid]
        return [w for w in words if not _CLAUSE_END_RE.search(self.folded, pos, w.start)]

    def sentence_has_otp_word(self, sid: int) -> bool:
        if sid not in self._otp_sentences:
            words = self._sentence_words.get(sid, [])
            self._otp_sentences[sid] = any(_find_keyword(words, kw) for kw in _KEYWORDS[OTP])
        return self._otp_sentences[sid]


def _find_keyword(words: Sequence[str], keyword: str) -> List[int]:
    """Start positions of `keyword` (one or more words) in `words`."""
    parts = keyword.split()
    n = len(parts)
    return [i for i in range(len(words) - n + 1) if list(words[i : i + n]) == parts]


def _keyword_hits(before: Sequence[_Word], after: Sequence[_Word]) -> List[Tuple[float, int, str]]:
    """(distance in words, -keyword length, kind) for every keyword near a number, nearest first."""
    bw = [w.text for w in before]
    aw = [w.text for w in after]
    hits: List[Tuple[float, int, str]] = []
    for kind in _KIND_ORDER:
        for kw in _KEYWORDS[kind]:
            n = len(kw.split())
            for i in _find_keyword(bw, kw):
                if kw == "mk" and i > 0 and bw[i - 1] in _MK_NOT_AFTER:
                    continue
                hits.append((len(bw) - (i + n), -len(kw), kind))
            for i in _find_keyword(aw, kw):
                hits.append((i + 0.5, -len(kw), kind))
    hits.sort(key=lambda h: (h[0], h[1], _KIND_ORDER.index(h[2])))
    return hits


# --- secrets that are not plain numbers ------------------------------------

def _secret_tokens(text: str, folded: str, index: List[int]) -> List[Tuple[int, int]]:
    found = []
    for m in _SECRET_RE.finditer(folded):
        kw = m.group("kw")
        if kw == "mk":
            before = folded[: m.start()].split()
            if before and before[-1] in _MK_NOT_AFTER:
                continue
        start, end = m.span("tok")
        if _PLACEHOLDER_START_RE.match(folded, start):
            continue
        while end > start and folded[end - 1] in _TRAILING_PUNCT:
            end -= 1
        while start < end and folded[start] in "\"'([{":
            start += 1
        token = folded[start:end]
        if not token or _DIGIT_GROUP_TOKEN_RE.fullmatch(token):
            continue
        original = text[index[start] : index[end]]
        has_digit = any(c.isdigit() for c in token)
        has_letter = any(c.isalpha() for c in token)
        if kw in _PASSWORD_WORDS:
            looks_secret = (
                has_digit
                or any(not c.isalnum() for c in token)
                or (any(c.isupper() for c in original[1:]) and any(c.islower() for c in original))
                or (original.isascii() and original.isalpha() and len(token) >= 4 and not _SYLLABLE_RE.fullmatch(token))
            )
        else:
            looks_secret = has_digit and has_letter and 4 <= len(token) <= 12 and not _NUMBER_UNIT_RE.fullmatch(token)
        if looks_secret:
            found.append((start, end))
    return found


# --- numbers spelt in words ("không chín một hai ...") ----------------------

_DIGIT_WORDS = {
    "khong": "0", "mot": "1", "hai": "2", "ba": "3", "bon": "4", "tu": "4", "nam": "5", "lam": "5",
    "sau": "6", "bay": "7", "tam": "8", "chin": "9",
}
_SPELT_RE = re.compile(
    r"(?<![a-z])(?:" + "|".join(_DIGIT_WORDS) + r")(?:[ \t\u00a0,.\-]+(?:" + "|".join(_DIGIT_WORDS) + r"))+(?![a-z])"
)
_MIN_SPELT = 6  # "ba bốn năm" is ordinary text; six digit words in a row are a number read out


def _spelt_numbers(folded: str, context: "_Context") -> List[Tuple[int, int, str]]:
    found = []
    for m in _SPELT_RE.finditer(folded):
        words = re.findall(r"[a-z]+", m.group())
        if len(words) < _MIN_SPELT:
            continue
        digits = "".join(_DIGIT_WORDS[w] for w in words)
        sid = context.sentence(m.start())
        kind, _ = _label(
            window=[digits], seps=[], at_start=True, at_end=True, plus=False,
            hits=_keyword_hits(context.before(m.start()), context.after(m.end(), sid)),
            otp_sentence=context.sentence_has_otp_word(sid), adjacent_word=None,
            money_before=False, currency_after=False, unit_after=False,
        )
        if kind == _KEEP:
            continue
        found.append((m.start(), m.end(), kind or OTP))  # a short number read out is a code
    return found


# --- digit groups ----------------------------------------------------------

@dataclass(frozen=True)
class _Chunk:
    start: int
    end: int
    digits: str


def _classify_group(folded: str, group: "re.Match[str]", context: _Context) -> List[Tuple[int, int, str]]:
    gs, ge = group.span()
    chunks = [_Chunk(gs + m.start(), gs + m.end(), m.group()) for m in _CHUNK_RE.finditer(group.group())]
    total = sum(len(c.digits) for c in chunks)
    if _is_code_or_clock(folded, gs, ge, total):
        return []
    plus = "+" in folded[gs : chunks[0].start]
    lead = gs  # where a window starting at the first chunk begins: "+84 ...", "(028) ..."
    if folded[gs] == "(" and not (len(chunks) > 1 and ")" in folded[chunks[0].end : chunks[1].start]):
        lead = gs + 1  # "(001099012345)": the bracket is not part of the number
    before = context.before(gs)
    sid = context.sentence(gs)
    after = context.after(ge, sid)
    hits = _keyword_hits(before, after)
    otp_sentence = context.sentence_has_otp_word(sid)
    adjacent_word = before[-1].text if before and not folded[before[-1].end : gs].strip(" \u00a0:") else None
    money_before = _money_before([w.text for w in before])
    tail = folded[ge : ge + 12]
    currency_after = bool(_CURRENCY_AFTER_RE.match(tail))
    unit_after = bool(_UNIT_AFTER_RE.match(tail))

    def label(i: int, j: int) -> Tuple[Optional[str], int]:
        window = chunks[i:j]
        seps = [_sep_kind(folded[a.end : b.start]) for a, b in zip(window, window[1:])]
        return _label(
            window=[c.digits for c in window],
            seps=seps,
            at_start=i == 0,
            at_end=j == len(chunks),
            plus=plus and i == 0,
            hits=hits,
            otp_sentence=otp_sentence,
            adjacent_word=adjacent_word,
            money_before=money_before,
            currency_after=currency_after,
            unit_after=unit_after,
        )

    # best[i]: best (strong digits, labelled digits, -labels) for chunks[i:], with its windows.
    n = len(chunks)
    best: List[Tuple[Tuple[int, int, int], List[Tuple[int, int, str]]]] = [((0, 0, 0), [])] * (n + 1)
    for i in range(n - 1, -1, -1):
        choice = best[i + 1]
        for j in range(i + 1, min(n, i + _MAX_CHUNKS) + 1):
            kind, strength = label(i, j)
            if kind is None:
                continue
            digits = sum(len(c.digits) for c in chunks[i:j])
            rest_score, rest = best[j]
            score = (rest_score[0] + (digits if strength == 2 else 0), rest_score[1] + digits, rest_score[2] - 1)
            if score > choice[0]:
                choice = (score, [(i, j, kind)] + rest)
        best[i] = choice

    spans = []
    for i, j, kind in best[0][1]:
        if kind == _KEEP:
            continue
        start = lead if i == 0 else chunks[i].start
        spans.append((start, chunks[j - 1].end, kind))
    return spans


def _sep_kind(sep: str) -> str:
    """"." for ". " or " . ", "-" for " – ", " " for any run of spaces and tabs."""
    stripped = sep.strip(" \t\u00a0").replace("\u2013", "-")
    return stripped or " "


def _money_before(words: List[str]) -> bool:
    i = len(words) - 1
    while i > 0 and words[i] in _MONEY_FILLER:
        i -= 1
    return i >= 0 and words[i] in _MONEY_BEFORE


def _is_code_or_clock(folded: str, gs: int, ge: int, total: int) -> bool:
    """Digits that belong to a code with letters, a date written with slashes, or a time."""
    prev = folded[gs - 1] if gs > 0 else ""
    if prev in "/:," and gs > 1 and folded[gs - 2].isdigit() and total <= 4:
        return True  # 25/11/2026, 08:30, 2,5
    nxt = folded[ge] if ge < len(folded) else ""
    if nxt in "/:," and ge + 1 < len(folded) and folded[ge + 1].isdigit() and total <= 4:
        return True
    # Letters glued in front: a keyword ("sdt0912345678") or part of a code ("PE0100012345").
    pos = gs
    if prev in ".-_/" and gs > 1 and folded[gs - 2].isalpha():
        if prev == "/" and total >= 9:
            pos = -1  # a link such as zalo.me/0912345678
        else:
            pos = gs - 1
    if pos > 0 and folded[pos - 1].isalpha():
        k = pos
        while k > 0 and folded[k - 1].isalpha():
            k -= 1
        word = folded[k:pos]
        if not (word in _GLUE_OK or any(len(kw) >= 3 and word.endswith(kw) for kw in _GLUE_OK)):
            return True
    elif pos > 1 and prev in ".-_" and folded[gs - 2].isdigit():
        return True
    # Letters glued behind: a unit ("5000mah", "8h30"), a code ("12AB34") or a stray word.
    if nxt.isalpha() and not _CURRENCY_AFTER_RE.match(folded[ge : ge + 12]):
        k = ge
        while k < len(folded) and folded[k].isalpha():
            k += 1
        if (k < len(folded) and folded[k].isdigit()) or total <= 8:
            return True
    return False


def _label(
    window: List[str],
    seps: List[str],
    at_start: bool,
    at_end: bool,
    plus: bool,
    hits: List[Tuple[float, int, str]],
    otp_sentence: bool,
    adjacent_word: Optional[str],
    money_before: bool,
    currency_after: bool,
    unit_after: bool,
) -> Tuple[Optional[str], int]:
    """(kind or _KEEP or None, strength: 2 sure, 1 by digit count only)."""
    digits = "".join(window)
    n = len(digits)
    leading_zero = digits[0] == "0" and n > 1
    amount_shape = _amount_shape(window, seps)

    # Look-alikes that must survive.
    if not plus and digits[:4] in ("1800", "1900") and 8 <= n <= 10:
        return _KEEP, 2
    if _is_date(window, seps):
        return _KEEP, 2
    if len(window) >= 2 and all(len(c) == 4 and 1900 <= int(c) <= 2099 for c in window) and set(seps) <= {" "}:
        return _KEEP, 2  # a list of years
    if amount_shape and not leading_zero and not plus:
        if at_end and currency_after:
            return _KEEP, 2
        if at_start and money_before:
            return _KEEP, 2
        if (
            len(window) >= 2 and set(seps) == {"."} and len(window[0]) <= 2
            and not any(kind != _OTP_WEAK for _, _, kind in hits)
        ):
            return _KEEP, 2  # 1.500.000, 15.000.000.000
    if at_end and unit_after and n <= 8:
        return _KEEP, 2
    if at_start and n == 4 and adjacent_word == "nam" and digits[:2] in ("19", "20"):
        return _KEEP, 2  # năm 2025

    if plus and 8 <= n <= 15:
        return SDT, 2

    # The nearest keyword whose kind fits the digit count.
    for _, _, kind in hits:
        if n not in _RANGES[kind]:
            continue
        if kind == _OTP_WEAK:
            if not otp_sentence:
                continue
            kind = OTP
        if kind in (CCCD, CMND):
            if n not in (9, 12):
                continue
            kind = CMND if n == 9 else CCCD
        if kind == _CVV:
            kind = THE
        return kind, 2

    # The number's own shape.
    if _is_phone(digits):
        return SDT, 2
    if _is_card(digits, window):
        return THE, 2
    if n == 12 and digits[:3] in _PROVINCES:
        return CCCD, 2

    # The digit count alone.
    if n == 9:
        return CMND, 1
    if n == 12:
        return CCCD, 1
    if (n in (10, 11) and digits[0] == "0") or n >= 13:
        return STK, 1
    return None, 0


def _amount_shape(window: List[str], seps: List[str]) -> bool:
    if len(window) == 1:
        return True
    if len(set(seps)) != 1 or seps[0] not in (".", " ", "\u00a0"):
        return False
    return 1 <= len(window[0]) <= 3 and all(len(c) == 3 for c in window[1:])


def _is_date(window: List[str], seps: List[str]) -> bool:
    if len(window) != 3 or len(set(seps)) != 1 or seps[0] not in ("-", ".", "/"):
        return False
    a, b, c = window
    if len(a) == 4:
        a, c = c, a  # 2025-07-01
    if len(c) not in (2, 4) or not (1 <= len(a) <= 2 and 1 <= len(b) <= 2):
        return False
    return 1 <= int(a) <= 31 and 1 <= int(b) <= 12


def _is_phone(d: str) -> bool:
    n = len(d)
    if n == 10 and d[0] == "0" and d[1] in "35789":
        return True  # mobile 09x, 08x, 07x, 05x, 03x
    if n in (10, 11) and d.startswith("02"):
        return True  # landline 02xx
    if n == 11 and d.startswith("01") and d[2] in "2689":
        return True  # old 11-digit mobile
    if n == 11 and d.startswith("84") and d[2] in "35789":
        return True  # 84912345678
    if n == 12 and d.startswith("840") and d[3] in "35789":
        return True  # 840912345678
    if n in (11, 12) and d.startswith("842"):
        return True  # 84 28 3822 1234
    return False


def _is_card(d: str, window: List[str]) -> bool:
    n = len(d)
    if n in (16, 19):
        return d.startswith("9704") or _luhn(d) or (n == 16 and [len(c) for c in window] == [4, 4, 4, 4])
    return n == 15 and d[:2] in ("34", "37") and _luhn(d)


def _luhn(d: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(d)):
        v = int(ch)
        if i % 2:
            v *= 2
            if v > 9:
                v -= 9
        total += v
    return total % 10 == 0
