"""`python -m bot.rasa_server run ...`: Rasa's own command line, tuned for this
assistant. `python -m bot serve` starts the Rasa server this way.

Two costs that bench/speed.py's profile showed on every custom action call
(action server round trip) are removed here, for the pinned Rasa 3.6.21 only:

- Rasa's ``EndpointConfig.request`` opens a new aiohttp session, and so a new
  TCP connection, for every request; here one session per event loop and
  endpoint configuration is kept open (same headers, auth and timeout).
- ``RemoteAction._validate_action_result`` calls ``jsonschema.validate``,
  which re-checks the (constant) schema against its metaschema every time;
  here the validator is built once and validates each response as before.

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
            session = endpoint.session()
            self._sessions[key] = session
        return session

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


def apply() -> None:
    import rasa

    if rasa.__version__ != RASA_VERSION:  # the patches copy code of this version
        raise RuntimeError(f"bot/rasa_server.py is written for Rasa {RASA_VERSION}, not {rasa.__version__}")
    patch_endpoint_requests()
    patch_action_result_validation()


def main(argv: Optional[list] = None) -> None:
    tune_environment()
    apply()
    from rasa.__main__ import main as rasa_main

    sys.argv = ["rasa", *(sys.argv[1:] if argv is None else argv)]
    rasa_main()


if __name__ == "__main__":
    main()
