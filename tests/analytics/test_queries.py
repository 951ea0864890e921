"""Every dashboard query on SQLite and PostgreSQL, against a small log with known answers."""
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import insert

from bot.analytics import queries
from bot.db.engine import session_factory
from bot.db.models import HandoffTicket, QuestionLogEntry
from bot.handoff.tickets import UNDELIVERED
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


def ticket(opened, channel="zalo", commune="Tân Lập", status="open", taken=None, response=None, reminded=None,
           closed=None, rating=None):
    """A hand-off ticket; taken/response/reminded/closed are seconds after it was opened."""
    def after(seconds):
        return None if seconds is None else opened + timedelta(seconds=seconds)

    return HandoffTicket(channel=channel, conversation_id=f"{channel}:{opened.timestamp():.0f}", commune=commune,
                         status=status, opened_at=opened, taken_at=after(taken), taken_by="can_bo" if taken else None,
                         first_response_at=after(response), reminded_at=after(reminded), closed_at=after(closed),
                         rating=rating, rated_at=after(closed) if rating else None)


def undelivered(row):
    row.closed_by = UNDELIVERED
    return row


@pytest.fixture
def tickets(database):
    sessions = session_factory(database)
    with sessions() as s:
        s.add_all([
            ticket(at(0, 10), channel="telegram", reminded=900),  # nobody took it yet: reminded
            ticket(at(0, 11), taken=120, response=300, status="taken"),  # taken, in progress
            ticket(at(1, 9), channel="rest", commune="Hòa Bình", taken=240, response=360, closed=3600, status="closed",
                   rating=5),  # the web chat's tickets say `rest`
            ticket(at(1, 14), reminded=900, taken=1200, response=1500, closed=4000, status="closed", rating=3),
            ticket(at(1, 20), channel="telegram", commune="Hòa Bình", taken=60, response=90, closed=600,
                   status="closed", rating=4),
            # Viet Nam 00:30 is the previous UTC day: still in the period; reminded, closed untaken, no commune given
            ticket(at(0, 0, 30), channel="telegram", commune=None, reminded=900, closed=3600, status="closed"),
            # outside the period: the day after, and the last minute before it
            ticket(at(2, 0, 0), taken=10, response=20, closed=30, status="closed", rating=1),
            ticket(at(-1, 23, 59), channel="telegram", reminded=900, status="open"),
            # its post never reached a group (Telegram refused): the resident got the contact, not a hand-off
            undelivered(ticket(at(1, 10), channel="telegram", closed=1, status="closed")),
        ])
        s.commit()
    with sessions() as s:
        yield s


def test_handoff_summary_counts_waiting_times_and_ratings(tickets):
    summary = queries.handoff_summary(tickets, PERIOD)
    assert (summary.opened, summary.taken, summary.closed, summary.still_open, summary.reminded) == (6, 4, 4, 2, 3)
    # taken after 120, 240, 1200 and 60 s; first reply after 300, 360, 1500 and 90 s
    # p90 interpolated like PostgreSQL's percentile_cont: 240 + 0.7 * (1200 - 240)
    assert summary.time_to_take == queries.Durations(4, 180.0, 912.0)
    assert summary.time_to_first_response == queries.Durations(4, 330.0, 1158.0)
    assert summary.rating_counts == [0, 0, 1, 1, 1] and summary.ratings == 3 and summary.average_rating == 4.0
    assert summary.rating_distribution == [(1, 0), (2, 0), (3, 1), (4, 1), (5, 1)]
    assert summary.communes == [
        queries.CommuneHandoffs("Tân Lập", 3, 1, 3.0),
        queries.CommuneHandoffs("Hòa Bình", 2, 2, 4.5),
        queries.CommuneHandoffs(None, 1, 0, None),
    ]


def test_handoff_summary_per_channel(tickets):
    def summary(channel):
        return queries.handoff_summary(tickets, queries.Period(PERIOD.start, PERIOD.end, channel))

    web = summary("web")  # the log's name for the web chat; its tickets say `rest`
    assert (web.opened, web.closed, web.rating_counts) == (1, 1, [0, 0, 0, 0, 1])
    assert web.time_to_take == queries.Durations(1, 240.0, 240.0)
    zalo = summary("zalo")
    assert (zalo.opened, zalo.taken, zalo.still_open, zalo.reminded) == (2, 2, 1, 1)
    assert zalo.time_to_first_response.median == 900.0  # (300 + 1500) / 2
    assert [(c.commune, c.tickets) for c in zalo.communes] == [("Tân Lập", 2)]
    assert summary("telegram").opened == 3


def test_handoff_summary_of_a_quiet_period(tickets):
    quiet = queries.handoff_summary(tickets, queries.Period.for_dates(DAY + timedelta(days=5), DAY + timedelta(days=6)))
    assert (quiet.opened, quiet.taken, quiet.closed, quiet.still_open, quiet.reminded) == (0, 0, 0, 0, 0)
    assert quiet.time_to_take == queries.Durations(0, None, None) == quiet.time_to_first_response
    assert quiet.rating_counts == [0] * 5 and quiet.average_rating is None and quiet.communes == []


def test_handoff_communes_are_the_ten_busiest(database):
    sessions = session_factory(database)
    with sessions() as s:
        s.add_all([ticket(at(0, 8, minute), commune=f"Xã {n:02d}", rating=n % 5 + 1, status="closed", closed=60)
                   for n in range(12) for minute in range(n + 1)])
        s.commit()
    with sessions() as s:
        communes = queries.handoff_summary(s, PERIOD).communes
    assert [(c.commune, c.tickets) for c in communes] == [(f"Xã {n:02d}", n + 1) for n in range(11, 1, -1)]
    assert communes[0].ratings == 12 and communes[0].average_rating == 2.0  # 11 % 5 + 1
