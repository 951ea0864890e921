"""A realistic synthetic question log, so admins can try the dashboard.

    python -m bot.questionlog.seed --rows 1000000 --days 30 [--database URL]

Residents (sender hashes) on Zalo 55 %, web 25 %, Telegram 20 % hold 1-4
conversations of 1-6 messages each. Conversations start more often on weekday
mornings (7-11h) and evenings (19-21h) Viet Nam time, a little more every day
of the period, and more on the 1st-5th of the month, when allowances are paid
and questions about benefits and bank accounts jump. Texts are the training
and held-out NLU examples (the way residents really type) with their own
intents; about 9 % of messages are not understood (texts below, outside the
assistant's topics), about 3 % out of scope, and about 4 % of conversations
ask for a person. Personal data only ever appears as masking placeholders.

Every conversation that asks for a person also gets a hand-off ticket
(`handoff_tickets`, for the dashboard's hand-off figures): a commune from a
fixed list (some residents name none), taken within minutes in office hours
and much later outside them (so some are reminded after 15 minutes), a few
never taken, most closed, and about 60 % of the closed ones rated 1-5 (mostly
4 and 5). Events that would fall after the end of the period have not
happened yet, so the newest tickets are still open.

Everything comes from one `random.Random(seed)`: the same seed and end give
the same rows (the tickets have their own generator, seeded from the same
seed, so they do not change the log rows). PostgreSQL is filled with COPY,
SQLite with batched executemany in one transaction.
"""
from __future__ import annotations

import argparse
import bisect
import csv
import hashlib
import io
import sys
import time
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from itertools import accumulate
from pathlib import Path
from random import Random
from typing import Dict, Iterator, List, Optional, Sequence, Tuple

import yaml

from bot.nlu.training_examples import read_examples

ROOT = Path(__file__).resolve().parents[2]
NLU_FILES = sorted((ROOT / "nlu_data" / "nlu").glob("*.yml")) + [ROOT / "tests" / "nlu_holdout.yml"]
RULE_FILES = sorted((ROOT / "nlu_data" / "rules").glob("*.yml"))

VIETNAM = timezone(timedelta(hours=7))
COLUMNS = (
    "asked_at", "channel", "sender_hash", "conversation_id", "text_masked", "intent", "confidence",
    "ranking", "fallback", "out_of_scope", "answer", "handoff", "review_status", "assigned_intent",
)

CHANNELS = (("zalo", 55), ("web", 25), ("telegram", 20))
CONVERSATIONS_PER_RESIDENT = ((1, 45), (2, 30), (3, 15), (4, 10))
MESSAGES_PER_CONVERSATION = ((1, 14), (2, 21), (3, 22), (4, 18), (5, 14), (6, 11))
FALLBACK_SHARE = 0.09
OUT_OF_SCOPE_SHARE = 0.03
HANDOFF_SHARE = 0.04  # of conversations
HANDOFF_INTENT = "request_human"  # one ticket per conversation with this message
JOURNEY_SHARE = 0.07  # of conversations: a guided step-by-step journey
MASKED_SHARE = 0.08   # of messages on topics where residents type personal data
VOLUME_RISE = 0.35    # the last day of the period is this much busier than the first
PAYDAY_DAYS = range(1, 6)
PAYDAY_VOLUME = 1.4

# Conversation starts per hour of the day, Viet Nam time.
WEEKDAY_HOURS = (
    0.15, 0.07, 0.04, 0.04, 0.08, 0.35, 0.9, 1.8, 2.5, 2.6, 2.3, 1.7,
    0.9, 0.8, 1.1, 1.2, 1.1, 1.0, 1.2, 2.0, 2.2, 1.8, 0.8, 0.35,
)
WEEKEND_HOURS = (
    0.2, 0.08, 0.04, 0.04, 0.06, 0.25, 0.6, 1.0, 1.4, 1.5, 1.4, 1.1,
    0.8, 0.7, 0.9, 1.0, 1.0, 0.9, 1.0, 1.5, 1.7, 1.4, 0.7, 0.35,
)
WEEKEND_VOLUME = 0.75

# How often each topic is asked about, and how much more on allowance days.
TOPICS = {
    "ask_benefit_via_bank": (10, 4.0), "ask_open_bank_account": (8, 1.8), "ask_withdraw_cash": (6, 3.0),
    "ask_bank_biometric": (6, 2.0), "ask_no_smartphone": (4, 1.5), "ask_authorize_relative": (4, 2.0),
    "ask_pay_electricity": (9, 1.0), "ask_pay_water": (6, 1.0), "ask_pay_fees": (4, 1.0),
    "ask_customer_code": (4, 1.0), "ask_autopay": (3, 1.0), "ask_vneid": (10, 1.0),
    "ask_portal_login": (6, 1.0), "ask_submit_online": (6, 1.0), "ask_track_dossier": (5, 1.0),
    "ask_feedback": (2, 1.0), "ask_digital_signature": (2, 1.0), "ask_e_tax": (3, 1.0),
    "report_scam": (4, 1.0), "ask_community_team": (3, 1.0),
}
# Which intents the classifier confuses a topic with (the ranking's runners-up).
TOPIC_GROUPS = (
    ("ask_benefit_via_bank", "ask_open_bank_account", "ask_withdraw_cash", "ask_bank_biometric",
     "ask_no_smartphone", "ask_authorize_relative"),
    ("ask_pay_electricity", "ask_pay_water", "ask_pay_fees", "ask_customer_code", "ask_autopay"),
    ("ask_vneid", "ask_portal_login", "ask_submit_online", "ask_track_dossier", "ask_feedback",
     "ask_digital_signature", "ask_e_tax"),
    ("report_scam", "ask_community_team", "request_human", "ask_help_menu"),
    ("greet", "goodbye", "thank", "affirm", "deny", "bot_challenge", "ask_help_menu"),
    ("start_journey", "journey_next", "journey_back", "journey_stop", "journey_resume", "journey_choose"),
)

FALLBACK_ANSWER = "action_check_fallback"
HANDOFF_ANSWER = "utter_request_human, handoff_form"
COMMUNE_ANSWER = "handoff_form, action_handoff"
IN_JOURNEY_ANSWER = "journey_form"

# Messages the assistant did not understand: real questions outside its topics,
# the way residents type them (with and without diacritics, typos, teencode).
FALLBACK_TEXTS = (
    # thẻ BHYT
    "thẻ bảo hiểm y tế hết hạn thì gia hạn ở đâu",
    "the bhyt cua me toi bi mat lam lai the nao",
    "bhyt hộ gia đình năm nay đóng bao nhiêu 1 người",
    "kham benh trai tuyen co duoc bhyt chi tra k",
    "thẻ bhyt tren vssid ko hien thi la sao ad",
    "người trên 80 tuổi có được cấp thẻ bhyt miễn phí không",
    "doi noi kham ban dau bhyt lam sao",
    # đổi giấy phép lái xe
    "đổi bằng lái xe ô tô hết hạn làm ở đâu",
    "doi gplx giay sang the pet online duoc ko",
    "bằng lái xe máy A1 có phải đổi không hay dùng mãi",
    "mat bang lai xe thi xin cap lai the nao",
    "gplx hết hạn 2 tháng rồi có phải thi lại k ad",
    "doi bang lai tren dvc mat bao nhieu tien",
    # khai sinh online
    "làm giấy khai sinh cho con trên mạng thế nào",
    "dang ky khai sinh online cho be can nhung gi",
    "khai sinh cho cháu mà bố mẹ chưa đăng ký kết hôn được không",
    "lam khai sinh qua mang bao lau thi co ban giay",
    "khai sinh lien thong bhyt va thuong tru cho be o dau",
    "sai tên trên giấy khai sinh thì sửa ở đâu ạ",
    "e muon trich luc khai sinh ban sao thi xin o dau",
    # lương hưu
    "bao giờ được tăng lương hưu",
    "luong huu thang nay sao chua ve tai khoan",
    "đóng bhxh 18 năm có được lương hưu không",
    "nhan luong huu qua buu dien hay ngan hang tot hon",
    "mẹ tôi mất thì lương hưu còn lại ai được nhận",
    "rút bhxh 1 lần hay để hưởng hưu thì lợi hơn ad",
    "so nam dong bhxh xem o dau a",
    # học phí đại học
    "học phí đại học năm nay bao nhiêu 1 tín chỉ",
    "hoc phi dai hoc co duoc mien giam cho ho ngheo k",
    "vay von sinh vien o ngan hang chinh sach the nao",
    "con em dau dai hoc ma nha kho khan co hoc bong gi khong",
    "đóng học phí cho con học đại học trễ hạn có bị đuổi học k",
    "hoc phi truong su pham co phai dong khong",
    # sổ đỏ
    "làm sổ đỏ lần đầu mất bao lâu",
    "sang ten so do cho con thi dong thue bao nhieu",
    "so do bi mat thi xin cap lai o dau",
    "tách thửa đất để chia cho các con làm thế nào",
    "dat ong ba de lai chua co so do thi lam sao",
    "sổ hồng với sổ đỏ khác nhau chỗ nào ad",
    "thế chấp sổ đỏ vay ngân hàng được bao nhiêu",
    # điện mặt trời
    "lắp điện mặt trời áp mái có bán điện cho evn được không",
    "dien mat troi 5kw lap het bao nhieu tien",
    "điện mặt trời mái nhà có phải xin phép k",
    "lap pin nang luong mat troi co giam tien dien ko",
    "he thong dien mat troi hoa luoi dang ky o dau",
    "tấm pin mặt trời bị hỏng thì ai bảo hành",
    # 4G / SIM chuẩn hoá thông tin
    "chuẩn hóa thông tin thuê bao sim thế nào",
    "sim bi khoa 1 chieu vi chua chuan hoa thong tin",
    "nhà mạng nhắn tin bắt cập nhật cccd cho sim có phải lừa đảo k",
    "doi sim 4g cho dien thoai cu co mat tien k",
    "sim chính chủ đứng tên người khác thì đổi tên sao",
    "mang 4g cham qua bao cho ai",
    "cap nhat anh chan dung cho sim tren app my viettel ntn",
    # vé tàu xe
    "mua vé tàu tết trên mạng ở đâu",
    "ve tau ha noi sai gon bao nhieu tien",
    "dat ve xe khach ve que online the nao",
    "người cao tuổi mua vé tàu có được giảm giá không",
    "ve may bay gia re tet mua o dau",
    "tra ve tau co mat phi khong",
    "xe bus liên tỉnh có cho chở xe máy k ad",
    # thuế TNCN
    "giảm trừ gia cảnh thuế tncn bao nhiêu 1 tháng",
    "luong 15 trieu co phai dong thue tncn khong",
    "đăng ký người phụ thuộc cho mẹ già để giảm thuế",
    "ban dat thi thue thu nhap ca nhan tinh bao nhieu phan tram",
    "cho thuê nhà 8tr/tháng có phải đóng thuế tncn k",
    "lam 2 noi thi quyet toan thue tncn tinh the nao",
    "tiền thưởng tết có tính thuế tncn k ạ",
)

# Topic messages that had personal data: what the log keeps after masking.
MASKED_TEXTS = (
    ("số cccd của tôi là [CCCD], kiểm tra giúp tôi tài khoản định danh", "ask_vneid"),
    ("so cccd cua toi la [CCCD]", "ask_vneid"),
    ("cccd [CCCD] dang nhap vneid bao sai mat khau", "ask_vneid"),
    ("vneid sdt [SĐT] ko nhan dc ma [OTP]", "ask_vneid"),
    ("đăng nhập dịch vụ công bằng số [CCCD] không được", "ask_portal_login"),
    ("tk dvc cua toi sdt [SĐT] bi khoa roi", "ask_portal_login"),
    ("hồ sơ tôi nộp tên đăng ký số cccd [CCCD] đến đâu rồi", "ask_track_dossier"),
    ("tra ho so giup toi, cccd [CCCD], sdt [SĐT] nhe", "ask_track_dossier"),
    ("stk của bác là [STK] sao tháng này chưa có tiền trợ cấp", "ask_benefit_via_bank"),
    ("tien tro cap chuyen vao stk [STK] chua a", "ask_benefit_via_bank"),
    ("tk nh [STK] nhan tro cap duoc ko ad", "ask_benefit_via_bank"),
    ("thẻ atm [THẺ] bị cây nuốt mất rồi", "ask_withdraw_cash"),
    ("the [THẺ] rut tien bao loi", "ask_withdraw_cash"),
    ("có người gọi số [SĐT] bảo đọc mã [OTP] để nhận tiền hỗ trợ", "report_scam"),
    ("so [SĐT] nhan tin bao toi trung thuong, bat chuyen tien vao tk [STK]", "report_scam"),
    ("lỡ đọc mã [OTP] cho người lạ rồi phải làm sao", "report_scam"),
    ("con tôi sdt [SĐT] nhờ nhận tiền hộ tôi được không", "ask_authorize_relative"),
    ("sdt [SĐT] nhe, nho can bo goi lai giup", "ask_community_team"),
    ("ma khach hang dien nha toi, chu ho cccd [CCCD], xem o dau", "ask_customer_code"),
    ("tai khoan [STK] dang ky thanh toan tien dien tu dong duoc ko", "ask_autopay"),
)

# Hand-off tickets: communes (as the team directory names them) and how often
# each is handed to, and the tickets' outcomes.
TICKET_COMMUNES = (
    ("Xã Tân Lập", 30), ("Xã Hòa Bình", 22), ("Phường Quang Trung", 16), ("Xã Đồng Tâm", 12),
    ("Phường Hùng Vương", 10), ("Xã Yên Hòa", 7), ("Xã Minh Khai", 5), ("Phường Trần Phú", 4),
    ("Xã Thanh Sơn", 3), ("Xã Phú Lộc", 2), ("Phường Lê Lợi", 2), ("Xã An Thịnh", 1),
)
NO_COMMUNE_SHARE = 0.08  # the resident named no commune (sent to the commune People's Committee)
TICKET_CHANNELS = {"web": "rest"}  # tickets keep Rasa's channel name (the log says "web")
NEVER_TAKEN_SHARE = 0.07
TAKE_MEDIAN_OFFICE, TAKE_MEDIAN_OFF_HOURS = 180.0, 1200.0  # seconds
REMINDER_AFTER = 900.0  # seconds
RATED_SHARE = 0.6  # of closed tickets
RATING_WEIGHTS = ((1, 4), (2, 6), (3, 15), (4, 35), (5, 40))
TEAM_MEMBERS = ("Nguyễn Văn An", "Trần Thị Bình", "Lê Văn Cường", "Phạm Thị Dung")

Row = Tuple  # in COLUMNS order; ranking as (name, confidence, name, confidence, ...)


# --- the example pools, computed once --------------------------------------

def _rule_answers() -> Dict[str, str]:
    """{intent: the actions of the first rule that starts with it, joined by ', '}."""
    answers: Dict[str, str] = {}
    for path in RULE_FILES:
        for rule in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("rules") or []:
            steps = rule.get("steps") or []
            if not steps:
                continue
            first = steps[0]
            intents = [first["intent"]] if "intent" in first else [
                option["intent"] for option in first.get("or") or [] if "intent" in option
            ]
            actions = [step["action"] for step in steps[1:] if "action" in step]
            for intent in intents:
                if actions:
                    answers.setdefault(intent, ", ".join(actions))
    return answers


class _Pools:
    def __init__(self) -> None:
        texts: Dict[str, List[str]] = {}
        for path in NLU_FILES:
            for text, intent in read_examples(path):
                pool = texts.setdefault(intent, [])
                if text not in pool:
                    pool.append(text)
        self.texts = {intent: tuple(pool) for intent, pool in texts.items()}
        self.answers = _rule_answers()
        self.answers["nlu_fallback"] = FALLBACK_ANSWER
        self.answers["request_human"] = HANDOFF_ANSWER
        self.answers["inform_commune"] = COMMUNE_ANSWER
        topics = [intent for intent in TOPICS if intent in self.texts]
        self.topics = tuple(topics)
        self.topic_cum = tuple(accumulate(TOPICS[i][0] for i in topics))
        self.payday_cum = tuple(accumulate(TOPICS[i][0] * TOPICS[i][1] for i in topics))
        self.masked = {}
        for text, intent in MASKED_TEXTS:
            self.masked.setdefault(intent, []).append(text)
        # Runners-up of the ranking: other intents of the same group.
        rivals: Dict[str, Tuple[str, ...]] = {}
        known = set(self.texts)
        for group in TOPIC_GROUPS:
            for intent in group:
                others = tuple(i for i in group if i != intent and i in known)
                rivals.setdefault(intent, others)
        everything = tuple(sorted(i for i in known if i in TOPICS))
        for intent in known:
            if len(rivals.get(intent, ())) < 2:
                rivals[intent] = tuple(i for i in everything if i != intent)
        self.rivals = rivals
        self.fallback_rivals = everything + ("out_of_scope", "greet", "ask_help_menu")


@lru_cache(maxsize=1)
def _pools() -> _Pools:
    return _Pools()


def _cumulative(weights: Sequence[Tuple[object, float]]) -> Tuple[tuple, tuple]:
    return tuple(value for value, _ in weights), tuple(accumulate(weight for _, weight in weights))


# --- the generator -----------------------------------------------------------


class _Hours:
    """The period cut into hours, each weighted by how busy it is."""

    def __init__(self, start: float, days: int) -> None:
        self.start = start
        self.count = max(1, int(days * 24))
        weights, payday = [], []
        for slot in range(self.count):
            local = datetime.fromtimestamp(start + slot * 3600 + 1800, VIETNAM)
            weekend = local.weekday() >= 5
            weight = (WEEKEND_HOURS if weekend else WEEKDAY_HOURS)[local.hour]
            weight *= WEEKEND_VOLUME if weekend else 1.0
            weight *= 1.0 + VOLUME_RISE * slot / self.count
            is_payday = local.day in PAYDAY_DAYS
            if is_payday:
                weight *= PAYDAY_VOLUME
            weights.append(weight)
            payday.append(is_payday)
        self.cum = tuple(accumulate(weights))
        self.total = self.cum[-1]
        self.payday = tuple(payday)

    def pick(self, rng: Random) -> Tuple[float, bool]:
        slot = bisect.bisect(self.cum, rng.random() * self.total)
        slot = min(slot, self.count - 1)
        return self.start + slot * 3600 + rng.random() * 3600, self.payday[slot]


def _hash(rng: Random) -> str:
    """A keyed-hash-like id: sha256 of a random id."""
    return hashlib.sha256(b"%032x" % rng.getrandbits(128)).hexdigest()


def _rows(rows: int, days: int, end: datetime, seed: int) -> Iterator[Row]:
    """Rows as tuples, asked_at as a UNIX timestamp (the fast path for COPY)."""
    pools = _pools()
    rng = Random(seed)
    random, choice, uniform = rng.random, rng.choice, rng.uniform
    end_ts = end.timestamp()
    hours = _Hours(end_ts - days * 86400, days)
    channels, channel_cum = _cumulative(CHANNELS)
    n_convs, n_convs_cum = _cumulative(CONVERSATIONS_PER_RESIDENT)
    n_msgs, n_msgs_cum = _cumulative(MESSAGES_PER_CONVERSATION)
    topics, topic_cum, payday_cum = pools.topics, pools.topic_cum, pools.payday_cum
    texts, answers, rivals, masked = pools.texts, pools.answers, pools.rivals, pools.masked
    fallback_rivals = pools.fallback_rivals
    greet_like = ("greet",) * 6 + ("ask_help_menu",) * 2 + ("bot_challenge",)
    closers = ("thank",) * 5 + ("goodbye",) * 3 + ("affirm",) + ("deny",)
    reactions = ("affirm",) * 3 + ("deny",) * 2 + ("thank",) + ("ask_help_menu",)
    in_journey = ("journey_next",) * 6 + ("journey_back",) * 2 + ("journey_choose",) * 2
    made = 0

    def conversation(n: int, payday: bool) -> List[str]:
        """The intents of one conversation, before fallbacks and hand-offs."""
        if random() < JOURNEY_SHARE:
            plan = ["start_journey" if random() < 0.8 else "journey_resume"]
            while len(plan) < n:
                plan.append(choice(in_journey))
            if n >= 3 and random() < 0.3:
                plan[-1] = "journey_stop"
            return plan
        cum = payday_cum if payday else topic_cum
        topic = topics[bisect.bisect(cum, random() * cum[-1])]
        plan = [topic]
        if n >= 2 and random() < 0.35:
            plan.insert(0, choice(greet_like))
        while len(plan) < n:
            roll = random()
            if roll < 0.35:
                plan.append(topic)  # asks again, in other words
            elif roll < 0.55:
                plan.append(choice(rivals[topic]) if topic in rivals else topic)
            elif roll < 0.8:
                topic = topics[bisect.bisect(cum, random() * cum[-1])]
                plan.append(topic)
            else:
                plan.append(choice(reactions))
        if n >= 3 and random() < 0.4:
            plan[-1] = choice(closers)
        return plan[:n]

    while made < rows:
        channel = channels[bisect.bisect(channel_cum, random() * channel_cum[-1])]
        sender = _hash(rng)
        for _ in range(n_convs[bisect.bisect(n_convs_cum, random() * n_convs_cum[-1])]):
            if made >= rows:
                break
            n = n_msgs[bisect.bisect(n_msgs_cum, random() * n_msgs_cum[-1])]
            n = min(n, rows - made)
            conversation_id = _hash(rng)
            at, payday = hours.pick(rng)
            gaps = [0.0] + [uniform(15, 240) for _ in range(n - 1)]
            if at + sum(gaps) >= end_ts:
                at = end_ts - sum(gaps) - 1
            plan = conversation(n, payday)
            kinds = []
            for _i in range(n):
                roll = random()
                kinds.append("f" if roll < FALLBACK_SHARE else "o" if roll < FALLBACK_SHARE + OUT_OF_SCOPE_SHARE else "")
            if random() < HANDOFF_SHARE:
                # a person is asked for, often right after a message not understood
                spots = [i for i in range(n) if not kinds[i]]
                if spots:
                    after = [i for i in spots if i > 0 and kinds[i - 1] == "f"]
                    spot = choice(after) if after and random() < 0.6 else choice(spots)
                    kinds[spot] = "h"
                    if spot + 1 < n and not kinds[spot + 1]:
                        kinds[spot + 1] = "c"
            for i in range(n):
                at += gaps[i]
                kind = kinds[i]
                if kind == "f":
                    confidence = round(uniform(0.1, 0.4), 4)
                    first, second = rng.sample(fallback_rivals, 2)
                    c2 = round(confidence * uniform(0.55, 0.95), 4)
                    c3 = round(c2 * uniform(0.4, 0.9), 4)
                    yield (at, channel, sender, conversation_id, choice(FALLBACK_TEXTS), "nlu_fallback",
                           confidence, ("nlu_fallback", confidence, first, c2, second, c3),
                           True, False, FALLBACK_ANSWER, False, None, None)
                    continue
                if kind == "o":
                    intent = "out_of_scope"
                elif kind == "h":
                    intent = "request_human"
                elif kind == "c":
                    intent = "inform_commune"
                else:
                    intent = plan[i]
                text = None
                if intent in masked and random() < MASKED_SHARE:
                    text = choice(masked[intent])
                if text is None:
                    text = choice(texts[intent])
                confidence = round(0.99 - 0.39 * random() ** 1.6, 4)
                rest = 1.0 - confidence
                first, second = rng.sample(rivals[intent], 2)
                c2 = round(rest * uniform(0.45, 0.8), 4)
                c3 = round((rest - c2) * uniform(0.3, 0.8), 4)
                if plan[0] in ("start_journey", "journey_resume") and i > 0 and not kind:
                    answer = IN_JOURNEY_ANSWER
                else:
                    answer = answers.get(intent) or "utter_" + intent
                yield (at, channel, sender, conversation_id, text, intent, confidence,
                       (intent, confidence, first, c2, second, c3),
                       False, intent == "out_of_scope", answer, kind in ("h", "c"), None, None)
            made += n


def _default_end() -> datetime:
    return datetime.now(timezone.utc).replace(microsecond=0)


def generate(rows: int, days: int = 30, end: Optional[datetime] = None, seed: int = 7) -> Iterator[dict]:
    """`rows` question-log rows (dicts for QuestionLogEntry) of the `days` days before `end` (now)."""
    end = end or _default_end()
    if end.tzinfo is None:
        end = end.replace(tzinfo=timezone.utc)
    return _as_dicts(_rows(rows, days, end, seed))


def _as_dicts(rows: Iterator[Row]) -> Iterator[dict]:
    utc = timezone.utc
    for row in rows:
        r = row[7]
        yield {
            "asked_at": datetime.fromtimestamp(row[0], utc),
            "channel": row[1],
            "sender_hash": row[2],
            "conversation_id": row[3],
            "text_masked": row[4],
            "intent": row[5],
            "confidence": row[6],
            "ranking": [{"name": r[0], "confidence": r[1]}, {"name": r[2], "confidence": r[3]},
                        {"name": r[4], "confidence": r[5]}],
            "fallback": row[8],
            "out_of_scope": row[9],
            "answer": row[10],
            "handoff": row[11],
            "review_status": None,
            "assigned_intent": None,
        }


def _watch_handoffs(rows: Iterator[Row], found: List[Tuple[float, str]]) -> Iterator[Row]:
    """Pass the rows on, noting (time, channel) of every request for a person."""
    for row in rows:
        if row[5] == HANDOFF_INTENT:
            found.append((row[0], row[1]))
        yield row


def handoff_tickets(handoffs: Sequence[Tuple[float, str]], end: datetime, seed: int = 7) -> List[dict]:
    """Ticket dicts (for HandoffTicket) for requests for a person at (UNIX time, log channel)."""
    rng = Random(f"handoff-tickets-{seed}")
    random, uniform, choice, lognormal = rng.random, rng.uniform, rng.choice, rng.lognormvariate
    communes, commune_cum = _cumulative(TICKET_COMMUNES)
    stars, stars_cum = _cumulative(RATING_WEIGHTS)
    end_ts = end.timestamp()
    utc = timezone.utc

    def moment(ts: Optional[float]) -> Optional[datetime]:
        return None if ts is None or ts > end_ts else datetime.fromtimestamp(ts, utc)

    tickets = []
    for asked, channel in handoffs:
        opened = min(asked + uniform(20, 90), end_ts)  # after the resident named the commune
        local = datetime.fromtimestamp(opened, VIETNAM)
        office = local.weekday() < 5 and 7.5 <= local.hour + local.minute / 60 < 17
        commune = None if random() < NO_COMMUNE_SHARE else communes[bisect.bisect(commune_cum, random() * commune_cum[-1])]
        taken = responded = closed = rated = None
        member = choice(TEAM_MEMBERS)
        if random() >= NEVER_TAKEN_SHARE:
            median = TAKE_MEDIAN_OFFICE if office else TAKE_MEDIAN_OFF_HOURS
            taken = opened + median * lognormal(0, 0.9)
            responded = taken + 60 * lognormal(0, 0.7)
            closed = responded + uniform(300, 3600)
        elif random() < 0.5:
            closed = opened + uniform(2, 10) * 3600  # the resident gave up and ended it
        rating = stars[bisect.bisect(stars_cum, random() * stars_cum[-1])] if random() < RATED_SHARE else None
        if closed is not None and rating is not None:
            rated = closed + uniform(30, 600)
        reminded = opened + REMINDER_AFTER if (taken is None or taken - opened > REMINDER_AFTER) else None
        taken_at, closed_at, rated_at = moment(taken), moment(closed), moment(rated)
        status = "closed" if closed_at else "taken" if taken_at else "open"
        tickets.append({
            "channel": TICKET_CHANNELS.get(channel, channel),
            "conversation_id": f"{TICKET_CHANNELS.get(channel, channel)}:{rng.getrandbits(48):012x}",
            "commune": commune,
            "status": status,
            "opened_at": moment(opened),
            "taken_at": taken_at,
            "taken_by": member if taken_at else None,
            "first_response_at": moment(responded),
            "reminded_at": moment(reminded),
            "closed_at": closed_at,
            "closed_by": (member if taken is not None else "resident") if closed_at else None,
            "rating": rating if rated_at else None,
            "rated_at": rated_at,
        })
    return tickets


# --- writing -----------------------------------------------------------------

_RANKING = '[{"name": "%s", "confidence": %r}, {"name": "%s", "confidence": %r}, {"name": "%s", "confidence": %r}]'


def _copy_postgres(engine, rows: Iterator[Row], batch: int) -> int:  # noqa: ANN001
    utc = timezone.utc
    fromtimestamp = datetime.fromtimestamp
    statement = f"COPY question_log ({', '.join(COLUMNS)}) FROM STDIN WITH (FORMAT csv)"
    count = 0
    connection = engine.raw_connection()
    try:
        cursor = connection.cursor()
        while True:
            buffer = io.StringIO()
            writer = csv.writer(buffer, lineterminator="\n")
            chunk = [
                (fromtimestamp(row[0], utc).isoformat(), row[1], row[2], row[3], row[4], row[5], row[6],
                 _RANKING % row[7], row[8], row[9], row[10], row[11], None, None)
                for row in _take(rows, batch)
            ]
            if not chunk:
                break
            writer.writerows(chunk)
            buffer.seek(0)
            cursor.copy_expert(statement, buffer)
            count += len(chunk)
        cursor.close()
        connection.commit()
    except BaseException:
        connection.rollback()
        raise
    finally:
        connection.close()
    return count


def _take(rows: Iterator, n: int) -> Iterator:
    for _ in range(n):
        try:
            yield next(rows)
        except StopIteration:
            return


def _insert_batches(engine, rows: Iterator[dict], batch: int) -> int:  # noqa: ANN001
    from sqlalchemy import insert

    from bot.db.models import QuestionLogEntry

    count = 0
    with engine.begin() as connection:
        while True:
            chunk = list(_take(rows, batch))
            if not chunk:
                break
            connection.execute(insert(QuestionLogEntry), chunk)
            count += len(chunk)
    return count


def seed(url: str, rows: int = 20_000, days: int = 30, seed: int = 7, batch: int = 10_000,
         end: Optional[datetime] = None) -> int:
    """Add `rows` synthetic question-log rows of the last `days` days, and a hand-off ticket for each
    conversation that asks for a person, to the database; how many log rows."""
    from bot.db.engine import engine_for

    engine = engine_for(url)
    end = end or _default_end()
    if end.tzinfo is None:
        end = end.replace(tzinfo=timezone.utc)
    handoffs: List[Tuple[float, str]] = []
    log = _watch_handoffs(_rows(rows, days, end, seed), handoffs)
    if engine.dialect.name == "postgresql":
        count = _copy_postgres(engine, log, batch)
    else:
        count = _insert_batches(engine, _as_dicts(log), batch)
    from sqlalchemy import insert

    from bot.db.models import HandoffTicket
    from bot.questionlog.rollups import rebuild

    tickets = handoff_tickets(handoffs, end, seed)
    with engine.begin() as connection:
        if tickets:
            connection.execute(insert(HandoffTicket), tickets)
        rebuild(connection)  # the dashboard reads the roll-ups
    return count


def main(argv: Optional[Sequence[str]] = None) -> int:
    from bot.db.engine import database_url

    parser = argparse.ArgumentParser(prog="python -m bot.questionlog.seed", description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=20_000, help="how many messages (default 20000)")
    parser.add_argument("--days", type=int, default=30, help="the period, ending now (default 30)")
    parser.add_argument("--seed", type=int, default=7, help="random seed: same seed, same rows")
    parser.add_argument("--batch", type=int, default=10_000, help="rows per COPY/INSERT batch")
    parser.add_argument("--database", default=None, help="SQLAlchemy URL (default: DATABASE_URL or SQLite under var/)")
    args = parser.parse_args(argv)
    if args.rows < 0 or args.days < 1 or args.batch < 1:
        parser.error("--rows must be >= 0, --days and --batch >= 1")
    url = args.database or database_url()
    started = time.perf_counter()
    count = seed(url, rows=args.rows, days=args.days, seed=args.seed, batch=args.batch)
    seconds = time.perf_counter() - started
    print(f"{count} question-log rows added to {url.split('@')[-1]} in {seconds:.1f} s "
          f"({count / seconds if seconds else 0:,.0f} rows/s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
