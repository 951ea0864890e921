"""Answers in the database: seeded from the files, versions, review rules, revert, resync."""
import datetime

import pytest
from sqlalchemy.orm import sessionmaker

from bot.answers import store
from bot.answers.live import LiveAnswers
from bot.db.engine import make_engine
from bot.db.migrate import upgrade
from bot.db.models import AdminUser

KEY = store.response_key("utter_ask_pay_water")
TODAY = datetime.date(2026, 12, 1)
EDITOR = store.Actor("bien_tap", store.EDITOR)
APPROVER = store.Actor("duyet", store.APPROVER)


@pytest.fixture
def factory(database):
    engine = make_engine(database)
    upgrade(engine)
    factory = sessionmaker(engine, future=True, expire_on_commit=False)
    with factory() as session, session.begin():
        session.add(AdminUser(username="bien_tap", password_hash="x", role=store.EDITOR))
        session.add(AdminUser(username="duyet", password_hash="x", role=store.APPROVER))
    yield factory
    engine.dispose()


def water(text):
    return {"variations": [{"text": text, "buttons": [{"title": "👤 Gặp người hỗ trợ", "payload": "/request_human"}]}]}


def test_the_repo_files_seed_every_answer_once(factory):
    items = store.repo_items()
    assert KEY in items and store.journey_key("open_account", "has_chip_id") in items
    assert store.source_key("ask_pay_water") in items
    assert store.sync_from_files(factory, items) == len(items)
    assert store.sync_from_files(factory, items) == 0  # second start: nothing new
    with factory() as session:
        assert store.published(session) == items


def test_an_editor_proposes_and_another_person_publishes(factory):
    store.sync_from_files(factory)
    version = store.propose(factory, KEY, water("Mới"), EDITOR, "Đổi số", "Công ty nước", TODAY)
    with factory() as session:
        assert store.published(session)[KEY] != water("Mới")  # still in review
    with pytest.raises(store.AnswerError):
        store.approve(factory, version.id, store.Actor("bien_tap", store.EDITOR))
    store.approve(factory, version.id, APPROVER)
    with factory() as session:
        assert store.published(session)[KEY] == water("Mới")
        answer = store.answer_by_key(session, KEY)
        assert [v.status for v in store.versions(session, answer.id)] == [store.PUBLISHED, store.ARCHIVED]


def test_an_editor_cannot_publish_alone(factory):
    store.sync_from_files(factory)
    with pytest.raises(store.AnswerError):
        store.propose(factory, KEY, water("Mới"), EDITOR, "Đổi", "Nguồn", TODAY, publish=True)


def test_an_editor_who_is_also_named_approver_elsewhere_still_needs_someone_else(factory):
    store.sync_from_files(factory)
    version = store.propose(factory, KEY, water("Mới"), EDITOR, "Đổi", "Nguồn", TODAY)
    with pytest.raises(store.AnswerError):  # same username, approver role claimed: the author is an editor
        store.approve(factory, version.id, store.Actor("bien_tap", store.APPROVER))


def test_source_and_checked_date_are_required(factory):
    store.sync_from_files(factory)
    with pytest.raises(store.AnswerError):
        store.propose(factory, KEY, water("Mới"), APPROVER, "Đổi", "", TODAY)
    with pytest.raises(store.AnswerError):
        store.propose(factory, KEY, water("Mới"), APPROVER, "Đổi", "Nguồn", None)


def test_revert_brings_an_old_version_back_as_a_new_one(factory):
    store.sync_from_files(factory)
    original = store.repo_items()[KEY]
    store.propose(factory, KEY, water("Mới"), APPROVER, "Đổi", "Nguồn", TODAY, publish=True)
    store.revert(factory, KEY, 1, APPROVER)
    with factory() as session:
        assert store.published(session)[KEY] == original
        answer = store.answer_by_key(session, KEY)
        assert [v.number for v in store.versions(session, answer.id)] == [3, 2, 1]


def test_a_changed_file_is_published_unless_an_admin_published_since(factory):
    items = store.repo_items()
    store.sync_from_files(factory, items)
    other = store.response_key("utter_ask_pay_electricity")
    store.propose(factory, other, water("Của admin"), APPROVER, "Đổi", "Nguồn", TODAY, publish=True)
    changed = {**items, KEY: water("Tệp mới"), other: water("Tệp mới khác")}
    assert store.sync_from_files(factory, changed) == 1
    with factory() as session:
        now = store.published(session)
    assert now[KEY] == water("Tệp mới")
    assert now[other] == water("Của admin")


def test_live_answers_poll_the_revision_and_drop_the_cache_on_a_local_publish(factory):
    clock = [0.0]
    live = LiveAnswers(factory, poll_seconds=2.0, clock=lambda: clock[0])
    first = live.snapshot()
    assert first.responses()["utter_ask_pay_water"] == store.repo_items()[KEY]["variations"]
    # a publish by another process: seen after the poll interval, not before
    other = LiveAnswers(factory, seed=False)
    with factory() as session, session.begin():
        answer = store.answer_by_key(session, KEY)
        version = store.AnswerVersion(answer_id=answer.id, number=9, content=water("Khác"), status=store.REVIEW,
                                      author="duyet", reason="x")
        session.add(version)
        session.flush()
        store._publish(session, answer, version, "duyet")
    clock[0] = 1.0
    assert live.snapshot() is first
    clock[0] = 2.5
    assert live.snapshot().responses()["utter_ask_pay_water"] == water("Khác")["variations"]
    # a publish of this process: at once
    store.propose(factory, KEY, water("Ngay"), APPROVER, "Đổi", "Nguồn", TODAY, publish=True)
    assert live.snapshot().responses()["utter_ask_pay_water"] == water("Ngay")["variations"]
    assert other.snapshot().responses()["utter_ask_pay_water"] == water("Ngay")["variations"]


def test_live_answers_keep_answering_from_the_files_when_the_database_is_down(tmp_path):
    broken = sessionmaker(make_engine(f"sqlite:///{tmp_path}/missing/dir/x.sqlite3"), future=True)
    snapshot = LiveAnswers(broken).snapshot()
    assert snapshot.revision == -1
    assert snapshot.responses()["utter_ask_pay_water"] == store.repo_items()[KEY]["variations"]
