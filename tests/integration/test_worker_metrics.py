"""WORKER_METRICS_PORT > 0: workers get Dramatiq's exporter; every other process still starts."""

import falcon.testing
from dramatiq.middleware.prometheus import Prometheus

from api.app import create_app
from tests.conftest import make_settings
from worker.broker import build_broker
from worker.metrics_exporter import serve_worker_metrics


def _exporters(broker):
    return [middleware for middleware in broker.middleware if isinstance(middleware, Prometheus)]


def test_a_worker_broker_gets_the_exporter(settings):
    with_port = make_settings(settings.database_url, settings.redis_url, worker_metrics_port=19391)
    (exporter,) = _exporters(build_broker(with_port, metrics_exporter=True))  # as setup_broker builds it
    # The dramatiq CLI forks this function by its path; the port is read there, from settings.
    assert exporter.forks == [serve_worker_metrics]
    without = make_settings(settings.database_url, settings.redis_url)
    assert _exporters(build_broker(without, metrics_exporter=True)) == []


def test_enqueue_only_processes_start_and_carry_no_exporter(settings, engine):
    with_port = make_settings(settings.database_url, settings.redis_url, worker_metrics_port=19392)
    assert _exporters(build_broker(with_port)) == []  # the scheduler's and the CLI's
    client = falcon.testing.TestClient(create_app(with_port, engine=engine))  # the web process's
    assert client.simulate_get("/health").status_code == 200
