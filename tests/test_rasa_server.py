"""bot/rasa_server.py: Rasa's command line with kept-open action-server
connections and a validator built once, and small TensorFlow thread pools."""
import asyncio

import pytest
from aiohttp import web

from bot import rasa_server


@pytest.fixture(scope="module", autouse=True)
def patched():
    rasa_server.apply()


async def counting_server():
    """A real HTTP server on 127.0.0.1 that records the client address (host, port)
    of every request: one distinct address per TCP connection."""
    connections = set()

    async def webhook(request):
        connections.add(request.transport.get_extra_info("peername"))
        return web.json_response({"events": [], "responses": [], "seen": request.headers.get("X-Token")})

    app = web.Application()
    app.router.add_post("/webhook", webhook)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    return runner, port, connections


async def test_requests_to_an_endpoint_reuse_one_connection():
    from rasa.utils.endpoints import EndpointConfig

    runner, port, connections = await counting_server()
    try:
        endpoint = EndpointConfig(f"http://127.0.0.1:{port}/webhook", headers={"X-Token": "t0k"})
        answers = [await endpoint.request(json={"next_action": "x"}) for _ in range(5)]
        answers += await asyncio.gather(*(endpoint.request(json={}) for _ in range(3)))
    finally:
        await rasa_server.close_sessions()
        await runner.cleanup()
    assert all(answer["seen"] == "t0k" for answer in answers)  # headers still sent
    assert len(answers) == 8
    assert len(connections) <= 3, connections  # not one per request


async def test_an_error_status_still_raises():
    from rasa.utils.endpoints import ClientResponseError, EndpointConfig

    runner, port, _ = await counting_server()
    try:
        with pytest.raises(ClientResponseError):
            await EndpointConfig(f"http://127.0.0.1:{port}/missing").request(json={})
    finally:
        await rasa_server.close_sessions()
        await runner.cleanup()


def test_action_results_are_still_validated():
    from jsonschema import ValidationError
    from rasa.core.actions.action import RemoteAction

    action = RemoteAction("action_x", None)
    assert action._validate_action_result({"events": [{"event": "slot", "name": "a", "value": 1}], "responses": []})
    with pytest.raises(ValidationError) as error:
        action._validate_action_result({"events": [{"event": "slot"}], "responses": "not a list"})
    assert "Failed to validate Action server response" in error.value.message


def test_tensorflow_threads_default_small_but_the_operator_wins():
    env = {"TF_INTER_OP_PARALLELISM_THREADS": "2"}
    rasa_server.tune_environment(env)
    assert env == {"TF_INTER_OP_PARALLELISM_THREADS": "2", "TF_INTRA_OP_PARALLELISM_THREADS": "1"}


async def test_only_the_forms_validation_actions_get_the_domain(tmp_path, domain):
    # endpoints.yml's enable_selective_domain: Rasa otherwise serialises the whole
    # domain into every action call
    from rasa.core.actions.action import RemoteAction
    from rasa.core.channels import CollectingOutputChannel
    from rasa.core.nlg import TemplatedNaturalLanguageGenerator
    from rasa.shared.core.trackers import DialogueStateTracker
    from rasa.utils.endpoints import read_endpoint_config

    from bot.serve import render_endpoints
    from bot.settings import PROJECT_ROOT, Settings

    bodies = {}

    async def webhook(request):
        body = await request.json()
        bodies[body["next_action"]] = body
        return web.json_response({"events": [], "responses": []})

    app = web.Application()
    app.router.add_post("/webhook", webhook)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    port = runner.addresses[0][1]
    try:
        settings = Settings.from_env({"ACTIONS_PORT": str(port), "ACTIONS_TOKEN": "t" * 32})
        endpoint = read_endpoint_config(str(render_endpoints(settings, PROJECT_ROOT / "endpoints.yml")), "action_endpoint")
        tracker = DialogueStateTracker("s1", domain.slots)
        for name in ("action_offer_resume", "action_check_fallback", "validate_journey_form", "validate_handoff_form"):
            await RemoteAction(name, endpoint).run(
                CollectingOutputChannel(), TemplatedNaturalLanguageGenerator(domain.responses), tracker, domain
            )
    finally:
        await rasa_server.close_sessions()
        await runner.cleanup()
    assert "domain" not in bodies["action_offer_resume"] and "domain" not in bodies["action_check_fallback"]
    assert bodies["validate_journey_form"]["domain"]["forms"] and bodies["validate_handoff_form"]["domain"]["forms"]


EVENT_TYPES = ["user", "action", "slot", "active_loop", "bot", "followup", "reminder", "session_started", "nope", None, 3]
VALUES = [None, "x", "", 0, 1.5, True, [], ["a"], {}, {"name": "a"}, {"text": "t", "intent": {"name": "greet"}}]
FIELDS = ["name", "value", "text", "timestamp", "metadata", "parse_data", "policy", "confidence", "intent", "date_time", "entities"]


def _results():
    from hypothesis import strategies as st

    event = st.builds(
        lambda kind, extra: {**({"event": kind} if kind != "missing" else {}), **extra},
        st.sampled_from(EVENT_TYPES + ["missing"]),
        st.dictionaries(st.sampled_from(FIELDS), st.sampled_from(VALUES), max_size=4),
    )
    return st.fixed_dictionaries(
        {},
        optional={
            "events": st.one_of(st.lists(event, max_size=4), st.sampled_from(VALUES)),
            "responses": st.one_of(st.lists(st.sampled_from(VALUES), max_size=3), st.sampled_from(VALUES)),
        },
    )


def test_the_per_event_check_accepts_only_what_the_full_schema_accepts():
    from hypothesis import given, settings
    from rasa.core.actions.action import RemoteAction

    validator = rasa_server.EventsValidator(RemoteAction.action_response_format_spec())
    seen = {"fast": 0}

    @settings(max_examples=400, deadline=None)
    @given(_results())
    def check(result):
        if validator.is_valid(result):
            seen["fast"] += 1
            assert validator.full.is_valid(result), result

    check()
    typical = {
        "events": [{"event": "slot", "name": "journey_input", "value": None}, {"event": "active_loop", "name": None}],
        "responses": [{"text": "Dạ", "buttons": [{"title": "Tiếp", "payload": "/journey_resume"}]}],
    }
    assert validator.is_valid(typical) and validator.is_valid({"events": [], "responses": []})
    assert seen["fast"] > 0  # the generated cases reach the short cut, not only the fallback


@pytest.mark.parametrize("text", [
    '/start_journey{"journey_name":"pay_bill"}', "Dạ, {bill_type} ạ", "không có gì", "{{literal}} {bill_type}",
    "{không_phải_slot} và {bill_type}", "{a]b}",
])
def test_responses_are_filled_as_rasa_fills_them_without_false_errors(text, caplog, capsys):
    import logging

    from rasa.core.nlg import interpolator

    values = {"bill_type": "điện"}
    assert interpolator.interpolate_text(text, values) == interpolator.interpolate_text.rasa_original(text, values)
    capsys.readouterr()
    caplog.set_level(logging.DEBUG)
    interpolator.interpolate(
        {"text": "Dạ", "buttons": [{"title": "Bắt đầu", "payload": '/start_journey{"journey_name":"pay_bill"}'}]}, values)
    assert "interpolator.interpolate.text" not in caplog.text + capsys.readouterr().out

async def run_failing_actions(names, domain_actions=None):
    """Run custom actions through Rasa's MessageProcessor._run_action (patched) against an
    action endpoint nobody listens on; what the resident was sent."""
    from rasa.core.actions.action import RemoteAction
    from rasa.core.channels.channel import CollectingOutputChannel
    from rasa.core.nlg import TemplatedNaturalLanguageGenerator
    from rasa.core.policies.policy import PolicyPrediction
    from rasa.core.processor import MessageProcessor
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker
    from rasa.utils.endpoints import EndpointConfig
    from tests.ports import free_port

    domain = Domain.from_dict({"actions": list(names)})
    processor = object.__new__(MessageProcessor)  # no model: _run_action needs the domain only
    processor.domain = domain
    tracker = DialogueStateTracker.from_events("s1", [UserUttered("tiep tuc")], domain.slots)
    output = CollectingOutputChannel()
    endpoint = EndpointConfig(f"http://127.0.0.1:{free_port()}/webhook")
    for name in names:
        prediction = PolicyPrediction.for_action_name(domain, name, "a policy")
        await processor._run_action(
            RemoteAction(name, endpoint), tracker, output, TemplatedNaturalLanguageGenerator({}), prediction
        )
    await rasa_server.close_sessions()
    return output.messages, tracker


async def test_an_action_server_down_gets_the_resident_a_polite_try_again():
    from bot.prompts import section

    messages, tracker = await run_failing_actions(["action_no_journey_open", "action_offer_resume"])
    say = section("channels")
    # once per message, however many actions failed, with the button to a person
    assert [m["text"] for m in messages] == [say["try_again"]]
    assert messages[0]["buttons"] == [{"title": say["human_button"], "payload": "/request_human"}]
    assert len(messages[0]["text"]) <= 220
    # the failed actions are still on the tracker, so the conversation goes on
    assert [e.action_name for e in tracker.events if e.type_name == "action"] == [
        "action_no_journey_open", "action_offer_resume",
    ]


async def test_a_connection_closed_by_the_server_is_tried_once_more_on_a_new_one():
    """The action server closing a kept-open connection as a request goes out ("Server
    disconnected"): the request is sent again on a new connection, once."""
    from rasa.utils.endpoints import EndpointConfig

    connections = []

    async def handle(reader, writer):
        connections.append(writer.get_extra_info("peername"))
        await reader.readuntil(b"\r\n\r\n")
        if len(connections) == 1:  # the first connection dies without an answer
            writer.close()
            return
        body = b'{"events": [], "responses": []}'
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
                     + str(len(body)).encode() + b"\r\n\r\n" + body)
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        answer = await EndpointConfig(f"http://127.0.0.1:{port}/webhook").request(json={"next_action": "x"})
    finally:
        await rasa_server.close_sessions()
        server.close()
        await server.wait_closed()
    assert answer == {"events": [], "responses": []} and len(connections) == 2


async def test_a_refused_connection_is_not_retried():
    import aiohttp
    from rasa.utils.endpoints import EndpointConfig
    from tests.ports import free_port

    with pytest.raises(aiohttp.ClientConnectorError):
        await EndpointConfig(f"http://127.0.0.1:{free_port()}/webhook").request(json={})
    await rasa_server.close_sessions()
