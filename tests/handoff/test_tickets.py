"""Ticket states in the database, on SQLite and PostgreSQL."""
from datetime import timedelta

import pytest

from bot.db.engine import session_factory
from bot.handoff.tickets import CLOSED, OPEN, TAKEN, TicketStore, utcnow


@pytest.fixture
def store(database):
    return TicketStore(session_factory(database))


def test_one_active_ticket_per_conversation(store):
    first, new = store.open("zalo", "zalo:1", "Xã Hòa Bình", -100)
    assert new and first.status == OPEN and first.active
    again, new = store.open("zalo", "zalo:1", "Xã Hòa Bình", -100)
    assert not new and again.id == first.id
    other, new = store.open("telegram", "telegram:2", None, -100)
    assert new and other.id != first.id
    assert store.active_for("zalo:1").id == first.id
    assert store.active_for("zalo:404") is None


def test_a_reply_to_any_post_of_the_ticket_finds_it(store):
    ticket, _ = store.open("telegram", "telegram:3", None, -100)
    store.posted(ticket.id, -100, 11)
    store.add_message(ticket.id, -100, 12)
    store.add_message(ticket.id, -100, 12)  # a repeat is harmless
    assert store.get(ticket.id).team_message_id == 11
    assert store.by_team_message(-100, 11).id == ticket.id
    assert store.by_team_message(-100, 12).id == ticket.id
    assert store.by_team_message(-100, 13) is None
    assert store.by_team_message(-200, 11) is None


def test_only_one_member_takes_and_closing_twice_changes_nothing(store):
    ticket, _ = store.open("telegram", "telegram:4", None, -100)
    taken, changed = store.take(ticket.id, "Lan")
    assert changed and taken.status == TAKEN and taken.taken_by == "Lan"
    again, changed = store.take(ticket.id, "Minh")
    assert not changed and again.taken_by == "Lan"
    closed, changed = store.close(ticket.id, "Lan")
    assert changed and closed.status == CLOSED and not closed.active
    assert store.close(ticket.id, "Minh")[1] is False
    assert store.active_for("telegram:4") is None


def test_rating_once_within_a_day_of_closing(store):
    ticket, _ = store.open("zalo", "zalo:5", None, -100)
    assert store.awaiting_rating("zalo:5") is None  # still open
    store.close(ticket.id, "Lan")
    assert store.awaiting_rating("zalo:5").id == ticket.id
    assert store.awaiting_rating("zalo:5", now=utcnow() + timedelta(days=2)) is None
    with pytest.raises(ValueError):
        store.rate(ticket.id, 6)
    assert store.rate(ticket.id, 4)
    assert not store.rate(ticket.id, 1)
    assert store.get(ticket.id).rating == 4
    assert store.awaiting_rating("zalo:5") is None


def test_first_response_is_kept(store):
    ticket, _ = store.open("zalo", "zalo:6", None, -100)
    store.responded(ticket.id)
    first = store.get(ticket.id).first_response_at
    store.responded(ticket.id)
    assert first is not None and store.get(ticket.id).first_response_at == first


def test_reminders_are_due_after_the_wait_and_sent_once(store):
    ticket, _ = store.open("zalo", "zalo:7", None, -100)
    store.posted(ticket.id, -100, 70)
    taken, _ = store.open("zalo", "zalo:8", None, -100)
    store.posted(taken.id, -100, 80)
    store.take(taken.id, "Lan")
    assert store.due_reminders(timedelta(minutes=15)) == []
    later = utcnow() + timedelta(minutes=16)
    assert [t.id for t in store.due_reminders(timedelta(minutes=15), now=later)] == [ticket.id]
    assert store.reminded(ticket.id)
    assert not store.reminded(ticket.id)
    assert store.due_reminders(timedelta(minutes=15), now=later) == []


def test_an_undelivered_ticket_is_closed_and_never_asks_for_a_rating(store):
    ticket, _ = store.open("rest", "web-abc", None, -100)
    store.discard(ticket.id)
    assert store.active_for("web-abc") is None
    assert store.awaiting_rating("web-abc") is None


def test_retention_removes_old_closed_tickets_and_fetched_web_messages(database):
    from bot.db.models import HandoffMessage, WebOutbox
    from bot.handoff.residents import WebOutboxStore
    from bot.questionlog.writer import prune

    sessions = session_factory(database)
    store = TicketStore(sessions)
    old, _ = store.open("zalo", "zalo:old", None, -100)
    store.posted(old.id, -100, 1)
    store.close(old.id, "Lan")
    still_open, _ = store.open("zalo", "zalo:open", None, -100)
    outbox = WebOutboxStore(sessions)
    outbox.put("web-a", {"text": "đã đọc"})
    assert outbox.take("web-a")
    outbox.put("web-a", {"text": "chưa đọc"})
    prune(sessions, days=180, now=utcnow() + timedelta(days=2))  # a fetched web message goes after a day
    with sessions() as session:
        assert [row.message["text"] for row in session.query(WebOutbox)] == ["chưa đọc"]
    assert store.get(old.id) is not None, "a recent ticket stays (analytics)"
    prune(sessions, days=180, now=utcnow() + timedelta(days=200))
    assert store.get(old.id) is None and store.by_team_message(-100, 1) is None
    assert store.get(still_open.id) is not None, "an open ticket is never deleted"
    with sessions() as session:
        assert session.query(HandoffMessage).count() == 0
        assert session.query(WebOutbox).count() == 0


def test_clear_addresses_and_offered_buttons_do_not_outlive_their_use(store, database):
    from bot.channels.common import OfferedButtons
    from bot.handoff.tickets import prune

    sessions = session_factory(database)
    closed, _ = store.open("telegram", "telegram:830000777", None, -100)
    store.close(closed.id, "Lan")
    still_open, _ = store.open("zalo", "zalo:246845883530000777", None, -100)
    OfferedButtons(sessions).remember("zalo", "246845883530000777", [{"title": "Có", "payload": "/affirm"}])
    later = utcnow() + timedelta(days=2, hours=1)
    with sessions() as session:
        prune(session, cutoff=utcnow() - timedelta(days=180), now=later)
        session.commit()
    assert store.get(closed.id).conversation_id == f"forgotten:{closed.id}"
    assert store.get(still_open.id).conversation_id == "zalo:246845883530000777", "an open ticket still needs its address"
    assert OfferedButtons(sessions).resolve("zalo", "246845883530000777", "Có") is None
    with sessions() as session:  # running it again changes nothing
        prune(session, cutoff=utcnow() - timedelta(days=180), now=later)
        session.commit()
    assert store.get(closed.id).conversation_id == f"forgotten:{closed.id}"


def test_a_flooded_group_gets_no_more_tickets_this_hour(store, monkeypatch):
    from actions.handoff import group_is_flooded

    monkeypatch.setenv("HANDOFF_MAX_TICKETS_PER_GROUP_HOUR", "3")
    for i in range(3):
        assert not group_is_flooded(store, -300)
        store.open("rest", f"web-flood-{i:08d}", None, -300)
    assert store.opened_for_group(-300, utcnow() - timedelta(hours=1)) == 3
    assert group_is_flooded(store, -300)
    assert not group_is_flooded(store, -301), "other groups are not affected"


def test_an_abandoned_open_ticket_is_closed_and_forgets_the_address(store, database):
    from bot.handoff.tickets import STALE, prune

    sessions = session_factory(database)
    abandoned, _ = store.open("zalo", "zalo:246845883530000888", None, -100)
    store.posted(abandoned.id, -100, 21)
    taken, _ = store.open("telegram", "telegram:830000888", None, -100)
    store.take(taken.id, "Lan")

    def retention(days_later):
        with sessions() as session:
            prune(session, cutoff=utcnow() - timedelta(days=180), now=utcnow() + timedelta(days=days_later))
            session.commit()

    retention(3)  # a few quiet days: still waiting for the team
    assert store.get(abandoned.id).status == OPEN and store.get(taken.id).status == TAKEN
    retention(8)
    for ticket in (abandoned, taken):
        closed = store.get(ticket.id)
        assert closed.status == CLOSED
        assert closed.conversation_id == f"forgotten:{ticket.id}"
    assert store.active_for("zalo:246845883530000888") is None
    with sessions() as session:
        from bot.db.models import HandoffTicket
        assert {row.closed_by for row in session.query(HandoffTicket)} == {STALE}
