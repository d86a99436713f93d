"""BROKER_URL picks the broker: unset or redis:// is Redis, amqp:// is RabbitMQ. Nothing connects."""

import pytest
from dramatiq.brokers.redis import RedisBroker
from pydantic import ValidationError

from core.settings import Settings, describe_error
from worker.broker import build_broker
from worker.rabbitmq import BackroomRabbitmqBroker


def settings(**values):
    base = {"database_url": "postgresql://u@127.0.0.1/x", "redis_url": "redis://127.0.0.1:6379/2"}
    return Settings(_env_file=None, **(base | values))


def test_unset_keeps_the_redis_broker_on_redis_url():
    broker = build_broker(settings(redis_namespace="shop"))
    assert isinstance(broker, RedisBroker) and broker.namespace == "shop"
    assert broker.client.connection_pool.connection_kwargs["db"] == 2


def test_a_redis_broker_url_puts_the_broker_on_that_redis():
    broker = build_broker(settings(broker_url="redis://127.0.0.1:6379/5"))
    assert isinstance(broker, RedisBroker)
    assert broker.client.connection_pool.connection_kwargs["db"] == 5


def test_an_amqp_url_selects_rabbitmq_with_its_queue_type_and_prefix():
    chosen = settings(
        broker_url="amqp://guest:guest@rabbit.internal:5672/shop",
        broker_queue_type="quorum",
        broker_queue_prefix="eu.",
    )
    broker = build_broker(chosen)
    assert isinstance(broker, BackroomRabbitmqBroker) and chosen.broker_kind() == "rabbitmq"
    assert (broker.queue_type, broker.prefix, broker.confirm_delivery) == ("quorum", "eu.", True)
    assert broker.parameters.host == "rabbit.internal" and broker.parameters.virtual_host == "shop"


@pytest.mark.parametrize("url", ["http://rabbit:5672", "kafka://broker:9092"])
def test_any_other_scheme_is_refused_naming_the_variable(url):
    with pytest.raises(ValidationError) as error:
        settings(broker_url=url)
    assert describe_error(error.value).startswith("invalid setting BROKER_URL: must be a redis://")


def test_an_unknown_queue_type_is_refused():
    with pytest.raises(ValidationError) as error:
        settings(broker_url="amqp://localhost", broker_queue_type="stream")
    assert "BROKER_QUEUE_TYPE" in describe_error(error.value)
