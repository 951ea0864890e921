"""The question-log consumer: RabbitMQ (a vhost of its own) -> rows, ack after commit."""
import asyncio
import time

import pytest
from sqlalchemy import func, select

from bot.db.engine import session_factory
from bot.db.models import QuestionLogConversation, QuestionLogEntry
from bot.questionlog.broker import MaskingPikaBroker
from bot.questionlog.consumer import Consumer, RowStore, prehashed, turns_of
from bot.questionlog.published import batch_message
from bot.questionlog.pseudonym import Pseudonymiser
from tests.services import rabbitmq_vhost

KEY = b"consumer-test-key"
QUEUE = "question_log_test"
NOW = time.time()  # rows must be younger than the retention the consumer applies


def user(text, ts, intent="ask_vneid_account"):
    return {"event": "user", "timestamp": ts, "text": text, "input_channel": "rest",
            "parse_data": {"intent": {"name": intent, "confidence": 0.8}, "intent_ranking": []}}


def turn_events(text, ts, answer="utter_ask_vneid_account"):
    return [user(text, ts), {"event": "action", "name": answer, "timestamp": ts + 0.1},
            {"event": "action", "name": "action_listen", "timestamp": ts + 0.2}]


def test_turns_of_one_message_stand_alone():
    message = batch_message(Pseudonymiser(KEY), "rest:a", 100.0, turn_events("xin chao", 101.0))
    [turn] = turns_of(message)
    assert (turn.sender_id, turn.session_started, turn.answer, turn.channel) == (
        Pseudonymiser(KEY)("rest:a"), 100.0, ["utter_ask_vneid_account"], "web")


def test_rows_of_two_servers_make_one_conversation_and_a_repeat_is_not_doubled(tmp_path):
    sessions = session_factory(f"sqlite:///{tmp_path / 'log.sqlite3'}")
    store = RowStore(sessions, prehashed(KEY))
    first = batch_message(Pseudonymiser(KEY), "rest:a", 100.0, turn_events("cau 1", 101.0))
    second = batch_message(Pseudonymiser(KEY), "rest:a", 100.0, turn_events("cau 2", 150.0))  # another server
    assert store.write(store.rows_for([first, second])) == 2
    assert store.write(store.rows_for([second])) == 0  # redelivered
    with sessions() as session:
        assert session.execute(select(func.count(QuestionLogEntry.conversation_id.distinct()))).scalar_one() == 1
        conversation = session.execute(select(QuestionLogConversation)).scalar_one()
    assert conversation.messages == 2


async def run_until(consumer, predicate, timeout=30):
    task = asyncio.create_task(consumer.run())
    try:
        for _ in range(int(timeout * 10)):
            if predicate():
                return True
            if task.done():
                task.result()
            await asyncio.sleep(0.1)
        return False
    finally:
        consumer.stop()
        await asyncio.wait_for(task, 10)


@pytest.mark.parametrize("database", ["sqlite", "postgresql"], indirect=True)
async def test_published_turns_become_masked_rows(database):
    sessions = session_factory(database)
    with rabbitmq_vhost() as url:
        broker = MaskingPikaBroker(url, pseudonym=Pseudonymiser(KEY), queues=[QUEUE])
        await broker.connect()
        for n in range(20):
            broker.publish_batch(f"rest:r{n}", NOW - 60, turn_events(f"sdt cua toi 09123456{n:02d}", NOW + n))
        broker.publish({"sender_id": "rest:x", **user("mot su kien le", NOW + 30)})  # one event, Rasa's own call
        await asyncio.sleep(0.5)
        await broker.close()
        consumer = Consumer(url, QUEUE, RowStore(sessions, prehashed(KEY)), sessions)
        assert await run_until(consumer, lambda: consumer.written >= 21)
    with sessions() as session:
        rows = session.execute(select(QuestionLogEntry)).scalars().all()
    assert len(rows) == 21
    assert all("0912345" not in row.text_masked for row in rows)
    assert {row.sender_hash for row in rows} >= {Pseudonymiser(KEY)("rest:r0")}
