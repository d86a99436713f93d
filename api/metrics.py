"""Gauges read at scrape time: queue depth per queue, live reservations."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CollectorRegistry
from prometheus_client.core import GaugeMetricFamily, Metric

from api.deps import Deps
from core.logging import get_logger
from db.engine import transaction
from db.queries.stock import live_reserved_total
from jobs.catalog import queues

log = get_logger("backroom.api.metrics")


class BackroomCollector:
    """A custom collector so gauges are fresh at every scrape and never stale per process."""

    def __init__(self, deps: Deps) -> None:
        self.deps = deps
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(self)

    def collect(self) -> Iterator[Metric]:
        depth = GaugeMetricFamily(
            "backroom_queue_depth", "Messages waiting per queue", labels=["queue", "kind"]
        )
        namespace = self.deps.settings.redis_namespace
        try:
            for queue in queues():
                depth.add_metric([queue, "ready"], self.deps.redis.llen(f"{namespace}:{queue}"))
                depth.add_metric([queue, "delayed"], self.deps.redis.llen(f"{namespace}:{queue}.DQ"))
        except Exception as error:
            log.warning("metrics.redis_unavailable", error=str(error))
        yield depth
        reserved = GaugeMetricFamily("backroom_reserved_units", "Units held by live reservations")
        try:
            with transaction(self.deps.engine) as session:
                reserved.add_metric([], live_reserved_total(session, self.deps.now()))
        except Exception as error:
            log.warning("metrics.postgres_unavailable", error=str(error))
        yield reserved
