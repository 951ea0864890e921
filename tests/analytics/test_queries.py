"""Every dashboard query on SQLite and PostgreSQL, against a small log with known answers."""
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import insert

from bot.analytics import queries
from bot.db.engine import session_factory
from bot.db.models import QuestionLogEntry
from bot.questionlog.rollups import rebuild

VN = timezone(timedelta(hours=7))
DAY = date(2026, 11, 20)


def at(day_offset, hour, minute=0):
    """A Viet Nam wall-clock time, stored as UTC."""
    return datetime(DAY.year, DAY.month, DAY.day, hour, minute, tzinfo=VN).astimezone(timezone.utc) + timedelta(days=day_offset)


def row(when, conversation, text, intent="ask_pay_electricity", channel="zalo", sender="a", **flags):
    return dict(asked_at=when, channel=channel, sender_hash=sender * 64, conversation_id=conversation * 64,
                text_masked=text, intent=intent, confidence=flags.pop("confidence", 0.9), ranking=[],
                fallback=flags.pop("fallback", False), out_of_scope=False, answer="utter_x",
                handoff=flags.pop("handoff", False))


@pytest.fixture
def session(database):
    rows = [
        # day 0, Viet Nam 00:30 = previous UTC day: must count on day 0
        row(at(0, 0, 30), "1", "tra tien dien"),
        row(at(0, 9), "1", "tra tien dien"),
        row(at(0, 9, 5), "1", "tien dien bao nhieu", confidence=0.45),
        row(at(0, 9, 10), "2", "xyz abc", intent="nlu_fallback", fallback=True, confidence=0.2, sender="b"),
        row(at(0, 20), "3", "gap nguoi", intent="request_human", handoff=True, channel="telegram", sender="c"),
        row(at(1, 9), "4", "/ask_pay_water", intent="ask_pay_water", channel="web", sender="a"),
        row(at(1, 23, 59), "4", "nuoc sinh hoat", intent="ask_pay_water", channel="web", sender="a"),
        row(at(2, 0, 0), "5", "ngay sau", intent="greet"),  # outside a two-day period
    ]
    sessions = session_factory(database)
    with sessions() as s:
        s.execute(insert(QuestionLogEntry), rows)
        rebuild(s)
        s.commit()
    with sessions() as s:
        yield s


PERIOD = queries.Period.for_dates(DAY, DAY + timedelta(days=1))


def test_period_is_whole_viet_nam_days_in_utc():
    assert PERIOD.start == datetime(2026, 11, 19, 17, tzinfo=timezone.utc)
    assert PERIOD.end == datetime(2026, 11, 21, 17, tzinfo=timezone.utc)


def test_overview(session):
    summary = queries.overview(session, PERIOD)
    assert (summary.messages, summary.residents, summary.conversations) == (7, 3, 4)
    assert (summary.contained, summary.fallbacks, summary.handoff_conversations) == (2, 1, 1)
    assert summary.containment_rate == 0.5 and summary.handoff_rate == 0.25
    assert summary.busiest_hours[0] == (9, 4)
    zalo = queries.overview(session, queries.Period(PERIOD.start, PERIOD.end, "zalo"))
    assert (zalo.messages, zalo.conversations) == (4, 2)


def test_hourly_profile_and_days_are_viet_nam_time(session):
    profile = queries.hourly_profile(session, PERIOD)
    assert profile[0] == 1 and profile[9] == 4 and profile[20] == 1 and profile[23] == 1 and sum(profile) == 7
    per_day = queries.messages_per_day(session, PERIOD)
    assert per_day == {"2026-11-20": {"zalo": 4, "telegram": 1}, "2026-11-21": {"web": 2}}
    assert queries.fallback_rate_per_day(session, PERIOD) == [("2026-11-20", 5, 1), ("2026-11-21", 2, 0)]


def test_top_topics_and_questions(session):
    assert queries.top_topics(session, PERIOD) == [("ask_pay_electricity", 3), ("ask_pay_water", 2), ("request_human", 1)]
    top = queries.top_questions(session, PERIOD, examples=2)
    assert top[0] == ("ask_pay_electricity", 3, [("tra tien dien", 2), ("tien dien bao nhieu", 1)])
    assert top[1] == ("ask_pay_water", 2, [("nuoc sinh hoat", 1)])  # the button press is no example


def test_inbox_review_and_yaml_source(session):
    items = queries.unanswered(session, PERIOD)
    assert [text for _, text in items] == ["xyz abc", "tien dien bao nhieu"]  # fallback and low confidence, newest first
    ids = [i for i, _ in items]
    assert queries.review(session, ids[:1], "ignored") == 1
    assert queries.review(session, ids[1:], "assigned", "ask_pay_electricity") == 1
    assert queries.unanswered(session, PERIOD) == []
    assert queries.assigned_examples(session) == {"ask_pay_electricity": ["tien dien bao nhieu"]}
    with pytest.raises(ValueError):
        queries.review(session, ids, "assigned", None)
    with pytest.raises(ValueError):
        queries.review(session, ids, "deleted", "x")


def test_export_rows_and_channels(session):
    rows = list(queries.export_rows(session, PERIOD))
    assert len(rows) == 7
    assert [r[1] for r in rows][:2] == ["zalo", "zalo"] and rows[0][2] == "tra tien dien"
    assert queries.channels(session) == ["telegram", "web", "zalo"]
