"""Which broker this pytest run uses: TEST_BROKER=rabbitmq runs the `broker` tests on RabbitMQ.

`make test` runs every test on Redis, then the tests marked `broker` again with
TEST_BROKER=rabbitmq. Each set of settings gets its own queue-name prefix (RabbitMQ's stand-in
for REDIS_NAMESPACE), and its queues expire once unused, so parallel runs and reruns never share
a queue and leave nothing behind.
"""

from __future__ import annotations

import os
from typing import Any
from urllib.parse import urlparse

RABBITMQ_URL = os.environ.get("TEST_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672/%2F")
QUEUE_EXPIRES_SECONDS = 900  # longer than any test, shorter than a day of reruns


def on_rabbitmq() -> bool:
    return os.environ.get("TEST_BROKER", "redis") == "rabbitmq"


def rabbitmq_unreachable() -> str | None:
    """Why RabbitMQ cannot be used (None: it answers an AMQP handshake)."""
    try:
        import pika

        pika.BlockingConnection(pika.URLParameters(RABBITMQ_URL)).close()
    except Exception as error:  # pika raises many kinds; any of them means no RabbitMQ
        where = urlparse(RABBITMQ_URL)
        return f"RabbitMQ at {where.hostname}:{where.port or 5672} does not answer ({type(error).__name__})"
    return None


def broker_settings(namespace: str) -> dict[str, Any]:
    """The settings that put a test's broker on RabbitMQ under `namespace` (none on Redis)."""
    if not on_rabbitmq():
        return {}
    return {
        "broker_url": RABBITMQ_URL,
        "broker_queue_prefix": f"{namespace}.",
        "broker_queue_expires_seconds": QUEUE_EXPIRES_SECONDS,
        "broker_queue_type": os.environ.get("TEST_BROKER_QUEUE_TYPE", "classic"),
    }
