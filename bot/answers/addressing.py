"""How to address the resident: the kinship term they present themselves with.

Vietnamese has no neutral "you". Elderly residents write "cháu ơi, chỉ bác
cách…", "bà muốn hỏi…", "cho chú hỏi…": the assistant should then say "bác",
"bà", "chú". :func:`detect` reads one message and returns the form it makes
clear (a key of :data:`FORMS`), or None; :func:`rewrite` turns the neutral
"anh/chị" of the answer texts into that form.

Rules (on the text as written, lower case):

- a kinship term the resident uses for themself: at the start of a clause and
  followed by a verb-like word ("bác muốn", "ông không biết", "chị cần"), or
  as the object of a request ("giúp bác", "cho bà hỏi", "chỉ cô với") —
  unless a possessive or a second kinship term follows ("bà nội", "bà con",
  "anh trai tôi", "ông bà"), which names somebody else;
- calling the assistant "cháu" or "con" ("cháu ơi", "con ơi") means an elder:
  "bác" when no term of their own says more;
- "tui", "tôi", "mình", "em" and everything else: None (the neutral "anh/chị").

Without diacritics only the unambiguous words count ("bac", "ong", "chau oi",
"con oi"): "co", "ba", "chi", "chu", "anh" are too often other words
("có", "ba", "chỉ", "chữ").
"""
from __future__ import annotations

import re
from typing import Any, Dict, Optional

from bot.nlu.normalizer import nfc_lower

# slot value -> the word the assistant says
FORMS = {"bac": "bác", "co": "cô", "chu": "chú", "ong": "ông", "ba": "bà", "anh": "anh", "chi": "chị"}
SLOT = "address_form"
ENTITY = "address_form"
ELDER = "bac"

_WRITTEN = {word: key for key, word in FORMS.items()}
# folded spellings that are (almost) never another word in a resident's message
_FOLDED = {"bac": "bac", "ong": "ong"}

_TERM = "|".join(sorted([*FORMS.values(), *_FOLDED], key=len, reverse=True))
# words that follow a self-reference: verbs, negations, auxiliaries
_VERB = (
    "muốn|cần|hỏi|không|chưa|có|đã|đang|sẽ|bị|làm|định|phải|mới|vừa|nhờ|xin|cảm|tên|năm|già|là|đi|được|thấy|"
    "nghe|biết|lấy|nhận|sợ|lo|hay|vẫn|cũng|ở|ra|vào|gọi|mở|dùng|quên|mất|tìm|đọc|bấm|cài|nộp|trả|rút|chuyển|"
    "thì|ko|k|hk|hong|hông|muon|can|hoi|khong|chua|da|dang|bi|lam|dinh|phai|moi|nho|xin|cam|ten|nam|gia|la|"
    "thay|biet|lay|nhan|so|van|cung|quen|mat|tim|doc|bam|cai|nop|tra|rut|chuyen"
)
# requests whose object is the one asking ("chỉ bác", "giúp bà"); not "cho"/"gửi"/"nói với",
# whose object is as often somebody else ("chuyển tiền cho bà")
_REQUEST = "giúp|giùm|dùm|chỉ|chỉ cho|bảo|hướng dẫn|giải thích|giup|gium|dum|chi cho|huong dan|giai thich"
# after a term: it names someone else ("bà nội", "anh trai tôi", "bà con", "ông bà")
_OTHER = (
    r"(?:tôi|tui|tao|mình|em|con|cháu|nội|ngoại|nhà|ấy|ta|trai|gái|cả|họ|hàng|xóm|già\s+(?:tôi|tui|nhà)|"
    r"toi|minh|chau|noi|ngoai|nha|ay|trai|gai|ho|xom|"
    + _TERM + r")\b"
)
_START = r"(?:^|[.,!?;:\n]\s*|\b(?:dạ|da|vâng|vang|ừ|ờ|thì|thưa|ơi|oi)\s+)"
_SELF = re.compile(rf"{_START}(?P<term>{_TERM})\s+(?!{_OTHER})(?:{_VERB})\b")
_OBJECT = re.compile(
    rf"\b(?:{_REQUEST})\s+(?P<term>{_TERM})\b(?!\s+{_OTHER})"
    rf"|\bcho\s+(?P<asker>{_TERM})\s+(?:hỏi|biết|xin|hoi|biet)\b"
)
_VOCATIVE_ELDER = re.compile(r"\b(?:cháu|con|chau)\s+(?:ơi|oi)\b|^\s*(?:cháu|chau)\s+(?:chỉ|giúp|chi|giup)\b")


def _key(term: str) -> Optional[str]:
    return _WRITTEN.get(term) or _FOLDED.get(term)


def detect(text: Optional[str]) -> Optional[str]:
    """The form ``text`` makes clear (a key of FORMS), or None."""
    if not text or text.startswith("/"):
        return None
    lowered = nfc_lower(text)
    candidates = []
    for pattern in (_SELF, _OBJECT):
        for match in pattern.finditer(lowered):
            group = "asker" if pattern is _OBJECT and match.group("asker") else "term"
            candidates.append((match.start(group), _key(match.group(group))))
    found = [key for _, key in sorted(candidates) if key]
    if found:
        return found[0]
    if _VOCATIVE_ELDER.search(lowered):
        return ELDER
    return None


_NEUTRAL = re.compile(r"\b([Aa])nh\s*/\s*[Cc]hị\b")


def rewrite(text: str, form: Optional[str]) -> str:
    """``text`` with the neutral "anh/chị" ("Anh/chị" at a sentence start) said as ``form``."""
    word = FORMS.get(form or "")
    if not word or not text or "/" not in text:
        return text

    def say(match: "re.Match[str]") -> str:
        return word[0].upper() + word[1:] if match.group(1) == "A" else word

    return _NEUTRAL.sub(say, text)


def address_responses(result: Dict[str, Any], slots: Dict[str, Any]) -> Dict[str, Any]:
    """An action server's result with its texts in the resident's form (slot ``address_form``).

    The form is the one the action itself sets, else the tracker's. Responses
    that name a domain response (``response``) are left to the Rasa NLG.
    """
    form = slots.get(SLOT)
    for event in result.get("events") or []:
        if isinstance(event, dict) and event.get("event") == "slot" and event.get("name") == SLOT:
            form = event.get("value")
    if not form:
        return result
    for message in result.get("responses") or []:
        if isinstance(message, dict) and isinstance(message.get("text"), str):
            message["text"] = rewrite(message["text"], form)
    return result
