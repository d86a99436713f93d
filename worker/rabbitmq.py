"""Dramatiq's RabbitmqBroker with durable (classic or quorum) queues under an optional name prefix.

Dramatiq declares three durable queues per queue name: `<q>`, its delay queue `<q>.DQ` and its
dead-letter queue `<q>.XQ` (the first two dead-letter into the third). This subclass changes only
the AMQP side of that: every name gets BROKER_QUEUE_PREFIX in front (RabbitMQ has no namespace
inside a vhost; tests and deployments sharing one vhost keep apart this way), and with
BROKER_QUEUE_TYPE=quorum each queue is declared with `x-queue-type: quorum` when the server is
3.10 or newer. Messages keep their plain queue names, so actors, retries and the ledger see no
difference.
"""

from __future__ import annotations

from typing import Any

import dramatiq
import pika
from dramatiq.brokers.rabbitmq import DEAD_MESSAGE_TTL, RabbitmqBroker, _RabbitmqConsumer
from dramatiq.common import xq_name

from core.logging import get_logger
from worker.hook_dispatch import HookDispatch

log = get_logger("backroom.worker.rabbitmq")
# Quorum queues came in 3.8, but the dead-letter queue is declared with x-message-ttl, which they
# accept only from 3.10 (rabbitmq-server #3555): before that every declaration would fail.
QUORUM_SINCE = (3, 10)


def server_version(connection: pika.BlockingConnection) -> tuple[int, ...]:
    """The RabbitMQ version the connection's server announced (0 when it announced none)."""
    properties = connection._impl.server_properties or {}
    raw = properties.get("version", b"0")
    text = raw.decode() if isinstance(raw, bytes) else str(raw)
    return tuple(int(part) for part in text.split(".") if part.isdigit()) or (0,)


class _PrefixedChannel:
    """A channel whose queue names and routing keys get the broker's prefix on the way out."""

    def __init__(self, channel: Any, prefix: str) -> None:
        self._channel, self._prefix = channel, prefix

    def queue_declare(self, queue: str, **kwargs: Any) -> Any:
        return self._channel.queue_declare(queue=self._prefix + queue, **kwargs)

    def queue_purge(self, queue: str) -> Any:
        return self._channel.queue_purge(self._prefix + queue)

    def basic_get(self, queue: str, **kwargs: Any) -> Any:
        return self._channel.basic_get(self._prefix + queue, **kwargs)

    def basic_publish(self, exchange: str, routing_key: str, body: bytes, **kwargs: Any) -> Any:
        return self._channel.basic_publish(exchange, self._prefix + routing_key, body, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._channel, name)


class _PrefixedConsumer(_RabbitmqConsumer):
    def __init__(self, broker: BackroomRabbitmqBroker, queue_name: str, prefetch: int, timeout: int):
        super().__init__(broker, broker.prefix + queue_name, prefetch, timeout)
        self.queue_name = queue_name  # plain: a vanished queue is declared again by this name


class BackroomRabbitmqBroker(HookDispatch, RabbitmqBroker):
    """RabbitmqBroker with publisher confirms (an enqueue returns once RabbitMQ has the message),
    calling only the middleware hooks that do something (worker/hook_dispatch.py)."""

    def __init__(
        self,
        *,
        url: str,
        queue_type: str,
        prefix: str,
        middleware: list[dramatiq.Middleware],
        expires_ms: int = 0,
    ) -> None:
        super().__init__(url=url, middleware=middleware, confirm_delivery=True)
        self.queue_type, self.prefix, self.expires_ms = queue_type, prefix, expires_ms
        self._quorum: bool | None = None  # decided on the first declaration, from the server version

    @property
    def consumer_class(self) -> type[_RabbitmqConsumer]:
        return _PrefixedConsumer

    @property
    def channel(self) -> Any:
        return _PrefixedChannel(RabbitmqBroker.channel.fget(self), self.prefix)  # type: ignore[attr-defined]

    @channel.deleter
    def channel(self) -> None:
        RabbitmqBroker.channel.fdel(self)  # type: ignore[attr-defined]

    def quorum(self) -> bool:
        if self._quorum is None:
            wanted = self.queue_type == "quorum"
            version = server_version(self.connection) if wanted else (0,)
            self._quorum = wanted and version >= QUORUM_SINCE
            if wanted and not self._quorum:
                log.warning("broker.quorum_unsupported", server_version=".".join(map(str, version)))
        return self._quorum

    def _queue_type(self) -> dict[str, Any]:
        """The arguments every queue shares: its type, and its expiry when one is set."""
        arguments: dict[str, Any] = {"x-queue-type": "quorum"} if self.quorum() else {}
        return arguments | ({"x-expires": self.expires_ms} if self.expires_ms else {})

    def _build_queue_arguments(self, queue_name: str) -> dict[str, Any]:
        arguments: dict[str, Any] = super()._build_queue_arguments(queue_name)
        arguments["x-dead-letter-routing-key"] = self.prefix + xq_name(queue_name)
        return arguments | self._queue_type()

    def _declare_xq_queue(self, queue_name: str) -> Any:
        arguments = {"x-message-ttl": DEAD_MESSAGE_TTL} | self._queue_type()
        return self.channel.queue_declare(queue=xq_name(queue_name), durable=True, arguments=arguments)
