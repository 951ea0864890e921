"""`python -m bot.nlu_server`: the model's NLU in a process of its own.

One Rasa server runs on one core (one event loop). Understanding a message
(normaliser, featurisers, DIET) was a third of its time per message
(bench/speed.py's profile), so `serve` runs the NLU part of the same model in
this second process, on the machine's other core, and the Rasa server asks it
over a kept-open loopback connection (bot/rasa_server.py, NLU_URL). When this
process is down or slow, the Rasa server parses in process instead, so it can
never cost an answer; `serve` restarts it.

POST /parse {"text": ..., "message_id": ...} with the header X-NLU-Token
(NLU_TOKEN, shared with the Rasa server) -> Rasa's parse data. Binds to
127.0.0.1 (NLU_HOST to change). This module imports Rasa: it is a Rasa server
process, not one of the light ones.
"""
from __future__ import annotations

import argparse
import asyncio
import hmac
import logging
import os
from typing import Any, Dict, Optional

from aiohttp import web

logger = logging.getLogger(__name__)

TOKEN_HEADER = "X-NLU-Token"
MAX_BODY_BYTES = 64 * 1024  # a message is at most 5,000 characters (bot/channels/common.py)


def parse_with(agent: Any, text: str, sender_id: str = "nlu") -> Dict[str, Any]:
    """What `MessageProcessor.parse_message` computes with the model's graph."""
    from rasa.core.channels import UserMessage
    from rasa.shared.core.trackers import DialogueStateTracker

    processor = agent.processor
    message = UserMessage(text, sender_id=sender_id)
    return processor._parse_message_with_graph(message, DialogueStateTracker.from_events(sender_id, []))


def make_app(agent: Any, token: str) -> web.Application:
    parsed = {"messages": 0}

    async def parse(request: web.Request) -> web.Response:
        given = request.headers.get(TOKEN_HEADER, "")
        if not token or not hmac.compare_digest(given.encode(), token.encode()):
            return web.json_response({"error": "forbidden"}, status=403)
        try:
            body = await request.json()
        except (ValueError, UnicodeDecodeError):
            return web.json_response({"error": "malformed JSON"}, status=400)
        text = body.get("text") if isinstance(body, dict) else None
        if not isinstance(text, str):
            return web.json_response({"error": "text must be a string"}, status=400)
        result = parse_with(agent, text)
        parsed["messages"] += 1
        return web.json_response(result)

    async def health(_: web.Request) -> web.Response:
        return web.json_response({"status": "ok", "parsed": parsed["messages"]})

    app = web.Application(client_max_size=MAX_BODY_BYTES)
    app.router.add_post("/parse", parse)
    app.router.add_get("/health", health)
    return app


def load(model: str) -> Any:
    from rasa.core.agent import Agent

    return Agent.load(model)


def main(argv: Optional[list] = None) -> None:
    from bot.log_safety import protect_logs
    from bot.rasa_server import tune_environment

    parser = argparse.ArgumentParser(prog="python -m bot.nlu_server")
    parser.add_argument("--model", required=True)
    parser.add_argument("--port", type=int, default=int(os.environ.get("NLU_PORT", "5006")))
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    protect_logs()
    tune_environment()
    token = os.environ.get("NLU_TOKEN", "").strip()
    if not token:
        raise SystemExit("NLU_TOKEN is not set (python -m bot serve sets it)")
    agent = load(args.model)
    host = os.environ.get("NLU_HOST", "").strip() or "127.0.0.1"
    logger.info("NLU server on http://%s:%d", host, args.port)
    web.run_app(make_app(agent, token), host=host, port=args.port, access_log=None, print=None)


if __name__ == "__main__":
    main()
