"""The synthetic question log (bot/questionlog/seed.py), on SQLite and PostgreSQL."""
import re
from collections import Counter, defaultdict
from datetime import datetime, timedelta, timezone

import pytest
import yaml
from sqlalchemy import select

from bot.db.engine import engine_for
from bot.db.models import HandoffTicket, QuestionLogEntry
from bot.questionlog.seed import FALLBACK_TEXTS, TICKET_COMMUNES, generate, handoff_tickets, main, seed
from tests.conftest import ROOT

ROWS = 3_000
DAYS = 30
VIETNAM = timezone(timedelta(hours=7))
END = datetime(2025, 3, 20, 9, 30, tzinfo=timezone.utc)
# Personal data: 9 or more digits in a row, also with spaces, dots or dashes between.
DIGIT_RUN = re.compile(r"\d(?:[\s.-]?\d){8,}")


def domain_intents():
    return {
        intent
        for path in (ROOT / "domain").glob("*.yml")
        for intent in (yaml.safe_load(path.read_text(encoding="utf-8")).get("intents") or [])
    }


def utc(moment):
    """SQLite gives naive datetimes back (UTC); PostgreSQL aware ones."""
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


@pytest.fixture
def seeded(database):
    before = datetime.now(timezone.utc).replace(microsecond=0)
    count = seed(database, rows=ROWS, days=DAYS, seed=11, batch=1_000)
    after = datetime.now(timezone.utc)
    with engine_for(database).connect() as connection:
        rows = connection.execute(select(QuestionLogEntry)).mappings().all()
    return count, rows, before, after



def first_answer_actions():
    """{topic intent: the first action of its answer rule} (utter_<intent>, or a custom action)."""
    rules = yaml.safe_load((ROOT / "nlu_data" / "rules" / "answers.yml").read_text(encoding="utf-8"))["rules"]
    return {rule["steps"][0]["intent"]: rule["steps"][1]["action"] for rule in rules if "intent" in rule["steps"][0]}

def test_seed_fills_the_period_with_realistic_rows(seeded):
    count, rows, before, after = seeded
    assert count == ROWS and len(rows) == ROWS
    times = [utc(row["asked_at"]) for row in rows]
    assert min(times) >= before - timedelta(days=DAYS) and max(times) <= after

    channels = Counter(row["channel"] for row in rows)
    assert set(channels) == {"zalo", "web", "telegram"}
    for channel, share in (("zalo", 0.55), ("web", 0.25), ("telegram", 0.20)):
        assert abs(channels[channel] / ROWS - share) < 0.07, channels

    fallbacks = [row for row in rows if row["fallback"]]
    assert abs(len(fallbacks) / ROWS - 0.09) < 0.025
    assert all(row["intent"] == "nlu_fallback" and 0.1 <= row["confidence"] <= 0.4 for row in fallbacks)
    assert all(row["answer"] == "action_check_fallback" for row in fallbacks)
    assert {row["text_masked"] for row in fallbacks} <= set(FALLBACK_TEXTS)

    intents = domain_intents()
    answered = [row for row in rows if not row["fallback"]]
    assert {row["intent"] for row in answered} <= intents
    assert all(0.6 <= row["confidence"] <= 0.99 for row in answered)
    assert len({row["intent"] for row in answered}) > 20
    for row in rows:
        ranking = row["ranking"]
        assert len(ranking) == 3 and ranking[0] == {"name": row["intent"], "confidence": row["confidence"]}
        assert ranking[0]["confidence"] >= ranking[1]["confidence"] >= ranking[2]["confidence"]
        assert row["review_status"] is None and row["assigned_intent"] is None
    topics = [row for row in answered if row["intent"].startswith("ask_") and row["intent"] != "ask_help_menu"]
    first = first_answer_actions()
    assert topics and all(row["answer"].startswith(f"{first[row['intent']]}, ") for row in topics)
    assert all(row["answer"] == "utter_menu" for row in answered if row["intent"] == "ask_help_menu")
    oos = [row for row in rows if row["out_of_scope"]]
    assert 0.01 < len(oos) / ROWS < 0.05 and all(row["intent"] == "out_of_scope" for row in oos)

    assert not [row["text_masked"] for row in rows if DIGIT_RUN.search(row["text_masked"])]
    assert all(re.fullmatch(r"[0-9a-f]{64}", row["sender_hash"]) for row in rows)
    assert all(re.fullmatch(r"[0-9a-f]{64}", row["conversation_id"]) for row in rows)


def test_conversations_and_residents(seeded):
    _, rows, _, _ = seeded
    conversations = defaultdict(list)
    residents = defaultdict(set)
    for row in rows:
        conversations[row["conversation_id"]].append(row)
        residents[row["sender_hash"]].add(row["conversation_id"])
    sizes = Counter(len(messages) for messages in conversations.values())
    assert max(sizes) <= 6 and 2.5 < ROWS / len(conversations) < 4.5
    assert sum(n for size, n in sizes.items() if size >= 3) > len(conversations) / 2
    assert all(len({(m["sender_hash"], m["channel"]) for m in messages}) == 1 for messages in conversations.values())
    per_resident = Counter(len(ids) for ids in residents.values())
    assert set(per_resident) <= {1, 2, 3, 4} and per_resident[1] < len(residents)
    handoffs = [messages for messages in conversations.values() if any(m["handoff"] for m in messages)]
    assert 0.015 < len(handoffs) / len(conversations) < 0.07
    for messages in handoffs:
        asks = [m for m in messages if m["intent"] == "request_human"]
        assert asks and all(m["answer"] == "utter_request_human, handoff_form" for m in asks)


def test_busy_hours_and_allowance_days():
    rows = list(generate(ROWS, days=DAYS, end=END, seed=5))
    assert len(rows) == ROWS
    assert all(END - timedelta(days=DAYS) <= row["asked_at"] <= END for row in rows)
    assert all(row["asked_at"].tzinfo is not None and row["asked_at"].utcoffset() == timedelta(0) for row in rows)
    hours = Counter(row["asked_at"].astimezone(VIETNAM).hour for row in rows)
    night = sum(hours[h] for h in range(1, 5)) / 4
    assert sum(hours[h] for h in range(7, 12)) / 5 > 5 * night
    assert sum(hours[h] for h in range(19, 22)) / 3 > 5 * night
    weekday = [row for row in rows if row["asked_at"].astimezone(VIETNAM).weekday() < 5]
    assert len(weekday) / ROWS > 5 / 7  # weekdays are busier than weekends
    payday = [row for row in rows if row["asked_at"].astimezone(VIETNAM).day <= 5]
    other = [row for row in rows if row["asked_at"].astimezone(VIETNAM).day > 5]

    def benefit_share(part):
        return sum(row["intent"] == "ask_benefit_via_bank" for row in part) / len(part)

    assert benefit_share(payday) > 1.4 * benefit_share(other)


def test_same_seed_same_rows():
    assert list(generate(500, end=END, seed=3)) == list(generate(500, end=END, seed=3))
    assert list(generate(500, end=END, seed=3)) != list(generate(500, end=END, seed=4))


def test_masked_personal_data_and_fallback_texts():
    rows = list(generate(20_000, end=END, seed=9))
    masked = [row["text_masked"] for row in rows if re.search(r"\[(CCCD|SĐT|STK|SỐ THẺ|OTP)\]", row["text_masked"])]
    assert masked and not any(DIGIT_RUN.search(text) for text in masked)
    assert len(set(FALLBACK_TEXTS)) >= 60 and not any(DIGIT_RUN.search(text) for text in FALLBACK_TEXTS)
    assert any(text.isascii() for text in FALLBACK_TEXTS) and any(not text.isascii() for text in FALLBACK_TEXTS)


def test_command_line(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    assert main(["--rows", "250", "--days", "7", "--database", url]) == 0
    assert "250 question-log rows" in capsys.readouterr().out
    with engine_for(url).connect() as connection:
        assert len(connection.execute(select(QuestionLogEntry.id)).all()) == 250


def test_a_ticket_for_every_request_for_a_person(seeded, database):
    _, rows, before, after = seeded
    with engine_for(database).connect() as connection:
        tickets = connection.execute(select(HandoffTicket)).mappings().all()
    requests = [row for row in rows if row["intent"] == "request_human"]
    assert len(tickets) == len(requests) == len({row["conversation_id"] for row in requests}) > 10
    channels = {"web": "rest"}  # tickets keep Rasa's channel name
    assert Counter(t["channel"] for t in tickets) == Counter(channels.get(r["channel"], r["channel"]) for r in requests)
    for t in tickets:
        events = [utc(t[name]) for name in ("opened_at", "taken_at", "first_response_at", "closed_at", "rated_at") if t[name]]
        assert events == sorted(events) and before - timedelta(days=DAYS) <= events[0] and events[-1] <= after
        assert t["status"] == ("closed" if t["closed_at"] else "taken" if t["taken_at"] else "open")
        assert (t["taken_by"] is None) == (t["taken_at"] is None)
        assert t["rating"] is None or (t["status"] == "closed" and 1 <= t["rating"] <= 5)
        waited = (utc(t["taken_at"]) if t["taken_at"] else after) - utc(t["opened_at"])
        assert (t["reminded_at"] is not None) == (waited > timedelta(minutes=15)), t
    assert {t["status"] for t in tickets} >= {"closed"} and any(t["rating"] for t in tickets)
    assert any(t["reminded_at"] for t in tickets) and any(not t["reminded_at"] for t in tickets)
    assert {t["commune"] for t in tickets} - {None} <= {name for name, _ in TICKET_COMMUNES}


def test_same_seed_same_tickets():
    handoffs = [(END.timestamp() - 3600 * hours, channel) for hours in range(1, 200, 7) for channel in ("zalo", "web")]
    tickets = handoff_tickets(handoffs, END, seed=3)
    assert tickets == handoff_tickets(handoffs, END, seed=3) != handoff_tickets(handoffs, END, seed=4)
    assert {t["channel"] for t in tickets} == {"zalo", "rest"}
    assert all(t["opened_at"] <= END for t in tickets)
