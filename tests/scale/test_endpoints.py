"""endpoints.yml gets the shared engines only when their variables are set."""
import yaml

from bot.scale.endpoints import render
from bot.serve import render_endpoints
from bot.settings import PROJECT_ROOT, Settings

SOURCE = (PROJECT_ROOT / "endpoints.yml").read_text(encoding="utf-8")


def test_without_variables_endpoints_stay_exactly_as_written():
    assert render(SOURCE, {}) == SOURCE
    assert render(SOURCE, {"REDIS_URL": " ", "RABBITMQ_URL": ""}) == SOURCE


def test_redis_url_brings_the_redis_tracker_and_lock_stores():
    data = yaml.safe_load(render(SOURCE, {"REDIS_URL": "redis://10.0.0.5:6379/2", "REDIS_KEY_PREFIX": "hue"}))
    assert data["tracker_store"] == {
        "type": "bot.tracker_store.SessionRedisTrackerStore", "url": "redis://10.0.0.5:6379/2", "key_prefix": "hue",
    }
    assert data["lock_store"]["type"] == "bot.tracker_store.SharedRedisLockStore"
    assert data["lock_store"]["url"] == "redis://10.0.0.5:6379/2"
    assert data["event_broker"]["type"] == "bot.questionlog.broker.QuestionLogBroker"  # still in-process
    assert data["action_endpoint"] == yaml.safe_load(SOURCE)["action_endpoint"]


def test_rabbitmq_url_brings_the_masking_pika_broker(monkeypatch):
    monkeypatch.setenv("RABBITMQ_URL", "amqp://u:p@10.0.0.5:5672/trolyso")
    monkeypatch.delenv("REDIS_URL", raising=False)
    data = yaml.safe_load(render_endpoints(Settings.from_env({"ACTIONS_PORT": "5999"})).read_text(encoding="utf-8"))
    assert data["event_broker"] == {
        "type": "bot.questionlog.broker.MaskingPikaBroker",
        "url": "amqp://u:p@10.0.0.5:5672/trolyso",
        "queues": ["trolyso_question_log"],
    }
    assert data["tracker_store"]["type"] == "bot.tracker_store.ForgetfulInMemoryTrackerStore"
    assert data["action_endpoint"]["url"] == "http://127.0.0.1:5999/webhook"
