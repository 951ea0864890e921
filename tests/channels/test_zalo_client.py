"""ZaloClient against a fake Zalo OpenAPI/OAuth server of its own: errors, retries, token refresh."""
import asyncio

import pytest

from bot.channels import zalo_client
from bot.channels.zalo_client import TokenStore, ZaloClient
from bot.db.engine import session_factory
from tests.fakes.zalo_api import FakeZalo


@pytest.fixture
def fake():
    server = FakeZalo(app_secret="s3cret", access_token="at-0", refresh_token="rt-0").start()
    yield server
    server.stop()


@pytest.fixture
def sessions(tmp_path):
    return session_factory(f"sqlite:///{tmp_path / 'zalo.sqlite3'}")


@pytest.fixture(autouse=True)
def fast_backoff(monkeypatch):
    monkeypatch.setattr(zalo_client, "BACKOFF_SECONDS", 0.01)


def client_for(fake, sessions, access="at-0", refresh="rt-0"):
    return ZaloClient(fake.base, fake.base, "app-1", fake.app_secret, TokenStore(sessions, access, refresh))


async def test_a_message_is_sent_with_the_access_token(fake, sessions):
    client = client_for(fake, sessions)
    result = await client.send("u1", {"text": "Dạ"})
    await client.close()
    assert result.ok and result.attempts == 1
    [call] = fake.find(fake.sent_to("u1"))
    assert call.headers["access_token"] == "at-0"
    assert call.params == {"recipient": {"user_id": "u1"}, "message": {"text": "Dạ"}}


@pytest.mark.parametrize("code", [-213, -230, -232, -244])
async def test_unreachable_user_is_logged_not_retried(fake, sessions, code):
    fake.fail_next_send(code)
    client = client_for(fake, sessions)
    result = await client.send("u2", {"text": "Dạ"})
    await client.close()
    assert (result.ok, result.error, result.attempts) == (False, code, 1)
    assert len(fake.find(fake.sent_to("u2"))) == 1


@pytest.mark.parametrize("failure", [(-32, 200), (-100, 200), (-1, 502)])
async def test_transient_errors_are_retried(fake, sessions, failure):
    code, status = failure
    fake.fail_next_send(code, http_status=status)
    fake.fail_next_send(code, http_status=status)
    client = client_for(fake, sessions)
    result = await client.send("u3", {"text": "Dạ"})
    await client.close()
    assert result.ok and result.attempts == 3


async def test_retries_are_bounded(fake, sessions):
    for _ in range(10):
        fake.fail_next_send(-100)
    client = client_for(fake, sessions)
    result = await client.send("u4", {"text": "Dạ"})
    await client.close()
    assert not result.ok
    assert len(fake.find(fake.sent_to("u4"))) == zalo_client.TRANSIENT_RETRIES + 1


async def test_unreachable_server_is_retried_then_given_up(sessions):
    from tests.fakes.server import free_port

    dead = f"http://127.0.0.1:{free_port()}"
    client = ZaloClient(dead, dead, "app-1", "s", TokenStore(sessions, "at", "rt"))
    result = await client.send("u5", {"text": "Dạ"})
    await client.close()
    assert not result.ok and result.attempts == zalo_client.TRANSIENT_RETRIES + 1


async def test_expired_token_is_refreshed_once_stored_and_survives_a_restart(fake, sessions):
    fake.expire_access_token()
    client = client_for(fake, sessions)
    results = await asyncio.gather(*(client.send(f"u6-{i}", {"text": "Dạ"}) for i in range(5)))
    await client.close()
    assert all(r.ok for r in results)
    refreshes = fake.find(lambda c: c.method == "refresh")
    assert len(refreshes) == 1, "concurrent sends must share one refresh (the old refresh token dies)"
    assert refreshes[0].headers["secret_key"] == "s3cret"
    # a new process with the same (old) configuration finds the refreshed pair
    stored = TokenStore(sessions, "at-0", "rt-0").load()
    assert (stored.access_token, stored.refresh_token) == ("at-1", "rt-1")


async def test_a_newly_configured_refresh_token_replaces_the_stored_pair(fake, sessions):
    TokenStore(sessions, "at-0", "rt-0").save(zalo_client.Tokens("at-9", "rt-9"), 3600)
    assert TokenStore(sessions, "at-0", "rt-0").load().access_token == "at-9"
    assert TokenStore(sessions, "at-new", "rt-new").load().access_token == "at-new"


async def test_refused_refresh_gives_up_without_looping(fake, sessions):
    fake.expire_access_token()
    client = client_for(fake, sessions, refresh="wrong")
    result = await client.send("u7", {"text": "Dạ"})
    await client.close()
    assert (result.ok, result.error) == (False, zalo_client.TOKEN_EXPIRED)
    assert len(fake.find(fake.sent_to("u7"))) == 1
    assert len(fake.find(lambda c: c.method == "refresh")) == 1
