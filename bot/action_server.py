"""The action server (`python -m bot.action_server`): rasa_sdk's, hardened.

- It listens on ACTIONS_HOST (default 127.0.0.1), not on every interface.
- `/webhook` and `/actions` need the shared secret ACTIONS_TOKEN in the
  `X-Actions-Token` header (the Rasa server sends it, see endpoints.yml);
  anything else gets 403 before the body is read. `/health` stays open.
- An action that fails never reaches rasa_sdk's 500 answer, which echoes the
  whole tracker (every message of the conversation) back to the Rasa server and
  into its log: the failure is logged as the exception's type and a keyed hash
  of the sender, and the resident gets a polite answer with the way to a person.

`python -m bot serve` starts it; the token is generated once under var/ when
ACTIONS_TOKEN is unset (`resolve_token`), so a second machine can be given the
same value.
"""
from __future__ import annotations

import asyncio
import hmac
import json
import logging
import os
import secrets
import zlib
from pathlib import Path
from typing import Any, Dict, Mapping, Optional

from rasa_sdk import utils as sdk_utils
from rasa_sdk.executor import ActionExecutor
from rasa_sdk.interfaces import ActionExecutionRejection, ActionNotFoundException
from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.answers.addressing import address_responses
from bot.log_safety import hashed, protect_logs
from bot.prompts import section
from bot.settings import VAR_DIR

logger = logging.getLogger(__name__)

TOKEN_HEADER = "X-Actions-Token"
TOKEN_FILE = VAR_DIR / "actions-token"
DEFAULT_HOST = "127.0.0.1"
# A tracker of one long session is well under this; Sanic's default is 100 MB.
MAX_BODY_BYTES = 16 * 1024 * 1024
OPEN_PATHS = {"/health"}


def resolve_token(env: Optional[Mapping[str, str]] = None, token_file: Path = TOKEN_FILE) -> str:
    """ACTIONS_TOKEN, or the one kept in var/actions-token (made once, mode 0600)."""
    env = os.environ if env is None else env
    configured = env.get("ACTIONS_TOKEN", "").strip()
    if configured:
        return configured
    if token_file.exists():
        return token_file.read_text(encoding="utf-8").strip()
    token_file.parent.mkdir(parents=True, exist_ok=True)
    token = secrets.token_urlsafe(32)
    try:
        with open(token_file, "x", encoding="utf-8") as out:  # another process may have made it meanwhile
            os.chmod(token_file, 0o600)
            out.write(token)
    except FileExistsError:
        return token_file.read_text(encoding="utf-8").strip()
    return token


def failure_answer(action_call: Dict[str, Any]) -> Dict[str, Any]:
    """What the resident gets when an action fails: an apology and a way to a person."""
    texts = section("actions")
    return {
        "events": [],
        "responses": [
            {
                "text": texts["failed"],
                "buttons": [{"title": texts["to_person"], "payload": "/request_human"}],
            }
        ],
    }


def _action_call(request: Request) -> Any:
    if request.headers.get("Content-Encoding") == "deflate":
        return json.loads(zlib.decompress(request.body))
    return json.loads(request.body or b"null")


def create_app(action_package: str, token: str) -> Sanic:
    app = Sanic("actions", configure_logging=False)
    app.config.REQUEST_MAX_SIZE = MAX_BODY_BYTES
    executor = ActionExecutor()
    executor.register_package(action_package)
    expected = token.encode("utf-8")

    @app.on_request
    async def require_token(request: Request) -> Optional[HTTPResponse]:
        if request.path in OPEN_PATHS:
            return None
        given = request.headers.get(TOKEN_HEADER, "").encode("utf-8")
        if not expected or not hmac.compare_digest(given, expected):
            logger.warning("actions: refused a request without the right %s header", TOKEN_HEADER)
            return response.json({"error": "forbidden"}, status=403)
        return None

    @app.before_server_start
    async def read_answers(_app: Sanic, _loop: Any = None) -> None:
        """Seed/sync and read the published answers at start, not during a resident's first message."""
        from bot.answers import live

        await asyncio.get_running_loop().run_in_executor(None, live.snapshot)

    @app.get("/health")
    async def health(_: Request) -> HTTPResponse:
        return response.json({"status": "ok"})

    @app.get("/actions")
    async def actions(_: Request) -> HTTPResponse:
        return response.json([{"name": name} for name in executor.actions])

    @app.post("/webhook")
    async def webhook(request: Request) -> HTTPResponse:
        try:
            action_call = _action_call(request)
        except (ValueError, zlib.error):
            action_call = None
        if not isinstance(action_call, dict) or not isinstance(action_call.get("tracker"), dict):
            return response.json({"error": "Invalid body request"}, status=400)
        sdk_utils.check_version_compatibility(action_call.get("version"))
        try:
            result = await executor.run(action_call)
        except ActionExecutionRejection as error:
            return response.json({"error": error.message, "action_name": error.action_name}, status=400)
        except ActionNotFoundException as error:
            logger.error("actions: %s", error.message)
            return response.json({"error": error.message, "action_name": error.action_name}, status=404)
        except Exception as error:  # noqa: BLE001 - every failure gets the same polite answer
            logger.error(
                "actions: %s failed with %s (sender %s)",
                str(action_call.get("next_action"))[:64], type(error).__name__,
                hashed(action_call["tracker"].get("sender_id")),
            )
            return response.json(failure_answer(action_call))
        # texts in the resident's own form of address ("bác", "cô", ...; bot/answers/addressing.py)
        return response.json(address_responses(result or {}, action_call["tracker"].get("slots") or {}))

    @app.exception(Exception)
    async def on_error(request: Request, exception: Exception) -> HTTPResponse:
        status = getattr(exception, "status_code", 500) or 500
        if status >= 500:
            logger.error("actions: %s on %s", type(exception).__name__, request.path)
        return response.json({"error": type(exception).__name__}, status=status)

    return app


def main() -> None:
    level = os.environ.get("LOG_LEVEL", "INFO")
    sdk_utils.configure_colored_logging(level)
    sdk_utils.update_sanic_log_level()
    protect_logs()
    host = os.environ.get("ACTIONS_HOST", "").strip() or DEFAULT_HOST
    port = int(os.environ.get("ACTIONS_PORT", "5055"))
    app = create_app("actions", resolve_token())
    logger.info("Action server on http://%s:%s", host, port)
    app.run(host, port, workers=sdk_utils.number_of_sanic_workers(), access_log=False)


if __name__ == "__main__":
    main()
