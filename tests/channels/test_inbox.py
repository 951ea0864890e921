"""The webhook's work bound (503), drain on stop, and the durable inbox (REDIS_URL set):
a delivery accepted by a server that dies is handled once by another server."""
import asyncio
import json

import pytest
from rasa.core.channels.channel import OutputChannel

from bot.channels.common import TEXT, Incoming, WebhookInput
from bot.channels.inbox import Inbox
from bot.db.engine import session_factory


class Request:
    def __init__(self, payload):
        self.body = json.dumps(payload).encode()


class Recorder(OutputChannel):
    def __init__(self):
        self.sent = []

    @classmethod
    def name(cls):
        return "fake"

    async def send_text_message(self, recipient_id, text, **kwargs):
        self.sent.append((recipient_id, text))

    async def send_text_with_buttons(self, recipient_id, text, buttons, **kwargs):
        self.sent.append((recipient_id, text))


class FakeChannel(WebhookInput):
    """A messenger channel with the shared shape: every POST is authentic."""

    @classmethod
    def name(cls):
        return "fake"

    def __init__(self, sessions):
        super().__init__(sessions)
        self.output = Recorder()

    def authentic(self, request, raw, data):
        return True

    def parse(self, data):
        return Incoming(TEXT, sender=str(data["chat"]), text=data["text"], delivery_id=str(data["id"]))

    def get_output_channel(self):
        return self.output


class Assistant:
    """on_new_message: records what it got; holds each message until released."""

    def __init__(self, hold=False):
        self.got = []
        self.release = asyncio.Event()
        if not hold:
            self.release.set()

    async def __call__(self, message):
        await self.release.wait()
        self.got.append((message.sender_id, message.text))


def status_of(answer):
    return answer.status, json.loads(answer.body)


@pytest.fixture
def sessions(tmp_path):
    return session_factory(f"sqlite:///{tmp_path / 'inbox.sqlite3'}")


async def settle(channel):
    while channel._tasks:
        await asyncio.sleep(0.01)


async def test_above_the_in_flight_bound_the_webhook_answers_503_and_keeps_nothing(sessions, monkeypatch):
    monkeypatch.setenv("WEBHOOK_MAX_IN_FLIGHT", "2")
    channel, assistant = FakeChannel(sessions), Assistant(hold=True)
    answers = [status_of(await channel.receive(Request({"id": n, "chat": 1, "text": f"m{n}"}), assistant))
               for n in range(3)]
    assert [a[0] for a in answers] == [200, 200, 503]
    assistant.release.set()
    await settle(channel)
    # the refused delivery was not claimed: the messenger's retry is handled
    assert status_of(await channel.receive(Request({"id": 2, "chat": 1, "text": "m2"}), assistant))[0] == 200
    await settle(channel)
    assert sorted(text for _, text in assistant.got) == ["m0", "m1", "m2"]


async def test_stopping_finishes_in_flight_work_and_refuses_new(sessions):
    channel, assistant = FakeChannel(sessions), Assistant(hold=True)
    assert status_of(await channel.receive(Request({"id": 1, "chat": 1, "text": "a"}), assistant))[0] == 200
    draining = asyncio.ensure_future(channel.drain())
    await asyncio.sleep(0.05)
    assert status_of(await channel.receive(Request({"id": 2, "chat": 1, "text": "b"}), assistant))[0] == 503
    assert not draining.done()
    assistant.release.set()
    await asyncio.wait_for(draining, 5)
    assert [text for _, text in assistant.got] == ["a"]


async def test_a_failure_gets_a_polite_answer_with_the_way_to_a_person(sessions):
    channel = FakeChannel(sessions)

    async def broken(message):
        raise ConnectionError("redis away")

    await channel.receive(Request({"id": 9, "chat": 7, "text": "xin chao"}), broken)
    await settle(channel)
    [(recipient, text)] = channel.output.sent
    assert recipient == "fake:7" and "nhắn lại" in text and len(text) <= 220


async def test_a_delivery_left_by_a_dead_server_is_handled_once_by_another(sessions, monkeypatch):
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/0")
    monkeypatch.setenv("WEBHOOK_LEASE_SECONDS", "0.3")
    dying, live = FakeChannel(sessions), FakeChannel(sessions)
    assert dying.inbox is not None
    stuck = Assistant(hold=True)
    assert status_of(await dying.receive(Request({"id": 5, "chat": 3, "text": "cau hoi"}), stuck))[0] == 200
    for task in list(dying._tasks):  # the server dies mid-way
        task.cancel()
    await asyncio.sleep(0.05)
    assert dying.inbox.pending() == 1
    assistant = Assistant()
    assert await live.replay_expired(assistant) == 0  # lease not over yet
    await asyncio.sleep(0.4)
    assert await live.replay_expired(assistant) == 1
    await settle(live)
    assert await live.replay_expired(assistant) == 0
    assert status_of(await live.receive(Request({"id": 5, "chat": 3, "text": "cau hoi"}), assistant))[1] == {
        "status": "duplicate"}
    await settle(live)
    assert assistant.got == [("fake:3", "cau hoi")] and stuck.got == []
    assert live.inbox.pending() == 0


def test_the_body_is_forgotten_once_done_and_a_poison_delivery_is_given_up(sessions):
    from bot.db.models import WebhookInboxItem

    inbox = Inbox(sessions, {"WEBHOOK_LEASE_SECONDS": "0", "WEBHOOK_MAX_ATTEMPTS": "2"})
    done = inbox.accept("fake", "1", '{"text": "so cccd 001099012345"}')
    inbox.finish(done)
    poison = inbox.accept("fake", "2", "{}")
    assert inbox.accept("fake", "2", "{}") is None  # duplicate
    assert [item for item, _ in inbox.claim_expired("fake")] == [poison]  # attempt 2
    assert inbox.claim_expired("fake") == []  # given up
    with sessions() as session:
        rows = {row.id: row for row in session.query(WebhookInboxItem)}
    assert rows[done].payload is None and rows[done].status == "done"
    assert rows[poison].status == "failed" and rows[poison].payload is None


async def test_when_the_database_is_away_the_delivery_is_refused_with_503(tmp_path):
    from sqlalchemy import create_engine
    from sqlalchemy.orm import sessionmaker

    channel = FakeChannel(session_factory(f"sqlite:///{tmp_path / 'ok.sqlite3'}"))
    unreachable = create_engine("postgresql+psycopg2://postgres@127.0.0.1:9/none", connect_args={"connect_timeout": 1})
    channel.deliveries._sessions = sessionmaker(unreachable, future=True)
    assistant = Assistant()
    assert status_of(await channel.receive(Request({"id": 1, "chat": 1, "text": "a"}), assistant))[0] == 503
    await settle(channel)
    assert assistant.got == []


async def test_a_delivery_already_saved_in_the_shared_tracker_is_not_answered_again(sessions, monkeypatch):
    from tests.services import redis_prefix

    with redis_prefix() as (url, prefix):
        monkeypatch.setenv("REDIS_URL", url)
        monkeypatch.setenv("REDIS_KEY_PREFIX", prefix)
        monkeypatch.setenv("WEBHOOK_LEASE_SECONDS", "0")
        dying, live = FakeChannel(sessions), FakeChannel(sessions)
        await dying.receive(Request({"id": 77, "chat": 4, "text": "da tra loi"}), Assistant(hold=True))
        for task in list(dying._tasks):
            task.cancel()
        # what Rasa saved before the server died: the user event with the delivery's metadata
        # what Rasa saved before the server died: the user event with the delivery's
        # metadata and its answer; the server died before sending it
        saved = {"events": [
            {"event": "user", "text": "cau truoc", "metadata": {"delivery_id": "76"}},
            {"event": "bot", "text": "tra loi cu"},
            {"event": "user", "text": "da tra loi", "metadata": {"delivery_id": "77"}},
            {"event": "action", "name": "utter_x"},
            {"event": "bot", "text": "Dạ, câu trả lời", "data": {"buttons": [{"title": "Menu", "payload": "/menu"}]}},
            {"event": "bot", "text": "Bước tiếp"},
            {"event": "user", "text": "sau do", "metadata": {"delivery_id": "78"}},
            {"event": "bot", "text": "tra loi sau"},
        ]}
        import redis

        redis.Redis.from_url(url).set(f"{prefix}:tracker:fake:4", json.dumps(saved))
        assistant = Assistant()
        await live.replay_expired(assistant)
        await settle(live)
        assert assistant.got == [] and live.inbox.pending() == 0  # Rasa is not asked again
        assert live.output.sent == [("fake:4", "Dạ, câu trả lời"), ("fake:4", "Bước tiếp")]  # its saved answer is sent
        assert dying.output.sent == []


class Speaking(Assistant):
    """Says two messages through the message's output channel, then waits (Rasa saving)."""

    async def __call__(self, message):
        await message.output_channel.send_response(message.sender_id, {"text": "mot"})
        await message.output_channel.send_response(message.sender_id, {"text": "hai"})
        await super().__call__(message)


async def test_an_answer_is_sent_only_once_rasa_has_finished(sessions, monkeypatch):
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/0")
    channel = FakeChannel(sessions)
    speaking = Speaking(hold=True)
    await channel.receive(Request({"id": 9, "chat": 5, "text": "cau hoi"}), speaking)
    await asyncio.sleep(0.1)
    assert channel.output.sent == []  # held while Rasa has not returned
    speaking.release.set()
    await settle(channel)
    assert channel.output.sent == [("fake:5", "mot"), ("fake:5", "hai")]


async def test_a_server_that_dies_before_rasa_saved_has_sent_nothing(sessions, monkeypatch):
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/15")  # no tracker there: Rasa saved nothing
    monkeypatch.setenv("REDIS_KEY_PREFIX", "trolysonone")
    monkeypatch.setenv("WEBHOOK_LEASE_SECONDS", "0")
    dying, live = FakeChannel(sessions), FakeChannel(sessions)
    await dying.receive(Request({"id": 10, "chat": 6, "text": "cau hoi"}), Speaking(hold=True))
    await asyncio.sleep(0.05)
    for task in list(dying._tasks):
        task.cancel()
    await asyncio.sleep(0.05)
    again = Speaking()
    await live.replay_expired(again)
    await settle(live)
    assert dying.output.sent == []
    assert live.output.sent == [("fake:6", "mot"), ("fake:6", "hai")] and again.got == [("fake:6", "cau hoi")]


def test_the_saved_answer_is_what_rasa_sent():
    from rasa.shared.core.events import BotUttered

    from bot.channels.inbox import answer_after

    bot = BotUttered("Dạ", {"buttons": [{"title": "A", "payload": "/a"}], "image": None, "attachment": None})
    events = [{"event": "user", "text": "x", "metadata": {"delivery_id": "1"}}, bot.as_dict()]
    assert answer_after(events, "1") == [bot.message()]
    assert answer_after(events, "2") is None
    assert answer_after(events[:1], "1") == []


async def test_a_slow_delivery_keeps_its_lease_and_is_not_taken_over(sessions, monkeypatch):
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/0")
    monkeypatch.setenv("WEBHOOK_LEASE_SECONDS", "0.3")
    slow_server, other = FakeChannel(sessions), FakeChannel(sessions)
    slow = Assistant(hold=True)  # e.g. waiting for the conversation's lock
    await slow_server.receive(Request({"id": 8, "chat": 2, "text": "cham"}), slow)
    for _ in range(4):
        await asyncio.sleep(0.3)
        assert await other.replay_expired(Assistant()) == 0
    slow.release.set()
    await settle(slow_server)
    assert slow.got == [("fake:2", "cham")] and slow_server.inbox.pending() == 0


async def test_a_replay_skips_the_messages_the_dead_server_had_sent(sessions, monkeypatch):
    import redis

    from tests.services import redis_prefix

    with redis_prefix() as (url, prefix):
        monkeypatch.setenv("REDIS_URL", url)
        monkeypatch.setenv("REDIS_KEY_PREFIX", prefix)
        monkeypatch.setenv("WEBHOOK_LEASE_SECONDS", "0")
        first = FakeChannel(sessions)
        await first.receive(Request({"id": 90, "chat": 7, "text": "cau hoi"}), Speaking())
        await settle(first)
        client = redis.Redis.from_url(url)
        assert client.get(f"{prefix}:sent:fake:90") == b"2"  # marked as they went out
        # a server that sent the first of two saved messages, then died
        dying, live = FakeChannel(sessions), FakeChannel(sessions)
        await dying.receive(Request({"id": 91, "chat": 8, "text": "cau hoi"}), Assistant(hold=True))
        for task in list(dying._tasks):
            task.cancel()
        saved = {"events": [{"event": "user", "text": "cau hoi", "metadata": {"delivery_id": "91"}},
                            {"event": "bot", "text": "mot"}, {"event": "bot", "text": "hai"}]}
        client.set(f"{prefix}:tracker:fake:8", json.dumps(saved))
        client.set(f"{prefix}:sent:fake:91", 1)
        await live.replay_expired(Assistant())
        await settle(live)
        assert live.output.sent == [("fake:8", "hai")] and live.inbox.pending() == 0
