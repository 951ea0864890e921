"""bot/nlu_server.py and the Rasa server's side of it (bot/rasa_server.py RemoteNLU):
the NLU process parses exactly as the Rasa server would, only for holders of
the token, and the Rasa server parses in process whenever it does not answer."""
import asyncio
import json

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot import nlu_server, rasa_server
from tests.ports import free_port

TOKEN = "nlu-token-for-tests-0123456789"
TEXTS = ["tra tien dien the nao", "mở tài khoản ngân hàng cần gì", "cam on chau nhe", "🤔", ""]


@pytest.fixture(scope="module")
def agent():
    from rasa.core.agent import Agent

    from bot.training import ensure_model

    return Agent.load(str(ensure_model()))


async def started(agent):
    runner = web.AppRunner(nlu_server.make_app(agent, TOKEN))
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return runner, f"http://127.0.0.1:{port}"


async def test_the_nlu_process_parses_as_the_rasa_server_does(agent):
    runner, url = await started(agent)
    remote = rasa_server.RemoteNLU(url, TOKEN)
    try:
        for text in TEXTS:
            parsed = await remote.parse(text, "m1")
            local = nlu_server.parse_with(agent, text)
            assert parsed is not None, text
            assert parsed["intent"] == json.loads(json.dumps(local["intent"])), text
            assert parsed["entities"] == json.loads(json.dumps(local["entities"])), text
    finally:
        await remote.close()
        await runner.cleanup()


async def test_without_the_token_nothing_is_parsed(agent):
    client = TestClient(TestServer(nlu_server.make_app(agent, TOKEN)))
    await client.start_server()
    try:
        for headers in ({}, {"X-NLU-Token": "wrong"}, {"X-NLU-Token": TOKEN[:-1]}):
            response = await client.post("/parse", json={"text": "xin chao"}, headers=headers)
            assert response.status == 403
        bad = [b"{", b"[]", b'{"text": 5}', "x".encode() * (nlu_server.MAX_BODY_BYTES + 10)]
        statuses = [(await client.post("/parse", data=body, headers={"X-NLU-Token": TOKEN})).status for body in bad]
        assert statuses == [400, 400, 400, 413]
        assert (await (await client.get("/health")).json())["parsed"] == 0
    finally:
        await client.close()


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


async def test_a_dead_or_slow_nlu_process_is_skipped_for_a_while(monkeypatch):
    calls = []

    async def slow(request):
        calls.append(1)
        await asyncio.sleep(1.0)
        return web.json_response({})

    app = web.Application()
    app.router.add_post("/parse", slow)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    monkeypatch.setattr(rasa_server, "NLU_TIMEOUT_SECONDS", 0.2)
    clock = Clock()
    slow_one = rasa_server.RemoteNLU(f"http://127.0.0.1:{port}", TOKEN, clock=clock)
    dead = rasa_server.RemoteNLU(f"http://127.0.0.1:{free_port()}", TOKEN, clock=clock)
    try:
        assert await slow_one.parse("xin chao", None) is None and len(calls) == 1
        assert await slow_one.parse("xin chao", None) is None and len(calls) == 1  # not asked again yet
        clock.now += rasa_server.NLU_DOWN_SECONDS + 1
        assert await slow_one.parse("xin chao", None) is None and len(calls) == 2
        assert await dead.parse("xin chao", None) is None
    finally:
        await slow_one.close()
        await dead.close()
        await runner.cleanup()
