"""Throw-away slices of the machine's Redis and RabbitMQ for tests.

Redis: a key prefix of its own, its keys deleted afterwards. RabbitMQ: a vhost
of its own (rabbitmqctl), deleted afterwards. TEST_REDIS_URL and
TEST_RABBITMQ_URL point elsewhere. Faults are made by processes the tests
start (tests/tcp_proxy.py, a redis-server of their own), never by stopping
these services.
"""
import os
import subprocess
import uuid
from contextlib import contextmanager
from urllib.parse import quote

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
RABBITMQ_BASE = os.environ.get("TEST_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672")


@contextmanager
def redis_prefix():
    """Yield (url, prefix); every key under the prefix is deleted afterwards."""
    import redis

    prefix = "t" + uuid.uuid4().hex[:12]
    yield REDIS_URL, prefix
    client = redis.Redis.from_url(REDIS_URL)
    keys = list(client.scan_iter(prefix + ":*", count=1000))
    if keys:
        client.delete(*keys)
    client.close()


@contextmanager
def rabbitmq_vhost():
    """Yield the amqp URL of a new vhost (guest has all rights); deleted afterwards."""
    name = "trolyso_test_" + uuid.uuid4().hex[:10]
    subprocess.run(["rabbitmqctl", "-q", "add_vhost", name], check=True, capture_output=True)
    subprocess.run(
        ["rabbitmqctl", "-q", "set_permissions", "-p", name, "guest", ".*", ".*", ".*"],
        check=True, capture_output=True,
    )
    try:
        yield f"{RABBITMQ_BASE}/{quote(name, safe='')}"
    finally:
        subprocess.run(["rabbitmqctl", "-q", "delete_vhost", name], capture_output=True)
