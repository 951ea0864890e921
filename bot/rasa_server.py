"""`python -m bot.rasa_server run ...`: Rasa's own command line, tuned for this
assistant. `python -m bot serve` starts the Rasa server this way.

Two costs that bench/speed.py's profile showed on every custom action call
(action server round trip) are removed here, for the pinned Rasa 3.6.21 only:

- Rasa's ``EndpointConfig.request`` opens a new aiohttp session, and so a new
  TCP connection, for every request; here one session per event loop and
  endpoint configuration is kept open (same headers, auth and timeout). Idle
  connections are dropped after KEEPALIVE_SECONDS, before the action server
  (Sanic, 5 s) closes them, and a request that meets a connection the server
  had just closed ("Can not write request body", "Server disconnected") is
  sent once more on a new one; a refused connection is not retried.
- ``RemoteAction._validate_action_result`` calls ``jsonschema.validate``,
  which re-checks the (constant) schema against its metaschema every time;
  here the validator is built once and validates each response as before.

With NLU_URL set (`serve` does it, bot/nlu_server.py), messages are parsed
by the NLU process on the other core over a kept-open connection; if it does
not answer within NLU_TIMEOUT_SECONDS the message is parsed here as before.

A custom action that cannot be run (the action server down or restarting, a
time-out, a 5xx) makes Rasa log the error and drop the action's events, and the
resident gets no reply at all; here the resident gets the polite "try again in
a moment" message (bot/prompts.yml ``channels.try_again``, with the button to a
person) instead, once per message however many actions fail in that turn.

TensorFlow (DIET) gets small thread pools unless the operator sets
``TF_INTRA_OP_PARALLELISM_THREADS`` / ``TF_INTER_OP_PARALLELISM_THREADS``:
one message is a tiny batch, and on a 2-core machine the Rasa server shares
the cores with the action server and the web app.
"""
from __future__ import annotations

import asyncio
import os
import sys
from typing import Any, Dict, Optional, Text, Tuple

RASA_VERSION = "3.6.21"
KEEPALIVE_SECONDS = 2.0  # below Sanic's KEEP_ALIVE_TIMEOUT (5 s) of the action server
TF_THREADS = {"TF_INTRA_OP_PARALLELISM_THREADS": "1", "TF_INTER_OP_PARALLELISM_THREADS": "1"}


def tune_environment(env: Dict[str, str] = os.environ) -> None:  # noqa: B006
    for name, value in TF_THREADS.items():
        env.setdefault(name, value)


class _SessionPool:
    """One open aiohttp session per (event loop, headers, auth)."""

    def __init__(self) -> None:
        self._sessions: Dict[Tuple[int, Tuple, Tuple], Any] = {}

    def get(self, endpoint: Any) -> Any:
        loop = asyncio.get_running_loop()
        key = (id(loop), tuple(sorted((endpoint.headers or {}).items())),
               tuple(sorted((endpoint.basic_auth or {}).items())))
        session = self._sessions.get(key)
        if session is None or session.closed or getattr(session, "_loop", loop) is not loop:
            session = self._new_session(endpoint)
            self._sessions[key] = session
        return session

    @staticmethod
    def _new_session(endpoint: Any) -> Any:
        """As ``EndpointConfig.session()``, with idle connections dropped early."""
        import aiohttp
        from rasa.utils.endpoints import DEFAULT_REQUEST_TIMEOUT

        auth = None
        if endpoint.basic_auth:
            auth = aiohttp.BasicAuth(endpoint.basic_auth["username"], endpoint.basic_auth["password"])
        return aiohttp.ClientSession(
            headers=endpoint.headers, auth=auth,
            timeout=aiohttp.ClientTimeout(total=DEFAULT_REQUEST_TIMEOUT),
            connector=aiohttp.TCPConnector(keepalive_timeout=KEEPALIVE_SECONDS),
        )

    async def close(self) -> None:
        sessions, self._sessions = list(self._sessions.values()), {}
        for session in sessions:
            await session.close()


POOL = _SessionPool()


async def close_sessions() -> None:
    """Close the kept-open sessions (tests; the server keeps them until it exits)."""
    await POOL.close()


def patch_endpoint_requests() -> None:
    """``EndpointConfig.request`` with a kept-open session (otherwise unchanged)."""
    import ssl

    import aiohttp
    from aiohttp import ContentTypeError
    from rasa.utils import endpoints
    from rasa.utils.endpoints import ClientResponseError, concat_url

    pool = POOL

    async def request(
        self,  # noqa: ANN001
        method: Text = "post",
        subpath: Optional[Text] = None,
        content_type: Optional[Text] = "application/json",
        compress: bool = False,
        **kwargs: Any,
    ) -> Optional[Any]:
        headers = {}
        if content_type:
            headers["Content-Type"] = content_type
        if "headers" in kwargs:
            headers.update(kwargs.pop("headers"))
        if self.headers:
            headers.update(self.headers)
        sslcontext = ssl.create_default_context(cafile=self.cafile) if self.cafile else None
        session = pool.get(self)
        for attempt in (1, 2):
            try:
                async with session.request(
                    method,
                    concat_url(self.url, subpath),
                    headers=headers,
                    params=self.combine_parameters(kwargs),
                    compress=compress,
                    ssl=sslcontext,
                    **kwargs,
                ) as response:
                    if response.status >= 400:
                        raise ClientResponseError(response.status, response.reason, await response.content.read())
                    try:
                        return await response.json()
                    except ContentTypeError:
                        return None
            except aiohttp.ClientConnectorError:
                raise  # refused: the server is away, no use trying again now
            except (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError):
                if attempt == 2:
                    raise
        return None

    endpoints.EndpointConfig.request = request


class EventsValidator:
    """Rasa's action-response schema, checked per event against its own type only.

    The schema's event items are a ``oneOf`` of 23 sub-schemas told apart by
    the ``event`` constant, so jsonschema tries every event against all of them
    (5 % of the Rasa server's time in bench/speed.py's profile). An event that
    is valid against the base item schema and against the one sub-schema of its
    own ``event`` matches exactly one branch, so ``is_valid`` here implies the
    full schema's; anything it does not accept goes to the full validator,
    which gives Rasa's error.
    """

    def __init__(self, schema: Dict[Text, Any]) -> None:
        from jsonschema.validators import validator_for

        cls = validator_for(schema)
        self.full = cls(schema)
        items = schema["properties"]["events"]["items"]
        self._base = cls({k: v for k, v in items.items() if k != "oneOf"})
        self._by_event = {}
        for branch in items["oneOf"]:
            const = branch["properties"]["event"]["const"]
            if const in self._by_event:  # not told apart by the constant: no short cut
                self._by_event = {}
                break
            self._by_event[const] = cls(branch)
        self._responses = cls(schema["properties"]["responses"])

    def is_valid(self, result: Any) -> bool:
        if not self._by_event or not isinstance(result, dict):
            return False
        events = result.get("events", [])
        if not isinstance(events, list) or not self._responses.is_valid(result.get("responses", [])):
            return False
        for event in events:
            branch = self._by_event.get(event.get("event")) if isinstance(event, dict) else None
            if branch is None or not self._base.is_valid(event) or not branch.is_valid(event):
                return False
        return True


def patch_action_result_validation() -> None:
    """Validate action server responses with validators built once (EventsValidator)."""
    from jsonschema.exceptions import best_match
    from rasa.core.actions.action import RemoteAction
    from rasa.shared.constants import DOCS_BASE_URL

    validator = None

    def _validate_action_result(self, result: Dict[Text, Any]) -> bool:  # noqa: ANN001
        nonlocal validator
        if validator is None:
            validator = EventsValidator(self.action_response_format_spec())
        if validator.is_valid(result):
            return True
        error = best_match(validator.full.iter_errors(result))
        if error is None:
            return True
        error.message += (
            ". Failed to validate Action server response from API, make sure your response from the "
            f"Action endpoint is valid. For more information about the format visit {DOCS_BASE_URL}/custom-actions"
        )
        raise error

    RemoteAction._validate_action_result = _validate_action_result


def patch_interpolation() -> None:
    """Rasa fills ``{slot}`` placeholders in every string of a response, button
    payloads included, and a journey button's payload is JSON
    (``/start_journey{"journey_name":"pay_bill"}``): Rasa then logs an ERROR with
    a traceback (KeyError) and returns the string as it was, on most answers.
    Such strings are returned as they are without the false error."""
    import re

    from rasa.core.nlg import interpolator

    placeholder = re.compile(r"{([^\n{}]+?)}")
    original = interpolator.interpolate_text

    def interpolate_text(response: Text, values: Dict[Text, Text]) -> Text:
        names = placeholder.findall(response)
        if (names and "{{" not in response and "}}" not in response
                and not any(name in values or "[" in name or "]" in name for name in names)):
            return response  # what Rasa returns after its KeyError
        return original(response, values)

    interpolate_text.rasa_original = original  # type: ignore[attr-defined]
    if not hasattr(interpolator.interpolate_text, "rasa_original"):
        interpolator.interpolate_text = interpolate_text


NLU_TIMEOUT_SECONDS = 2.0
NLU_DOWN_SECONDS = 5.0  # after a failure, parse in process for this long before asking again


class RemoteNLU:
    """The NLU process (bot/nlu_server.py) as seen from the Rasa server: an
    endpoint asked through ``EndpointConfig.request`` (the kept-open POOL)."""

    def __init__(self, url: str, token: str, clock: Any = None) -> None:
        import time

        from rasa.utils.endpoints import EndpointConfig

        self.endpoint = EndpointConfig(url.rstrip("/"), headers={"X-NLU-Token": token})
        self._clock = clock or time.monotonic
        self._down_until = 0.0

    async def parse(self, text: str, message_id: Optional[str]) -> Optional[Dict[Text, Any]]:
        """Parse data, or None (down, slow, refused): the caller parses in process."""
        import logging

        import aiohttp

        if self._clock() < self._down_until:
            return None
        try:
            parsed = await self.endpoint.request(
                json={"text": text, "message_id": message_id}, subpath="parse",
                timeout=aiohttp.ClientTimeout(total=NLU_TIMEOUT_SECONDS, connect=1.0),
            )
            if isinstance(parsed, dict):
                return parsed
            problem = "no JSON"
        except Exception as error:  # refused, timed out, an HTTP error: parse here  # noqa: BLE001
            problem = type(error).__name__
        self._down_until = self._clock() + NLU_DOWN_SECONDS
        logging.getLogger(__name__).warning(
            "NLU process did not answer (%s): parsing in process for %.0f s", problem, NLU_DOWN_SECONDS)
        return None

    async def close(self) -> None:
        await close_sessions()


def patch_remote_nlu(env: Dict[str, str] = os.environ) -> Optional[RemoteNLU]:  # noqa: B006
    """MessageProcessor.parse_message asks the NLU process first (NLU_URL, NLU_TOKEN)."""
    url, token = env.get("NLU_URL", "").strip(), env.get("NLU_TOKEN", "").strip()
    if not url or not token:
        return None
    from rasa.core.processor import MessageProcessor
    from rasa.shared.core.trackers import DialogueStateTracker

    remote = RemoteNLU(url, token)

    async def parse_message(self, message, tracker=None, only_output_properties=True):  # noqa: ANN001, ANN202
        # Rasa 3.6.21's parse_message, with the NLU process in place of the graph when it answers
        parse_data = None
        if self.http_interpreter is None and only_output_properties:
            parse_data = await remote.parse(message.text, message.message_id)
        if parse_data is None:
            if self.http_interpreter:
                parse_data = await self.http_interpreter.parse(message)
            else:
                if tracker is None:
                    tracker = DialogueStateTracker.from_events(message.sender_id, [])
                parse_data = self._parse_message_with_graph(message, tracker, only_output_properties)
        self._update_full_retrieval_intent(parse_data)
        self._check_for_unseen_features(parse_data)
        return parse_data

    MessageProcessor.parse_message = parse_message
    return remote


def apology_messages() -> list:
    """The polite "try again" answer, as the message dicts of a bot utterance."""
    from bot.prompts import section

    say = section("channels")
    return [{"text": say["try_again"], "buttons": [{"title": say["human_button"], "payload": "/request_human"}]}]


def _apologised_this_turn(tracker: Any, text: str) -> bool:
    """Whether the apology was already uttered since the resident's last message."""
    from rasa.shared.core.events import BotUttered, UserUttered

    for event in reversed(tracker.events):
        if isinstance(event, UserUttered):
            return False
        if isinstance(event, BotUttered) and event.text == text:
            return True
    return False


def patch_action_failures() -> None:
    """An action that fails (not a rejection) answers the resident with the apology."""
    import logging

    from rasa.core.actions.action import ActionExecutionRejection, create_bot_utterance
    from rasa.core.processor import MessageProcessor

    logger = logging.getLogger("bot.rasa_server")
    original = MessageProcessor._run_action

    async def _run_action(self, action, tracker, output_channel, nlg, prediction):  # noqa: ANN001, ANN202
        run = action.run

        async def guarded(output_channel, nlg, temporary_tracker, domain):  # noqa: ANN001, ANN202
            try:
                return await run(output_channel, nlg, temporary_tracker, domain)
            except ActionExecutionRejection:
                raise
            except Exception:  # noqa: BLE001 - whatever failed, the resident gets an answer
                logger.exception("Action %s failed; the resident is asked to try again", action.name())
                messages = apology_messages()
                if _apologised_this_turn(tracker, messages[0]["text"]):
                    return []
                return [create_bot_utterance(dict(message)) for message in messages]

        action.run = guarded  # this action object only (Rasa makes one per prediction)
        try:
            return await original(self, action, tracker, output_channel, nlg, prediction)
        finally:
            del action.run

    MessageProcessor._run_action = _run_action


def apply() -> None:
    import rasa

    if rasa.__version__ != RASA_VERSION:  # the patches copy code of this version
        raise RuntimeError(f"bot/rasa_server.py is written for Rasa {RASA_VERSION}, not {rasa.__version__}")
    patch_endpoint_requests()
    patch_action_result_validation()
    patch_interpolation()
    patch_remote_nlu()
    patch_action_failures()


def main(argv: Optional[list] = None) -> None:
    tune_environment()
    apply()
    from rasa.__main__ import main as rasa_main

    sys.argv = ["rasa", *(sys.argv[1:] if argv is None else argv)]
    rasa_main()


if __name__ == "__main__":
    main()
