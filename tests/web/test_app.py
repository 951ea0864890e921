"""The web app against a fake Rasa REST channel served on 127.0.0.1."""
from typing import Any, Dict, List

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.settings import Settings
from bot.web.app import MAX_MESSAGE_CHARS, create_app

SENDER = "web-0123456789abcdef"


@pytest.fixture
async def fake_rasa():
    received: List[Dict[str, Any]] = []

    async def webhook(request: web.Request) -> web.Response:
        body = await request.json()
        received.append(body)
        return web.json_response(
            [
                {"recipient_id": body["sender"], "text": f"Dạ, em nhận được: {body['message']}"},
                {
                    "recipient_id": body["sender"],
                    "text": "Chọn tiếp ạ",
                    "buttons": [{"title": "📋 Menu", "payload": "/ask_help_menu", "type": "postback"}],
                    "custom": {"ignored": True},
                },
            ]
        )

    app = web.Application()
    app.router.add_post("/webhooks/rest/webhook", webhook)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    yield server, received
    await server.close()


async def client_for(rasa_url: str) -> TestClient:
    import tempfile

    from bot.db.engine import session_factory

    settings = Settings(host="127.0.0.1", rasa_port=0, actions_port=0, web_port=0, rasa_url=rasa_url)
    sessions = session_factory(f"sqlite:///{tempfile.mkdtemp()}/web.sqlite3")
    client = TestClient(TestServer(create_app(settings, sessions), host="127.0.0.1"))
    await client.start_server()
    return client


@pytest.fixture
async def client(fake_rasa):
    server, _ = fake_rasa
    client = await client_for(str(server.make_url("")).rstrip("/"))
    yield client
    await client.close()


async def test_health(client):
    response = await client.get("/health")
    assert response.status == 200
    assert (await response.json())["status"] == "ok"


async def test_chat_page_is_vietnamese_and_loads_its_script(client):
    response = await client.get("/")
    html = await response.text()
    assert response.status == 200
    assert '<html lang="vi">' in html and "/static/chat.js" in html
    script = await client.get("/static/chat.js")
    assert script.status == 200 and "/api/chat" in await script.text()


async def test_message_is_forwarded_and_answer_cleaned(client, fake_rasa):
    _, received = fake_rasa
    response = await client.post("/api/chat", json={"sender": SENDER, "message": "mo tk ngan hang"})
    assert response.status == 200
    body = await response.json()
    assert received == [{"sender": SENDER, "message": "mo tk ngan hang"}]
    assert body["messages"] == [
        {"text": "Dạ, em nhận được: mo tk ngan hang"},
        {"text": "Chọn tiếp ạ", "buttons": [{"title": "📋 Menu", "payload": "/ask_help_menu"}]},
    ]


@pytest.mark.parametrize(
    "payload, status",
    [
        ({"sender": "x", "message": "hi"}, 400),
        ({"sender": SENDER}, 400),
        ({"sender": SENDER, "message": 5}, 400),
        (["not", "an", "object"], 400),
        ({"sender": SENDER, "message": "a" * (MAX_MESSAGE_CHARS + 1)}, 413),
    ],
)
async def test_bad_requests_get_a_clear_error(client, fake_rasa, payload, status):
    _, received = fake_rasa
    response = await client.post("/api/chat", json=payload)
    assert response.status == status
    assert (await response.json())["error"]
    assert received == []


async def test_malformed_json_is_refused(client):
    response = await client.post("/api/chat", data=b"{not json", headers={"Content-Type": "application/json"})
    assert response.status == 400


async def test_emoji_and_empty_text_are_forwarded(client, fake_rasa):
    _, received = fake_rasa
    for text in ["🙏👍", ""]:
        response = await client.post("/api/chat", json={"sender": SENDER, "message": text})
        assert response.status == 200
    assert [r["message"] for r in received] == ["🙏👍", ""]


async def test_rasa_down_gives_a_polite_502():
    client = await client_for("http://127.0.0.1:9")  # discard port: nothing listens
    try:
        response = await client.post("/api/chat", json={"sender": SENDER, "message": "alo"})
        assert response.status == 502
        assert "thử lại" in (await response.json())["error"]
    finally:
        await client.close()


async def test_every_answer_has_the_security_headers(client):
    for path in ("/", "/health", "/static/chat.js", "/library", "/admin", "/admin/login", "/no-such-page"):
        answer = await client.get(path, allow_redirects=False)
        assert "frame-ancestors 'none'" in answer.headers.get("Content-Security-Policy", ""), path
        assert answer.headers.get("X-Content-Type-Options") == "nosniff", path


async def test_one_conversation_sending_too_fast_gets_a_polite_429(client, fake_rasa):
    _, received = fake_rasa
    statuses = []
    for i in range(15):
        answer = await client.post("/api/chat", json={"sender": "web-fast-000000001", "message": f"cau hoi {i}"})
        statuses.append(answer.status)
    assert statuses[:12] == [200] * 12 and set(statuses[12:]) == {429}
    answer = await client.post("/api/chat", json={"sender": "web-fast-000000001", "message": "nua"})
    body = await answer.json()
    assert answer.headers["Retry-After"] == "60" and "nhanh quá" in body["error"] and len(body["error"]) <= 220
    assert len(received) == 12, "nothing over the limit reaches Rasa"


async def test_a_loop_of_random_senders_from_one_address_is_stopped(client, fake_rasa):
    _, received = fake_rasa
    statuses = []
    for i in range(25):
        answer = await client.post("/api/chat", json={"sender": f"web-random-{i:08d}", "message": "/request_human"})
        statuses.append(answer.status)
    assert statuses.count(200) == 20 and statuses[20:] == [429] * 5
    assert len(received) == 20


def test_the_limiter_forgets_idle_keys_and_stays_bounded():
    from bot.web.limits import Limiter

    now = [0.0]
    limiter = Limiter(2, 60, max_keys=100, clock=lambda: now[0])
    for i in range(1000):
        limiter.allow(f"sender-{i}")
    assert len(limiter) == 100
    now[0] = 61
    limiter.allow("one-more")
    assert len(limiter) == 1
    assert limiter.allow("x") and limiter.allow("x") and not limiter.allow("x")


@pytest.fixture
async def ticket_rasa():
    """A fake Rasa whose hand-off answer opens a ticket (it offers "end the hand-off"), unless the
    message came marked `handoff_capped`."""
    received: List[Dict[str, Any]] = []

    async def webhook(request: web.Request) -> web.Response:
        body = await request.json()
        received.append(body)
        if (body.get("metadata") or {}).get("handoff_capped"):
            return web.json_response([{"text": "Dạ, anh/chị liên hệ UBND xã/phường ạ."}])
        return web.json_response([
            {"text": "Dạ, em đã chuyển yêu cầu của anh/chị tới tổ."},
            {"text": "⚠️ ...", "buttons": [{"title": "❌ Kết thúc hỗ trợ", "payload": "/handoff_end"}]},
        ])

    app = web.Application()
    app.router.add_post("/webhooks/rest/webhook", webhook)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    yield server, received
    await server.close()


async def test_hand_off_tickets_per_address_are_capped(ticket_rasa, monkeypatch):
    monkeypatch.setenv("WEB_HANDOFF_TICKETS_PER_IP_HOUR", "3")
    server, received = ticket_rasa
    client = await client_for(str(server.make_url("")).rstrip("/"))
    try:
        for i in range(5):  # a loop of new conversations from one address, each asking for a person
            answer = await client.post("/api/chat", json={"sender": f"web-ticket-{i:08d}", "message": "xa hoa binh"})
            assert answer.status == 200
    finally:
        await client.close()
    capped = [bool((body.get("metadata") or {}).get("handoff_capped")) for body in received]
    assert capped == [False, False, False, True, True]


def test_the_hand_off_cap_is_bounded_and_forgets_after_an_hour():
    from bot.web.limits import WebLimits

    limits = WebLimits.from_env({"WEB_HANDOFF_TICKETS_PER_IP_HOUR": "2"})
    now = [0.0]
    limits.handoff_tickets._clock = lambda: now[0]
    limits.handoff_tickets.max_keys = 100
    for i in range(1000):
        limits.handoff_opened(f"10.0.{i // 256}.{i % 256}")
    assert len(limits.handoff_tickets) == 100
    limits.handoff_opened("10.9.9.9")
    limits.handoff_opened("10.9.9.9")
    assert limits.handoff_capped("10.9.9.9") and not limits.handoff_capped("10.9.9.8")
    now[0] = 3601
    assert not limits.handoff_capped("10.9.9.9")
    limits.handoff_opened("10.1.1.1")
    assert len(limits.handoff_tickets) == 1
