"""The log writer on SQLite and PostgreSQL: masked text, hashed ids, retention."""
from datetime import datetime, timedelta, timezone

from sqlalchemy import func, select

from bot.db.engine import session_factory
from bot.db.models import QuestionLogEntry
from bot.questionlog.pseudonym import Pseudonymiser, hash_key
from bot.questionlog.turns import Turn
from bot.questionlog.writer import LogWriter, prune


def turn(text="so cccd cua toi 001099012345", sender="zalo:246845883529197922", when=None, **extra):
    return Turn(
        sender_id=sender, session_started=1_764_000_000.0,
        asked_at=when or datetime.now(timezone.utc), channel="zalo", text=text,
        intent="ask_vneid_account", confidence=0.81,
        ranking=[{"name": "ask_vneid_account", "confidence": 0.81}], fallback=False, out_of_scope=False,
        answer=["utter_ask_vneid_account"], **extra,
    )


def test_rows_are_masked_and_pseudonymous(database):
    sessions = session_factory(database)
    writer = LogWriter(sessions, Pseudonymiser(b"k1"), days=30)
    writer.put(turn())
    writer.put(turn(text="goi 0912 345 678 nhe", sender="telegram:42"))
    assert writer.flush()
    writer.close()
    with sessions() as session:
        rows = session.execute(select(QuestionLogEntry).order_by(QuestionLogEntry.id)).scalars().all()
    assert len(rows) == 2
    assert "001099012345" not in rows[0].text_masked and "[CCCD]" in rows[0].text_masked
    assert "345 678" not in rows[1].text_masked
    assert rows[0].sender_hash == Pseudonymiser(b"k1")("zalo:246845883529197922")
    assert "246845883529197922" not in rows[0].sender_hash + rows[0].conversation_id
    assert rows[0].sender_hash != Pseudonymiser(b"k2")("zalo:246845883529197922")
    assert (rows[0].intent, rows[0].answer, rows[0].ranking[0]["name"]) == (
        "ask_vneid_account", "utter_ask_vneid_account", "ask_vneid_account")


def count(sessions):
    with sessions() as session:
        return session.execute(select(func.count()).select_from(QuestionLogEntry)).scalar_one()


def test_retention_deletes_only_old_rows(database):
    sessions = session_factory(database)
    writer = LogWriter(sessions, Pseudonymiser(b"k"), days=100_000)
    now = datetime.now(timezone.utc)
    for age in (0, 29, 31, 400):
        writer.put(turn(when=now - timedelta(days=age)))
    writer.flush()
    writer.close()
    assert count(sessions) == 4
    assert prune(sessions, 30, now=now) == 2
    assert count(sessions) == 2


def test_the_writer_applies_the_retention_by_itself(database):
    sessions = session_factory(database)
    writer = LogWriter(sessions, Pseudonymiser(b"k"), days=30)
    now = datetime.now(timezone.utc)
    for age in (1, 45):
        writer.put(turn(when=now - timedelta(days=age)))
    writer.flush()
    writer.close()
    assert count(sessions) == 1


def test_a_broken_database_does_not_stop_the_writer(tmp_path):
    sessions = session_factory(f"sqlite:///{tmp_path / 'log.sqlite3'}")
    writer = LogWriter(sessions, Pseudonymiser(b"k"), days=30)
    writer.put(turn(text="xin chao"))
    writer.put(turn(text="x" * 10, when="not a date"))  # a row the database refuses
    writer.put(turn(text="con song"))
    writer.flush()
    writer.close()
    with sessions() as session:
        texts = session.execute(select(QuestionLogEntry.text_masked)).scalars().all()
    assert sorted(texts) == ["con song", "xin chao"]


def test_the_hash_key_is_made_once_and_kept(tmp_path):
    key_file = tmp_path / "sender-hash.key"
    first = hash_key({}, key_file)
    assert hash_key({}, key_file) == first and len(first) == 64
    assert hash_key({"SENDER_HASH_KEY": "configured"}, key_file) == b"configured"


def test_roll_ups_follow_the_writer_and_match_a_rebuild(database):
    from bot.db.models import QuestionLogConversation, QuestionLogHourly
    from bot.questionlog.rollups import rebuild

    sessions = session_factory(database)
    writer = LogWriter(sessions, Pseudonymiser(b"k"), days=100_000)
    now = datetime.now(timezone.utc)
    for i in range(12):
        writer.put(turn(text=f"cau hoi {i}", sender=f"zalo:{i % 3}", when=now - timedelta(hours=i)))
    writer.flush()
    writer.close()

    def snapshot():
        with sessions() as session:
            hourly = sorted((r.channel, r.intent, r.fallback, r.messages) for r in session.execute(select(QuestionLogHourly)).scalars())
            talks = sorted((r.messages, r.resident, r.fell_back) for r in session.execute(select(QuestionLogConversation)).scalars())
        return hourly, talks

    live = snapshot()
    assert sum(h[3] for h in live[0]) == 12 and sorted(t[0] for t in live[1]) == [4, 4, 4]
    with sessions() as session:
        rebuild(session)
        session.commit()
    assert snapshot() == live


def test_turns_arriving_together_share_one_transaction(database):
    """Under load, turns that arrive within a fraction of a second are written
    in one transaction instead of one each."""
    import time

    from sqlalchemy import event

    sessions = session_factory(database)
    writer = LogWriter(sessions, Pseudonymiser(b"k"), days=100_000)
    assert writer.flush()  # the first retention pass is done
    engine = sessions.kw["bind"]
    commits = []

    def on_commit(_connection):  # noqa: ANN001
        commits.append(1)

    event.listen(engine, "commit", on_commit)
    try:
        for n in range(20):  # 20 turns, 5 ms apart: one every message of a busy server
            writer.put(turn(text=f"cau hoi {n}"))
            time.sleep(0.005)
        assert writer.flush()
    finally:
        event.remove(engine, "commit", on_commit)
        writer.close()
    assert count(sessions) == 20
    assert 1 <= len(commits) <= 2, len(commits)
