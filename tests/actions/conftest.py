"""Action tests read the team directory from a throw-away database, never from
var/ (bot/directory/store.py seeds it from TEAM_DIRECTORY_CSV, the sample)."""
import pytest


@pytest.fixture(scope="session")
def actions_database(tmp_path_factory):
    return f"sqlite:///{tmp_path_factory.mktemp('actions-db') / 'actions.sqlite3'}"


@pytest.fixture(autouse=True)
def isolated_directory(monkeypatch, actions_database):
    from tests.conftest import ROOT

    monkeypatch.setenv("DATABASE_URL", actions_database)
    monkeypatch.setenv("TEAM_DIRECTORY_CSV", str(ROOT / "data" / "team_directory.sample.csv"))
