"""RASA_INSTANCES: N Rasa servers on the ports after RASA_PORT, HAProxy on RASA_PORT."""
import subprocess
from pathlib import Path

import pytest

from bot.scale import front
from bot.scale.once import first_to_claim
from bot.serve import services
from bot.settings import Settings
from tests.services import redis_prefix

SHARED = {"REDIS_URL": "redis://127.0.0.1:6379/0", "RABBITMQ_URL": "amqp://guest:guest@127.0.0.1:5672/%2F"}


def names(found):
    return [service.name for service in found]


def test_one_instance_and_no_variables_is_todays_set():
    found = services(Settings.from_env({}), Path("model.tar.gz"), {})
    assert names(found) == ["nlu", "actions", "rasa", "web"]
    # restarted on their own: the NLU process (the Rasa server parses meanwhile) and
    # the action server (residents get a polite "try again" meanwhile)
    assert [service.name for service in found if service.restart] == ["nlu", "actions"]


def test_the_nlu_process_can_be_turned_off():
    found = services(Settings.from_env({}), Path("model.tar.gz"), {"NLU_PROCESS": "off"})
    assert names(found) == ["actions", "rasa", "web"]
    # the action server (stateless) is restarted on its own; the Rasa server and the web app are not
    assert [service.name for service in found if service.restart] == ["actions"]


def test_rabbitmq_adds_the_consumer():
    found = services(Settings.from_env({}), Path("m"), {"RABBITMQ_URL": SHARED["RABBITMQ_URL"]})
    assert names(found) == ["nlu", "actions", "rasa", "web", "questionlog-consumer"]


def test_three_instances_behind_haproxy_on_the_contract_port():
    env = {**SHARED, "RASA_INSTANCES": "3", "RASA_PORT": "6100"}
    found = services(Settings.from_env(env), Path("m"), env)
    assert names(found) == ["actions", "rasa1", "rasa2", "rasa3", "haproxy", "web", "questionlog-consumer"]
    ports = [s.command[s.command.index("--port") + 1] for s in found if s.name.startswith("rasa")]
    assert ports == ["6101", "6102", "6103"]
    haproxy = found[names(found).index("haproxy")]
    assert haproxy.ready_url == "http://127.0.0.1:6100/" and all(
        s.restart for s in found if s.name.startswith(("rasa", "haproxy", "questionlog")))
    config = Path(haproxy.command[-1]).read_text()
    assert "bind 127.0.0.1:6100" in config and "server rasa3 127.0.0.1:6103 check" in config
    checked = subprocess.run([haproxy.command[0], "-c", "-f", haproxy.command[-1]], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr


@pytest.mark.parametrize("env", [{"RASA_INSTANCES": "2"}, {"RASA_INSTANCES": "2", "REDIS_URL": "redis://x"},
                                 {"RASA_INSTANCES": "0"}, {"RASA_INSTANCES": "many"}])
def test_several_instances_need_redis_and_rabbitmq(env):
    with pytest.raises(ValueError):
        front.instances(env)


def test_a_duty_is_done_once_per_deployment():
    with redis_prefix() as (url, prefix):
        env = {"REDIS_URL": url, "REDIS_KEY_PREFIX": prefix}
        assert [first_to_claim("set-webhook", 30, env) for _ in range(3)] == [True, False, False]
    assert first_to_claim("set-webhook", 30, {}) is True  # one server: always
