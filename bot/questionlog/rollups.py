"""Roll-ups of the question log that the dashboard reads instead of the raw rows.

`question_log_hourly` counts messages per UTC hour, channel, topic and
fallback; `question_log_conversations` has one row per conversation (who,
where, when, whether it fell back or was handed to a person). The writer
updates both in the same transaction as the rows it inserts (`record`);
`rebuild` recomputes them from the log (migration, seeding, imports).
"""
from __future__ import annotations

import hashlib
from collections import defaultdict
from datetime import datetime, timezone
from typing import Dict, Iterable, Tuple

from sqlalchemy import delete, func, or_, text

from bot.db.models import QuestionLogConversation as C
from bot.db.models import QuestionLogHourly as H


def resident_of(sender_hash: str) -> int:
    """A 60-bit integer for the (already keyed) sender hash, so distinct counts stay fast.

    md5 here only spreads values (PostgreSQL computes the same in `rebuild`);
    collisions are about 1 in 10^6 for a million residents.
    """
    return int(hashlib.md5(sender_hash.encode("utf-8")).hexdigest()[:15], 16)


def hour_of(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).replace(minute=0, second=0, microsecond=0)


def _dialect(bind) -> str:  # noqa: ANN001
    """"postgresql" or "sqlite", for a Connection or a Session."""
    dialect = getattr(bind, "dialect", None) or bind.get_bind().dialect
    return dialect.name


def _insert(bind, table):  # noqa: ANN001
    if _dialect(bind) == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(table)


def record(bind, rows: Iterable[dict]) -> None:  # noqa: ANN001
    """Add freshly inserted log rows (dicts of question_log columns) to the roll-ups."""
    hourly: Dict[Tuple, list] = defaultdict(lambda: [0, 0])
    conversations: Dict[str, dict] = {}
    for row in rows:
        key = (hour_of(row["asked_at"]), row["channel"], row.get("intent") or "", bool(row["fallback"]))
        hourly[key][0] += 1
        hourly[key][1] += int(bool(row["handoff"]))
        seen = conversations.get(row["conversation_id"])
        if seen is None:
            conversations[row["conversation_id"]] = {
                "conversation_id": row["conversation_id"], "sender_hash": row["sender_hash"],
                "resident": resident_of(row["sender_hash"]), "channel": row["channel"],
                "started_at": row["asked_at"], "last_at": row["asked_at"], "messages": 1,
                "fell_back": bool(row["fallback"]), "handed_off": bool(row["handoff"]),
            }
        else:
            seen["started_at"] = min(seen["started_at"], row["asked_at"])
            seen["last_at"] = max(seen["last_at"], row["asked_at"])
            seen["messages"] += 1
            seen["fell_back"] = seen["fell_back"] or bool(row["fallback"])
            seen["handed_off"] = seen["handed_off"] or bool(row["handoff"])
    # One statement of a fixed shape, executed for many parameter sets: SQLAlchemy
    # compiles it once (a multi-row VALUES of varying length was compiled on
    # every batch: 5 % of the Rasa server's time in bench/speed.py's profile).
    if hourly:
        statement = _insert(bind, H)
        bind.execute(statement.on_conflict_do_update(
            index_elements=["hour", "channel", "intent", "fallback"],
            set_={"messages": H.messages + statement.excluded.messages, "handoffs": H.handoffs + statement.excluded.handoffs},
        ), [
            {"hour": k[0], "channel": k[1], "intent": k[2], "fallback": k[3], "messages": v[0], "handoffs": v[1]}
            for k, v in hourly.items()
        ])
    if conversations:
        least, greatest = (func.least, func.greatest) if _dialect(bind) == "postgresql" else (func.min, func.max)
        statement = _insert(bind, C)
        bind.execute(statement.on_conflict_do_update(
            index_elements=["conversation_id"],
            set_={
                "started_at": least(C.started_at, statement.excluded.started_at),
                "last_at": greatest(C.last_at, statement.excluded.last_at),
                "messages": C.messages + statement.excluded.messages,
                "fell_back": or_(C.fell_back, statement.excluded.fell_back),
                "handed_off": or_(C.handed_off, statement.excluded.handed_off),
            },
        ), list(conversations.values()))


REBUILD = {
    "postgresql": (
        "INSERT INTO question_log_hourly (hour, channel, intent, fallback, messages, handoffs) "
        "SELECT date_trunc('hour', asked_at), channel, coalesce(intent, ''), fallback, count(*), "
        "sum(CASE WHEN handoff THEN 1 ELSE 0 END) FROM question_log GROUP BY 1, 2, 3, 4",
        "INSERT INTO question_log_conversations (conversation_id, sender_hash, resident, channel, started_at, last_at, "
        "messages, fell_back, handed_off) SELECT conversation_id, min(sender_hash), "
        "('x' || substr(md5(min(sender_hash)), 1, 15))::bit(60)::bigint, min(channel), min(asked_at), max(asked_at), "
        "count(*), bool_or(fallback), bool_or(handoff) FROM question_log GROUP BY conversation_id",
    ),
    "sqlite": (
        "INSERT INTO question_log_hourly (hour, channel, intent, fallback, messages, handoffs) "
        "SELECT strftime('%Y-%m-%d %H:00:00.000000', asked_at), channel, coalesce(intent, ''), fallback, count(*), "
        "sum(CASE WHEN handoff THEN 1 ELSE 0 END) FROM question_log GROUP BY 1, 2, 3, 4",
        "INSERT INTO question_log_conversations (conversation_id, sender_hash, resident, channel, started_at, last_at, "
        "messages, fell_back, handed_off) SELECT conversation_id, min(sender_hash), resident_of(min(sender_hash)), "
        "min(channel), min(asked_at), max(asked_at), count(*), max(fallback), max(handoff) "
        "FROM question_log GROUP BY conversation_id",
    ),
}


def rebuild(bind) -> None:  # noqa: ANN001
    """Recompute both roll-ups from question_log (a Connection or Session)."""
    bind.execute(delete(H))
    bind.execute(delete(C))
    if _dialect(bind) == "sqlite":
        connection = bind.connection() if hasattr(bind, "get_bind") else bind
        connection.connection.create_function("resident_of", 1, resident_of, deterministic=True)
    for statement in REBUILD[_dialect(bind)]:
        bind.execute(text(statement))


def prune(bind, cutoff: datetime) -> None:  # noqa: ANN001
    bind.execute(delete(H).where(H.hour < hour_of(cutoff)))
    bind.execute(delete(C).where(C.last_at < cutoff))
