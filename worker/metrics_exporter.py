"""Dramatiq's Prometheus middleware, its exposition server on WORKER_METRICS_PORT.

Dramatiq's own exporter takes its port from `dramatiq_prom_port` when its module is
first imported. The dramatiq CLI runs the exposition server in a process forked from
its main process, which never imports our broker module, so an environment variable
set there would never reach it. Our fork entry reads the port from settings itself.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from dramatiq.middleware import prometheus

from core.settings import load_settings


class WorkerMetrics(prometheus.Prometheus):
    """The stock middleware (counters per queue and actor), with our exposition-server fork."""

    @property
    def forks(self) -> list[Callable[[], Any]]:
        return [serve_worker_metrics]


def serve_worker_metrics() -> int:
    """Entry point of the process the dramatiq CLI forks (`worker.metrics_exporter:serve_worker_metrics`)."""
    port = load_settings().worker_metrics_port
    prometheus.HTTP_PORT = port  # read by the exposition server when it binds
    return int(prometheus._run_exposition_server())  # dramatiq's own server, on our port
