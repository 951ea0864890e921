"""The in-memory tracker store keeps only the current session and forgets idle conversations."""
import pytest
from rasa.shared.core.events import ActionExecuted, SessionStarted, UserUttered

from bot.tracker_store import ForgetfulInMemoryTrackerStore
from rasa.shared.core.trackers import DialogueStateTracker


class Recorder:
    def __init__(self):
        self.events = []

    def publish(self, event):
        self.events.append(event)


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


@pytest.fixture
def store(domain):
    return ForgetfulInMemoryTrackerStore(domain, Recorder(), idle_hours=1, clock=Clock())


def conversation(domain, sender, *texts_per_session):
    events = []
    for texts in texts_per_session:
        events += [ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted("action_listen")]
        events += [UserUttered(text) for text in texts]
    return DialogueStateTracker.from_events(sender, events, slots=domain.slots)


async def test_only_the_current_session_is_kept_and_every_event_is_published_once(store, domain):
    tracker = conversation(domain, "s1", ["so cccd 001099012345"])
    await store.save(tracker)
    for event in list(conversation(domain, "s1", [], ["tiep tuc"]).events)[3:]:
        tracker.update(event)
    await store.save(tracker)
    kept = await store.retrieve_full_tracker("s1")
    assert [e.text for e in kept.events if isinstance(e, UserUttered)] == ["tiep tuc"]
    published = [e.get("text") for e in store.event_broker.events if e["event"] == "user"]
    assert published == ["so cccd 001099012345", "tiep tuc"]


async def test_idle_conversations_are_forgotten(store, domain):
    await store.save(conversation(domain, "old", ["xin chao"]))
    store._clock.now += 1800
    await store.save(conversation(domain, "new", ["xin chao"]))
    store._clock.now += 2400  # "old" idle 70 min, "new" 40 min
    assert store.forget_idle() == 1
    assert await store.retrieve("old") is None
    assert await store.retrieve("new") is not None


async def test_a_retrieved_conversation_is_what_rasas_own_store_would_give(store, domain):
    from rasa.core.tracker_store import InMemoryTrackerStore

    rasas = InMemoryTrackerStore(domain)
    tracker = conversation(domain, "s2", ["xin chao", "tra tien dien"])
    for target in (store, rasas):
        await target.save(tracker)
    ours, theirs = await store.retrieve("s2"), await rasas.retrieve("s2")
    assert [e.as_dict() for e in ours.events] == [e.as_dict() for e in theirs.events]
    assert ours.current_state() == theirs.current_state()


async def test_changes_never_saved_are_not_retrieved(store, domain):
    # a message whose handling fails half way is not saved; the next one starts
    # from what was saved, as with Rasa's own store
    tracker = conversation(domain, "s3", ["xin chao"])
    await store.save(tracker)
    saved = [e.as_dict() for e in tracker.events]
    tracker.update(UserUttered("mat tien roi"))
    tracker.update(ActionExecuted("utter_greet"))
    again = await store.retrieve("s3")
    assert [e.as_dict() for e in again.events] == saved
    again.update(UserUttered("tiep tuc"))
    await store.save(again)
    texts = [e.text for e in (await store.retrieve("s3")).events if isinstance(e, UserUttered)]
    assert texts == ["xin chao", "tiep tuc"]
    published = [e.get("text") for e in store.event_broker.events if e["event"] == "user"]
    assert published == ["xin chao", "tiep tuc"]


def test_idle_limit_comes_from_the_environment(domain, monkeypatch):
    monkeypatch.setenv("TRACKER_IDLE_HOURS", "2")
    assert ForgetfulInMemoryTrackerStore(domain).idle_seconds == 7200


# -- the Redis store (REDIS_URL): same behaviour, shared by several servers --

from bot.tracker_store import SessionRedisTrackerStore, SharedRedisLockStore  # noqa: E402
from rasa.utils.endpoints import EndpointConfig  # noqa: E402
from tests.services import redis_prefix  # noqa: E402


@pytest.fixture
def redis_slice():
    with redis_prefix() as found:
        yield found


def redis_server_store(domain, redis_slice):
    url, prefix = redis_slice
    return SessionRedisTrackerStore(domain, host=url, event_broker=Recorder(), key_prefix=prefix, idle_hours=1)


@pytest.fixture
def redis_store(domain, redis_slice):
    return redis_server_store(domain, redis_slice)


async def test_redis_store_keeps_only_the_current_session_and_publishes_each_event_once(redis_store, domain):
    tracker = conversation(domain, "s1", ["so cccd 001099012345"])
    await redis_store.save(tracker)
    for event in list(conversation(domain, "s1", [], ["tiep tuc"]).events)[3:]:
        tracker.update(event)
    await redis_store.save(tracker)
    kept = await redis_store.retrieve_full_tracker("s1")
    assert [e.text for e in kept.events if isinstance(e, UserUttered)] == ["tiep tuc"]
    published = [e.get("text") for e in redis_store.event_broker.events if e["event"] == "user"]
    assert published == ["so cccd 001099012345", "tiep tuc"]


async def test_a_second_server_continues_the_same_conversation(redis_store, redis_slice, domain):
    await redis_store.save(conversation(domain, "s2", ["chao"]))
    other = redis_server_store(domain, redis_slice)  # another Rasa server's store
    tracker = await other.retrieve("s2")
    tracker.update(UserUttered("hoi tiep"))
    await other.save(tracker)
    assert [e["text"] for e in other.event_broker.events] == ["hoi tiep"]  # only the new event
    kept = await redis_store.retrieve("s2")
    assert [e.text for e in kept.events if isinstance(e, UserUttered)] == ["chao", "hoi tiep"]


async def test_redis_keys_expire_after_the_idle_limit_and_slide_with_each_message(redis_store, domain):
    tracker = conversation(domain, "s3", ["xin chao"])
    await redis_store.save(tracker)
    key = redis_store.key_prefix + "s3"
    redis_store.red.expire(key, 5)
    await redis_store.save(tracker)
    assert 3500 < redis_store.red.ttl(key) <= 3600
    assert 3500 < redis_store.red.ttl(redis_store._count_key("s3")) <= 3600
    assert await redis_store.keys() == ["s3"]


def test_lock_store_uses_redis_url_and_prefix_and_is_shared(redis_slice):
    url, prefix = redis_slice
    first = SharedRedisLockStore(EndpointConfig(url=url, key_prefix=prefix))
    second = SharedRedisLockStore(EndpointConfig(url=url, key_prefix=prefix))
    ticket = first.issue_ticket("c1")
    assert first.red.exists(prefix + ":lock:c1")
    waiting = second.issue_ticket("c1")  # another server, same conversation
    assert second.get_lock("c1").is_locked(waiting)
    first.finish_serving("c1", ticket)
    assert not second.get_lock("c1").is_locked(waiting)


def test_redis_stores_refuse_a_url_that_is_not_redis(domain):
    with pytest.raises(ValueError):
        SessionRedisTrackerStore(domain, host="localhost")
    with pytest.raises(ValueError):
        SharedRedisLockStore(EndpointConfig(url="http://127.0.0.1:6379"))
