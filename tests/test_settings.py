import os

import pytest

from bot.settings import Settings, load_env_file


def test_defaults_follow_the_contract():
    settings = Settings.from_env({})
    assert (settings.rasa_port, settings.actions_port, settings.web_port) == (5005, 5055, 8080)
    assert settings.host == "127.0.0.1"
    assert settings.rasa_url == "http://127.0.0.1:5005"


def test_ports_are_overridable():
    settings = Settings.from_env({"RASA_PORT": "6005", "ACTIONS_PORT": "6055", "WEB_PORT": "9090"})
    assert (settings.rasa_port, settings.actions_port, settings.web_port) == (6005, 6055, 9090)
    assert settings.rasa_url == "http://127.0.0.1:6005"


@pytest.mark.parametrize("value", ["abc", "0", "70000"])
def test_bad_port_is_a_clear_error(value):
    with pytest.raises(ValueError, match="WEB_PORT"):
        Settings.from_env({"WEB_PORT": value})


def test_env_file_never_overrides_the_environment(tmp_path, monkeypatch):
    env_file = tmp_path / ".env"
    env_file.write_text("TLS_TEST_A=from-file\nTLS_TEST_B=from-file\n")
    monkeypatch.setenv("TLS_TEST_A", "from-env")
    monkeypatch.delenv("TLS_TEST_B", raising=False)
    load_env_file(env_file)
    assert os.environ["TLS_TEST_A"] == "from-env"
    assert os.environ["TLS_TEST_B"] == "from-file"
    monkeypatch.delenv("TLS_TEST_B")


def test_endpoints_get_the_actions_port(tmp_path):
    from bot.serve import render_endpoints

    source = tmp_path / "endpoints.yml"
    source.write_text('action_endpoint:\n  url: "http://127.0.0.1:${ACTIONS_PORT}/webhook"\n')
    settings = Settings.from_env({"ACTIONS_PORT": "6123"})
    rendered = render_endpoints(settings, source).read_text()
    assert "http://127.0.0.1:6123/webhook" in rendered
    source.write_text("url: ${NOT_A_SETTING_XYZ}\n")
    with pytest.raises(ValueError, match="NOT_A_SETTING_XYZ"):
        render_endpoints(settings, source)
