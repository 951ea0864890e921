"""Which engines the Rasa servers share, from REDIS_URL and RABBITMQ_URL.

Unset, endpoints.yml stays as it is (in-memory state, in-process question
log). REDIS_URL swaps in the Redis tracker and lock stores, RABBITMQ_URL the
RabbitMQ event broker whose queue `python -m bot questionlog-consumer` reads.
"""
from __future__ import annotations

from typing import Any, Dict, Mapping, Optional

import yaml

QUEUE_NAME = "trolyso_question_log"


def redis_url(env: Mapping[str, str]) -> Optional[str]:
    return env.get("REDIS_URL", "").strip() or None


def rabbitmq_url(env: Mapping[str, str]) -> Optional[str]:
    return env.get("RABBITMQ_URL", "").strip() or None


def question_log_queue(env: Mapping[str, str]) -> str:
    return env.get("QUESTION_LOG_QUEUE", "").strip() or QUEUE_NAME


def shared_endpoints(endpoints: Dict[str, Any], env: Mapping[str, str]) -> Dict[str, Any]:
    """endpoints (parsed endpoints.yml) with the shared engines the variables ask for."""
    result = dict(endpoints)
    redis = redis_url(env)
    if redis:
        prefix = env.get("REDIS_KEY_PREFIX", "").strip()
        extra = {"key_prefix": prefix} if prefix else {}
        result["tracker_store"] = {"type": "bot.tracker_store.SessionRedisTrackerStore", "url": redis, **extra}
        result["lock_store"] = {"type": "bot.tracker_store.SharedRedisLockStore", "url": redis, **extra}
    rabbit = rabbitmq_url(env)
    if rabbit:
        result["event_broker"] = {
            "type": "bot.questionlog.broker.MaskingPikaBroker",
            "url": rabbit,
            "queues": [question_log_queue(env)],
        }
    return result


def render(text: str, env: Mapping[str, str]) -> str:
    """endpoints.yml text, with the shared engines when the variables ask for them."""
    if not (redis_url(env) or rabbitmq_url(env)):
        return text
    data = yaml.safe_load(text) or {}
    return yaml.safe_dump(shared_endpoints(data, env), allow_unicode=True, sort_keys=False)
