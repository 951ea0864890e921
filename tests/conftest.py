"""Shared test helpers: the project's domain and training data, loaded once."""
import os
from pathlib import Path

import pytest
import yaml

os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")

ROOT = Path(__file__).resolve().parent.parent
TOPICS_FILE = ROOT.parent / "shared" / "spec" / "topics.yml"


def load_examples(path: Path):
    """[(text, intent)] of a Rasa NLU YAML file."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return [
        (line.strip()[2:].strip(), block["intent"])
        for block in data.get("nlu", [])
        if "intent" in block
        for line in block["examples"].splitlines()
        if line.strip().startswith("- ")
    ]


@pytest.fixture(scope="session")
def domain():
    from rasa.shared.core.domain import Domain

    return Domain.load(str(ROOT / "domain"))


@pytest.fixture(scope="session")
def training_examples():
    return [ex for path in sorted((ROOT / "nlu_data").rglob("*.yml")) for ex in load_examples(path)]


@pytest.fixture(scope="session")
def holdout_examples():
    return load_examples(ROOT / "tests" / "nlu_holdout.yml")


@pytest.fixture(scope="session")
def topics():
    """{intent: spec} from the shared topic catalogue."""
    catalogue = yaml.safe_load(TOPICS_FILE.read_text(encoding="utf-8"))
    return {intent: spec for group in catalogue.values() for intent, spec in group.items()}


@pytest.fixture(scope="session")
def rules():
    """{intent: the responses (utter_*) of the first rule that starts with it}."""
    found = {}
    for path in sorted((ROOT / "nlu_data" / "rules").glob("*.yml")):
        for rule in yaml.safe_load(path.read_text(encoding="utf-8"))["rules"]:
            intent = rule["steps"][0].get("intent")
            actions = [
                step["action"] for step in rule["steps"][1:] if step.get("action", "").startswith("utter_")
            ]
            found.setdefault(intent, actions)
    return found


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request, tmp_path):
    """A SQLAlchemy URL of an empty database, on SQLite and on the machine's PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'test.sqlite3'}"
        return
    from tests.databases import postgres_database

    with postgres_database() as url:
        yield url


@pytest.fixture(scope="session")
def fake_telegram():
    """The Telegram Bot API, played by a real HTTP server on 127.0.0.1."""
    from tests.fakes.telegram_api import FakeTelegram

    server = FakeTelegram().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def fake_zalo():
    """The Zalo OpenAPI and OAuth server, played by a real HTTP server on 127.0.0.1."""
    from tests.fakes.zalo_api import FakeZalo

    server = FakeZalo().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def assistant(tmp_path_factory, fake_telegram, fake_zalo):
    """`python -m bot serve` on free ports with every channel on (messengers faked), once per run."""
    from tests.serve_helpers import channel_env, start_assistant, stop_assistant

    env = {
        **channel_env(fake_telegram, fake_zalo),
        # an untaken hand-off ticket is reminded after 6 s instead of 15 min (tests/handoff/test_relay_e2e.py)
        "HANDOFF_REMINDER_MINUTES": "0.1",
        # the shared secret of the action server, known to tests/test_action_server.py
        "ACTIONS_TOKEN": "actions-token-for-tests",
        # every hand-off test posts to the same sample groups
        "HANDOFF_MAX_TICKETS_PER_GROUP_HOUR": "100000",
    }
    running = start_assistant(tmp_path_factory.mktemp("serve"), env)
    yield running
    stop_assistant(running)
