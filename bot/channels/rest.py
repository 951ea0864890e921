"""The REST channel (`POST /webhooks/rest/webhook`), Rasa's, with its input checked.

Rasa's own REST channel takes any `sender`, `input_channel` and `metadata` from
the body, so a caller could speak as `telegram:<id>` or `zalo:<id>` (skipping
the hand-off relay and the 5,000-character limit) or claim to be another
channel. This one refuses before Rasa sees anything:
- a sender that is not 1-64 characters of letters, digits, `_` and `-` (the
  other channels' conversation ids are `<channel>:<id>`, so the two can never
  meet) -> 400;
- a message that is not text -> 400, or longer than MAX_INPUT_CHARS -> 413;
and the conversation is always the `rest` channel's, with no caller metadata
but one flag that can only restrict the caller: `{"handoff_capped": true}`,
which the web app sets when the client address has opened its hand-off
tickets for the hour (bot/web/limits.py).
"""
from __future__ import annotations

import json
import logging
import re
from asyncio import CancelledError
from typing import Any, Awaitable, Callable, Dict, Optional, Text

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.rest import RestInput as RasaRestInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from rasa.utils.endpoints import bool_arg

from bot.channels.common import MAX_INPUT_CHARS, channel_prompts
from bot.handoff.relay import HANDOFF_CAPPED
from bot.log_safety import protect_logs

logger = logging.getLogger(__name__)

SENDER_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,64}$")

protect_logs()  # the Rasa server's logging is set up by the time it loads its channels


def refusal(data: Any) -> Optional[HTTPResponse]:
    """The answer to a body the channel does not take, or None when it is fine."""
    if not isinstance(data, dict):
        return response.json({"error": "expected a JSON object"}, status=400)
    sender, message = data.get("sender"), data.get("message")
    if not isinstance(sender, str) or not SENDER_PATTERN.match(sender):
        return response.json({"error": "sender must be 1-64 letters, digits, '_' or '-'"}, status=400)
    if not isinstance(message, str):
        return response.json({"error": "message must be text"}, status=400)
    if len(message) > MAX_INPUT_CHARS:
        return response.json(
            {"error": f"message longer than {MAX_INPUT_CHARS} characters", "text": channel_prompts()["too_long"]},
            status=413,
        )
    return None


def allowed_metadata(data: Dict[str, Any]) -> Optional[Dict[str, Any]]:
    """The only caller metadata kept: the web app's hand-off cap (it can only take a right away)."""
    metadata = data.get("metadata")
    if isinstance(metadata, dict) and metadata.get(HANDOFF_CAPPED) is True:
        return {HANDOFF_CAPPED: True}
    return None


class RestInput(RasaRestInput):
    @classmethod
    def name(cls) -> Text:
        return "rest"

    def _extract_input_channel(self, req: Request) -> Text:
        return self.name()

    def get_metadata(self, request: Request) -> Optional[Dict[Text, Any]]:
        return None

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[None]]) -> Blueprint:
        checked = Blueprint("checked_rest", __name__)

        @checked.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @checked.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> Any:
            try:
                data = json.loads(request.body or b"")
            except (ValueError, UnicodeDecodeError):
                return response.json({"error": "malformed JSON"}, status=400)
            refused = refusal(data)
            if refused is not None:
                return refused
            sender, text = data["sender"], data["message"]
            metadata = allowed_metadata(data)
            if bool_arg(request, "stream", default=False):
                return response.stream(
                    self.stream_response(on_new_message, text, sender, self.name(), metadata),
                    content_type="text/event-stream",
                )
            collector = CollectingOutputChannel()
            try:
                await on_new_message(UserMessage(text, collector, sender, input_channel=self.name(), metadata=metadata))
            except CancelledError:
                logger.error("rest: handling a message timed out")
            except Exception as error:  # noqa: BLE001 - the message text stays out of the log
                logger.error("rest: handling a message failed with %s", type(error).__name__)
            return response.json(collector.messages)

        return checked
