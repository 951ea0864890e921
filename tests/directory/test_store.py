import logging

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from bot.db.engine import session_factory
from bot.db.models import Team as TeamRow
from bot.directory import Directory, Team, default_directory
from bot.directory.csv_io import DirectoryCsvError, dump, parse
from bot.directory.store import (
    DirectoryCache,
    clear_cache,
    load_directory,
    load_teams,
    replace_teams,
    seed_if_empty,
)
from tests.conftest import ROOT

SAMPLE = ROOT / "data" / "team_directory.sample.csv"
OLD = [
    Team("Xã Tân Lập", "Tổ A", "0912 345 678", -1001),
    Team("Phường Quang Trung", "Tổ B", "0912 345 679"),
]


def import_file(sessions, data: bytes):
    """What `python -m bot directory import` does: validate everything, then replace."""
    return replace_teams(sessions, parse(data))


def test_replace_adds_updates_and_removes_in_place(database):
    sessions = session_factory(database)
    assert replace_teams(sessions, OLD).added == 2
    with sessions() as session:
        ids = {row.commune_key: row.id for row in session.execute(select(TeamRow)).scalars()}
    new = [
        Team("xã Tân Lập", "Tổ A mới", "0912 345 678", None),  # same commune, written differently
        Team("Xã Hòa Bình", "Tổ C", "1900 1234", -1003),
    ]
    result = replace_teams(sessions, new)
    assert (result.added, result.updated, result.removed, result.unchanged) == (1, 1, 1, 0)
    assert sorted(load_teams(sessions), key=lambda t: t.commune) == sorted(new, key=lambda t: t.commune)
    with sessions() as session:
        assert session.execute(select(TeamRow.id).where(TeamRow.commune_key == "tan lap")).scalar_one() == ids["tan lap"]
    assert replace_teams(sessions, new).unchanged == 2


def test_a_file_with_one_bad_row_leaves_the_old_directory(database):
    sessions = session_factory(database)
    replace_teams(sessions, OLD)
    bad = ("commune,team_name,phone,telegram_chat_id\n"
           "Xã Mới,Tổ mới,0912345670,\n"
           "Xã Hỏng,Tổ hỏng,12,\n").encode()
    with pytest.raises(DirectoryCsvError):
        import_file(sessions, bad)
    assert sorted(load_teams(sessions), key=lambda t: t.commune) == sorted(OLD, key=lambda t: t.commune)


def test_a_failure_while_writing_rolls_the_whole_replacement_back(database):
    sessions = session_factory(database)
    replace_teams(sessions, OLD)
    refused_by_the_database = Team("Xã Mới", None, "0912345671")  # NOT NULL; the CSV checks never let this through
    with pytest.raises(IntegrityError):
        replace_teams(sessions, [Team("Xã Khác", "Tổ khác", "0912345670"), refused_by_the_database])
    with pytest.raises(ValueError):  # one commune twice: refused before anything is written
        replace_teams(sessions, [Team("Xã Khác", "Tổ", "0912345670"), Team("xa khac", "Tổ", "0912345671")])
    assert sorted(load_teams(sessions), key=lambda t: t.commune) == sorted(OLD, key=lambda t: t.commune)


def test_dry_run_changes_nothing(database):
    sessions = session_factory(database)
    replace_teams(sessions, OLD)
    result = replace_teams(sessions, [Team("Xã Hòa Bình", "Tổ C", "1900 1234")], dry_run=True)
    assert (result.added, result.removed) == (1, 2)
    assert {t.commune for t in load_teams(sessions)} == {"Xã Tân Lập", "Phường Quang Trung"}


def test_export_then_import_round_trips(database):
    sessions = session_factory(database)
    replace_teams(sessions, OLD)
    exported = dump(load_teams(sessions))
    result = import_file(sessions, exported)
    assert (result.added, result.updated, result.removed, result.unchanged) == (0, 0, 0, 2)
    assert dump(load_teams(sessions)) == exported


def test_an_empty_table_is_seeded_once_from_the_csv(database, caplog):
    sessions = session_factory(database)
    with caplog.at_level(logging.WARNING, logger="bot.directory.store"):
        directory = load_directory(database, SAMPLE)
    assert len(directory.teams) == 6 and directory.is_sample
    assert "SAMPLE" in caplog.text and "directory import" in caplog.text
    assert seed_if_empty(sessions, SAMPLE) is None  # not empty any more
    replace_teams(sessions, OLD)
    assert len(load_directory(database, SAMPLE).teams) == 2  # an import is never overwritten by the seed


def test_a_bad_seed_file_leaves_the_directory_empty_and_says_why(tmp_path, caplog):
    database = f"sqlite:///{tmp_path / 'bad-seed.sqlite3'}"
    bad = tmp_path / "bad.csv"
    bad.write_text("commune,team_name,phone\nXã A,Tổ A,12\n", encoding="utf-8")
    with caplog.at_level(logging.ERROR, logger="bot.directory.store"):
        assert load_directory(database, bad).teams == []
    assert "Dòng 2, cột phone" in caplog.text
    assert load_teams(session_factory(database)) == []
    assert load_directory(database, tmp_path / "missing.csv").teams == []


def test_default_directory_reads_the_database_seeded_from_team_directory_csv(tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'default.sqlite3'}")
    monkeypatch.delenv("TEAM_DIRECTORY_CSV", raising=False)
    clear_cache()
    teams = default_directory().teams
    assert len(teams) == 6 and all(t.team_name.startswith("[MẪU]") for t in teams)
    assert default_directory().find("xa hoa binh").telegram_chat_id == -1001000000002

    own = tmp_path / "own.csv"
    own.write_bytes(dump([Team("Xã Yên Thành", "Tổ Yên Thành", "0912345678")]))
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'own.sqlite3'}")
    monkeypatch.setenv("TEAM_DIRECTORY_CSV", str(own))
    assert [t.commune for t in default_directory().teams] == ["Xã Yên Thành"]
    clear_cache()


def test_the_cache_reads_again_after_its_ttl(database):
    sessions = session_factory(database)
    replace_teams(sessions, OLD)
    now = [1000.0]
    cache = DirectoryCache(lambda: load_directory(database, SAMPLE), ttl=30, clock=lambda: now[0])
    assert len(cache.get().teams) == 2
    replace_teams(sessions, [Team("Xã Hòa Bình", "Tổ C", "1900 1234")])  # another process imports
    now[0] += 29
    assert len(cache.get().teams) == 2  # still the cached one
    now[0] += 1
    assert [t.commune for t in cache.get().teams] == ["Xã Hòa Bình"]


def test_the_cache_keeps_the_last_directory_when_the_database_fails(caplog):
    now, calls = [0.0], []

    def load():
        calls.append(1)
        if len(calls) > 1:
            raise RuntimeError("database down")
        return Directory(OLD)

    cache = DirectoryCache(load, ttl=30, clock=lambda: now[0])
    assert len(cache.get().teams) == 2
    now[0] += 31
    with caplog.at_level(logging.ERROR):
        assert len(cache.get().teams) == 2
    assert "database down" in caplog.text
    assert len(cache.get().teams) == 2 and len(calls) == 2  # not retried before the TTL again
    assert DirectoryCache(lambda: 1 / 0).get().teams == []
