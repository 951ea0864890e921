"""Read-only questions the admin dashboard asks of the question log.

Every function takes a SQLAlchemy Session and a `Period` (time range and
optional channel) and runs on SQLite and PostgreSQL alike. Days and hours are
Viet Nam time (UTC+7, no daylight saving). Counts come from the roll-ups
(bot/questionlog/rollups.py: per hour, per conversation), so a page costs the
same with a million messages as with a thousand; only the examples and the
inbox read raw rows, through indexes and limits. A conversation belongs to
the period it started in. Kept apart from the web views so they are tested
and benchmarked on their own.

Hand-off tickets (`handoff_summary`) are read from `handoff_tickets`; a ticket
belongs to the period it was opened in, and everything that happened to it
since (taken, answered, closed, rated) counts there.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta, timezone
from typing import Dict, Iterator, List, Optional, Sequence, Tuple

from sqlalchemy import Float, Integer, and_, case, cast, distinct, func, or_, select, update
from sqlalchemy.orm import Session

from bot.db.models import QuestionLogConversation as C
from bot.db.models import HandoffTicket as T
from bot.db.models import QuestionLogEntry as Q
from bot.db.models import QuestionLogHourly as H
from bot.handoff.tickets import UNDELIVERED
from bot.questionlog.turns import CHANNEL_NAMES

VIETNAM = timezone(timedelta(hours=7))
FALLBACK_INTENTS = ("nlu_fallback",)
LOW_CONFIDENCE = 0.5  # below this a message goes to the unanswered inbox too
REVIEW_STATUSES = ("assigned", "new_topic", "ignored")
EXAMPLE_SAMPLE = 20_000
BUSIEST_HOURS = 5
RATINGS = (1, 2, 3, 4, 5)
HANDOFF_COMMUNES = 10  # communes listed in the hand-off summary, most tickets first
DURATION_SAMPLE = 50_000  # SQLite: the newest tickets whose waiting times make the percentiles


@dataclass(frozen=True)
class Period:
    start: datetime  # inclusive, timezone-aware
    end: datetime  # exclusive
    channel: Optional[str] = None

    @classmethod
    def last_days(cls, days: int, channel: Optional[str] = None, now: Optional[datetime] = None) -> "Period":
        """The last `days` whole days in Viet Nam, today included."""
        today = (now or datetime.now(timezone.utc)).astimezone(VIETNAM).date()
        return cls.for_dates(today - timedelta(days=days - 1), today, channel)

    @classmethod
    def for_dates(cls, first: date, last: date, channel: Optional[str] = None) -> "Period":
        start = datetime(first.year, first.month, first.day, tzinfo=VIETNAM)
        end = datetime(last.year, last.month, last.day, tzinfo=VIETNAM) + timedelta(days=1)
        return cls(start.astimezone(timezone.utc), end.astimezone(timezone.utc), channel or None)


@dataclass
class Overview:
    messages: int
    residents: int
    conversations: int
    contained: int  # conversations without a fallback and without a hand-off
    fallbacks: int
    handoff_conversations: int
    hourly: List[int]  # messages per hour of the day, 0-23

    @property
    def busiest_hours(self) -> List[Tuple[int, int]]:
        """(hour, messages) of the BUSIEST_HOURS busiest hours, busiest first."""
        ranked = sorted(((h, n) for h, n in enumerate(self.hourly) if n), key=lambda item: (-item[1], item[0]))
        return ranked[:BUSIEST_HOURS]

    @property
    def containment_rate(self) -> float:
        return self.contained / self.conversations if self.conversations else 0.0

    @property
    def fallback_rate(self) -> float:
        return self.fallbacks / self.messages if self.messages else 0.0

    @property
    def handoff_rate(self) -> float:
        return self.handoff_conversations / self.conversations if self.conversations else 0.0


def _within(period: Period, moment, channel):
    """Rows whose `moment` column falls in the period (and on its channel, if one is chosen)."""
    conditions = [moment >= period.start, moment < period.end]
    if period.channel:
        conditions.append(channel == period.channel)
    return and_(*conditions)


def _local(session: Session, column, unit: str):
    """The Viet Nam day (YYYY-MM-DD text) or hour (0-23) of a timestamp column."""
    if session.get_bind().dialect.name == "postgresql":
        shifted = func.timezone("Asia/Ho_Chi_Minh", column)
        if unit == "hour":
            return cast(func.extract("hour", shifted), Integer)
        return func.to_char(shifted, "YYYY-MM-DD")
    if unit == "hour":
        return cast(func.strftime("%H", column, "+7 hours"), Integer)
    return func.strftime("%Y-%m-%d", column, "+7 hours")


def _as_int(flag):
    return case((flag, 1), else_=0)


def overview(session: Session, period: Period) -> Overview:
    messages, fallbacks = session.execute(
        select(func.coalesce(func.sum(H.messages), 0), func.coalesce(func.sum(case((H.fallback, H.messages), else_=0)), 0))
        .where(_within(period, H.hour, H.channel))
    ).one()
    where = _within(period, C.started_at, C.channel)
    conversations, contained, handed_off = session.execute(
        select(
            func.count(),
            func.coalesce(func.sum(case((and_(C.fell_back.is_(False), C.handed_off.is_(False)), 1), else_=0)), 0),
            func.coalesce(func.sum(_as_int(C.handed_off)), 0),
        ).where(where)
    ).one()
    residents = session.execute(
        select(func.count()).select_from(select(C.resident).where(where).group_by(C.resident).subquery())
    ).scalar_one()
    return Overview(int(messages), int(residents), int(conversations), int(contained), int(fallbacks), int(handed_off),
                    hourly_profile(session, period))


def hourly_profile(session: Session, period: Period) -> List[int]:
    """Messages per hour of the day (24 values)."""
    hour = _local(session, H.hour, "hour")
    counts = dict(session.execute(select(hour, func.sum(H.messages)).where(_within(period, H.hour, H.channel)).group_by(hour)).all())
    return [int(counts.get(h, 0)) for h in range(24)]


def messages_per_day(session: Session, period: Period) -> Dict[str, Dict[str, int]]:
    """{day: {channel: messages}} for every day of the period (zeros included)."""
    day = _local(session, H.hour, "day")
    rows = session.execute(select(day, H.channel, func.sum(H.messages)).where(_within(period, H.hour, H.channel)).group_by(day, H.channel)).all()
    result = {d: {} for d in _days(period)}
    for d, channel, n in rows:
        result.setdefault(d, {})[channel] = int(n)
    return result


def fallback_rate_per_day(session: Session, period: Period) -> List[Tuple[str, int, int]]:
    """[(day, messages, fallbacks)] for every day of the period."""
    day = _local(session, H.hour, "day")
    rows = dict(
        (d, (int(n), int(f)))
        for d, n, f in session.execute(
            select(day, func.sum(H.messages), func.coalesce(func.sum(case((H.fallback, H.messages), else_=0)), 0))
            .where(_within(period, H.hour, H.channel)).group_by(day)
        ).all()
    )
    return [(d, *rows.get(d, (0, 0))) for d in _days(period)]


def top_topics(session: Session, period: Period, limit: int = 20, leave_out: Sequence[str] = (),
               only: Optional[Sequence[str]] = None) -> List[Tuple[str, int]]:
    """[(intent, messages)], most asked first; ``leave_out`` (e.g. small talk) or ``only`` those."""
    total = func.sum(H.messages).label("n")
    conditions = [_within(period, H.hour, H.channel), H.intent != "", H.intent.notin_(FALLBACK_INTENTS)]
    if leave_out:
        conditions.append(H.intent.notin_(list(leave_out)))
    if only is not None:
        conditions.append(H.intent.in_(list(only)))
    rows = session.execute(
        select(H.intent, total)
        .where(*conditions)
        .group_by(H.intent)
        .order_by(total.desc(), H.intent)
        .limit(limit)
    ).all()
    return [(intent, int(n)) for intent, n in rows]


def top_questions(session: Session, period: Period, topics: int = 20, examples: int = 3,
                  leave_out: Sequence[str] = ()) -> List[Tuple[str, int, List[Tuple[str, int]]]]:
    """[(topic, messages, [(typical masked text, times asked)])] for the top topics.

    Counts are over the whole period; the typical texts are the most frequent
    among the period's latest EXAMPLE_SAMPLE messages (so the page stays fast
    on a big log). Button presses ("/payload") are not shown as examples.
    """
    top = top_topics(session, period, topics, leave_out)
    if not top:
        return []
    recent = (
        select(Q.intent, Q.text_masked)
        .where(_within(period, Q.asked_at, Q.channel), ~Q.text_masked.startswith("/"))
        .order_by(Q.asked_at.desc())
        .limit(EXAMPLE_SAMPLE)
        .subquery()
    )
    counted = (
        select(recent.c.intent, recent.c.text_masked, func.count().label("n"))
        .where(recent.c.intent.in_([t for t, _ in top]))
        .group_by(recent.c.intent, recent.c.text_masked)
        .subquery()
    )
    ranked = select(
        counted.c.intent, counted.c.text_masked, counted.c.n,
        func.row_number().over(partition_by=counted.c.intent, order_by=(counted.c.n.desc(), counted.c.text_masked)).label("rank"),
    ).subquery()
    rows = session.execute(
        select(ranked.c.intent, ranked.c.text_masked, ranked.c.n).where(ranked.c.rank <= examples)
    ).all()
    by_topic: Dict[str, List[Tuple[str, int]]] = {}
    for intent, text, n in rows:
        by_topic.setdefault(intent, []).append((text, int(n)))
    return [(t, n, sorted(by_topic.get(t, []), key=lambda e: (-e[1], e[0]))) for t, n in top]


def unanswered(session: Session, period: Period, limit: int = 2000) -> List[Tuple[int, str]]:
    """[(id, masked text)] of fallback or low-confidence messages not reviewed yet, newest first."""
    rows = session.execute(
        select(Q.id, Q.text_masked)
        .where(
            _within(period, Q.asked_at, Q.channel),
            Q.review_status.is_(None),
            or_(Q.fallback.is_(True), Q.confidence < LOW_CONFIDENCE),
            ~Q.text_masked.startswith("/"),
        )
        .order_by(Q.asked_at.desc())
        .limit(limit)
    ).all()
    return [(int(i), t) for i, t in rows]


def review(session: Session, ids: Sequence[int], status: str, intent: Optional[str] = None) -> int:
    """Mark inbox messages assigned to a topic, as a new topic, or ignored; how many changed."""
    if status not in REVIEW_STATUSES:
        raise ValueError(f"unknown review status {status!r}")
    if status != "ignored" and not intent:
        raise ValueError("a topic is needed")
    result = session.execute(
        update(Q).where(Q.id.in_(list(ids))).values(review_status=status, assigned_intent=intent if status != "ignored" else None)
    )
    session.commit()
    return result.rowcount or 0


def assigned_examples(session: Session) -> Dict[str, List[str]]:
    """{topic: [masked texts]} of reviewed messages, for NLU YAML."""
    rows = session.execute(
        select(Q.assigned_intent, Q.text_masked)
        .where(Q.review_status.in_(("assigned", "new_topic")), Q.assigned_intent.isnot(None))
        .order_by(Q.assigned_intent, Q.id)
    ).all()
    result: Dict[str, List[str]] = {}
    for intent, text in rows:
        result.setdefault(intent, []).append(text)
    return result


@dataclass(frozen=True)
class Durations:
    """A waiting time over the tickets that got that far: how many, median and 90th percentile in seconds."""

    count: int
    median: Optional[float]
    p90: Optional[float]


@dataclass(frozen=True)
class CommuneHandoffs:
    commune: Optional[str]  # None: the resident named no commune
    tickets: int
    ratings: int
    average_rating: Optional[float]


@dataclass
class HandoffSummary:
    """Hand-off tickets opened in the period, as they stand now."""

    opened: int
    taken: int  # a team member took it (whatever happened next)
    closed: int
    still_open: int  # not closed yet (waiting, or taken and in progress)
    reminded: int  # nobody took it within 15 minutes: the team was reminded
    time_to_take: Durations  # opened -> taken
    time_to_first_response: Durations  # opened -> the first team reply delivered to the resident
    rating_counts: List[int]  # tickets rated 1, 2, 3, 4, 5
    communes: List[CommuneHandoffs]  # the HANDOFF_COMMUNES communes with most tickets

    @property
    def ratings(self) -> int:
        return sum(self.rating_counts)

    @property
    def average_rating(self) -> Optional[float]:
        if not self.ratings:
            return None
        return sum(stars * n for stars, n in zip(RATINGS, self.rating_counts)) / self.ratings

    @property
    def rating_distribution(self) -> List[Tuple[int, int]]:
        """[(stars, tickets)] for 1..5 stars."""
        return list(zip(RATINGS, self.rating_counts))


def handoff_summary(session: Session, period: Period) -> HandoffSummary:
    """Counts, waiting times (median, p90), ratings and the busiest communes of the period's tickets.

    Three queries through the index on `opened_at` (see `_waiting_times` for the
    percentiles on each database).
    """
    where = _tickets_within(period)
    rated = T.rating.in_(RATINGS)
    counts = session.execute(
        select(
            func.count(),
            func.coalesce(func.sum(_as_int(T.taken_at.isnot(None))), 0),
            func.coalesce(func.sum(_as_int(T.status == "closed")), 0),
            func.coalesce(func.sum(_as_int(T.reminded_at.isnot(None))), 0),
            *(func.coalesce(func.sum(_as_int(T.rating == stars)), 0) for stars in RATINGS),
        ).where(where)
    ).one()
    opened, taken, closed, reminded = (int(n) for n in counts[:4])
    rating_counts = [int(n) for n in counts[4:]]

    time_to_take, time_to_first_response = _waiting_times(session, where)

    tickets = func.count().label("tickets")
    communes = session.execute(
        select(T.commune, tickets, func.coalesce(func.sum(_as_int(rated)), 0), func.avg(case((rated, T.rating))))
        .where(where)
        .group_by(T.commune)
        .order_by(tickets.desc(), T.commune.is_(None), T.commune)
        .limit(HANDOFF_COMMUNES)
    ).all()
    return HandoffSummary(
        opened=opened, taken=taken, closed=closed, still_open=opened - closed, reminded=reminded,
        time_to_take=time_to_take, time_to_first_response=time_to_first_response,
        rating_counts=rating_counts,
        communes=[CommuneHandoffs(name, int(n), int(r), float(avg) if avg is not None else None)
                  for name, n, r, avg in communes],
    )


def _tickets_within(period: Period):
    """Tickets opened in the period; the web chat's tickets say `rest` (Rasa's channel), the log says `web`.

    A ticket whose post never reached a team group (closed as undelivered; the
    resident got the contact instead) is not a hand-off and is left out.
    """
    delivered = or_(T.closed_by.is_(None), T.closed_by != UNDELIVERED)
    where = and_(_within(replace(period, channel=None), T.opened_at, T.channel), delivered)
    if not period.channel:
        return where
    names = [period.channel] + [raw for raw, shown in CHANNEL_NAMES.items() if shown == period.channel]
    return and_(where, T.channel.in_(names))


def _waiting_times(session: Session, where) -> Tuple[Durations, Durations]:
    """Opened -> taken and opened -> first response, over the tickets that got there.

    PostgreSQL computes the percentiles itself (percentile_cont); SQLite has no
    percentile function, so there the seconds of at most the DURATION_SAMPLE
    newest tickets are fetched and interpolated the same way in Python.
    """
    waits = (T.taken_at, T.first_response_at)
    if session.get_bind().dialect.name == "postgresql":
        columns = []
        for moment in waits:
            seconds = cast(func.extract("epoch", moment - T.opened_at), Float)
            columns += [func.count(seconds), func.percentile_cont(0.5).within_group(seconds),
                        func.percentile_cont(0.9).within_group(seconds)]
        row = session.execute(select(*columns).where(where)).one()
        return _durations(*row[:3]), _durations(*row[3:])
    rows = session.execute(
        select(*((func.julianday(moment) - func.julianday(T.opened_at)) * 86400.0 for moment in waits))
        .where(where, or_(*(moment.isnot(None) for moment in waits)))
        .order_by(T.opened_at.desc())
        .limit(DURATION_SAMPLE)
    ).all()
    result = []
    for index in range(len(waits)):
        ordered = sorted(round(row[index], 3) for row in rows if row[index] is not None)  # julianday: ~10 µs noise
        result.append(_durations(len(ordered), _percentile(ordered, 0.5), _percentile(ordered, 0.9)))
    return result[0], result[1]


def _durations(count, median, p90) -> Durations:
    return Durations(int(count), *(None if value is None else round(float(value), 3) for value in (median, p90)))


def _percentile(ordered: Sequence[float], q: float) -> Optional[float]:
    """The q-quantile of sorted values, interpolated like PostgreSQL's percentile_cont."""
    if not ordered:
        return None
    position = q * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def channels(session: Session) -> List[str]:
    return [c for (c,) in session.execute(select(distinct(H.channel)).order_by(H.channel)).all()]


EXPORT_COLUMNS = ("asked_at", "channel", "text_masked", "intent", "confidence", "fallback", "out_of_scope",
                  "handoff", "answer", "conversation_id", "sender_hash")


def export_rows(session: Session, period: Period, batch: int = 5000) -> Iterator[tuple]:
    """The log rows of the period, oldest first, streamed."""
    query = select(*(getattr(Q, c) for c in EXPORT_COLUMNS)).where(_within(period, Q.asked_at, Q.channel)).order_by(Q.asked_at, Q.id)
    yield from session.execute(query.execution_options(yield_per=batch))


def _days(period: Period) -> List[str]:
    first = period.start.astimezone(VIETNAM).date()
    last = (period.end - timedelta(microseconds=1)).astimezone(VIETNAM).date()
    return [(first + timedelta(days=i)).isoformat() for i in range((last - first).days + 1)]
