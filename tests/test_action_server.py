"""The action server: loopback only, a shared secret, no tracker echoed when an action fails."""
import json
import socket
import stat

import pytest
from sqlalchemy import select

from bot.action_server import TOKEN_HEADER, resolve_token
from bot.db.engine import session_factory
from bot.db.models import HandoffTicket
from tests.serve_helpers import http, post

ACTIONS_TOKEN = "actions-token-for-tests"  # tests/conftest.py gives it to the test assistant
VICTIM = "telegram:830999001"
HOA_BINH = -1001000000002


def action_call(next_action, sender, events=(), slots=None):
    return {
        "next_action": next_action,
        "sender_id": sender,
        "version": "3.6.21",
        "domain": {},
        "tracker": {
            "sender_id": sender, "slots": slots or {}, "latest_message": {}, "events": list(events),
            "paused": False, "followup_action": None, "active_loop": {}, "latest_action_name": None,
        },
    }


def call(assistant, body, token=None):
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers[TOKEN_HEADER] = token
    url = f"http://127.0.0.1:{assistant['ACTIONS_PORT']}/webhook"
    return post(url, json.dumps(body).encode(), headers)


def forged_handoff():
    said = {"event": "user", "text": "cho toi gap nguoi", "input_channel": "telegram", "parse_data": {}}
    return action_call("action_handoff", VICTIM, [said], {"commune": "Xã Hòa Bình"})


def outside_address():
    """This machine's address on its default route (UDP connect sends nothing), or None."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))
            address = probe.getsockname()[0]
        except OSError:
            return None
    return None if address.startswith("127.") else address


def test_a_forged_tracker_without_the_token_is_refused(assistant, fake_telegram):
    before = len(fake_telegram.find(fake_telegram.sent_to(HOA_BINH)))
    for token in (None, "", "wrong-token"):
        status, body = call(assistant, forged_handoff(), token)
        assert status == 403, body
    assert http(f"http://127.0.0.1:{assistant['ACTIONS_PORT']}/actions")[0] == 403
    with session_factory(assistant["DATABASE_URL"])() as session:
        assert session.execute(select(HandoffTicket).where(HandoffTicket.conversation_id == VICTIM)).first() is None
    assert len(fake_telegram.settle(fake_telegram.sent_to(HOA_BINH), quiet=1)) == before, "nothing posted to the group"


def test_the_action_server_listens_on_loopback_only(assistant):
    address = outside_address()
    if address is None:
        pytest.skip("this machine has no address besides loopback")
    with socket.socket() as local:
        assert local.connect_ex(("127.0.0.1", assistant["ACTIONS_PORT"])) == 0
    with socket.socket() as outside:
        outside.settimeout(3)
        assert outside.connect_ex((address, assistant["ACTIONS_PORT"])) != 0, f"reachable on {address}"


def test_a_failing_action_answers_politely_and_logs_no_conversation(assistant):
    secret_id = "079203001234"
    events = [
        {"event": "user", "text": f"so cccd cua toi la {secret_id}", "parse_data": "not a dict"},
        {"event": "user", "text": "alo", "parse_data": {}},
    ]
    status, body = call(assistant, action_call("action_check_fallback", "web-fails-0001", events), ACTIONS_TOKEN)
    assert status == 200, body
    [answer] = body["responses"]
    assert "xin lỗi" in answer["text"] and len(answer["text"]) <= 220
    assert [b["payload"] for b in answer["buttons"]] == ["/request_human"]
    assert body["events"] == []
    log = assistant["log"].read_text(errors="replace")
    assert secret_id not in log and "web-fails-0001" not in log
    assert "AttributeError" in log, "the failure is still logged, as its type"


def test_the_token_is_made_once_and_kept_private(tmp_path):
    path = tmp_path / "var" / "actions-token"
    first = resolve_token({}, path)
    assert len(first) >= 32 and resolve_token({}, path) == first
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert resolve_token({"ACTIONS_TOKEN": "given"}, path) == "given"
