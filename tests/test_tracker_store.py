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


def test_idle_limit_comes_from_the_environment(domain, monkeypatch):
    monkeypatch.setenv("TRACKER_IDLE_HOURS", "2")
    assert ForgetfulInMemoryTrackerStore(domain).idle_seconds == 7200
