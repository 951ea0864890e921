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


@pytest.fixture(scope="module")
def assistant(tmp_path_factory):
    """`python -m bot serve` on free ports, one per test module that asks for it."""
    from tests.serve_helpers import start_assistant, stop_assistant

    running = start_assistant(tmp_path_factory.mktemp("serve"))
    yield running
    stop_assistant(running)
