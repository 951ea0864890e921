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


def patch_action_result_validation() -> None:
    """Validate action server responses with a validator built once."""
    from jsonschema.exceptions import best_match
    from jsonschema.validators import validator_for
    from rasa.core.actions.action import RemoteAction
    from rasa.shared.constants import DOCS_BASE_URL

    validator = None

    def _validate_action_result(self, result: Dict[Text, Any]) -> bool:  # noqa: ANN001
        nonlocal validator
        if validator is None:
            schema = self.action_response_format_spec()
            validator = validator_for(schema)(schema)
        error = best_match(validator.iter_errors(result))
        if error is None:
            return True
        error.message += (
            ". Failed to validate Action server response from API, make sure your response from the "
            f"Action endpoint is valid. For more information about the format visit {DOCS_BASE_URL}/custom-actions"
        )
        raise error

    RemoteAction._validate_action_result = _validate_action_result


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
    patch_action_failures()


def main(argv: Optional[list] = None) -> None:
    tune_environment()
    apply()
    from rasa.__main__ import main as rasa_main

    sys.argv = ["rasa", *(sys.argv[1:] if argv is None else argv)]
    rasa_main()


if __name__ == "__main__":
    main()
