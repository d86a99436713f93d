"""Gauges read at scrape time: queue depth and age, live reservations, dead letters, replays, and
each recurring job's last success and whether it is overdue."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CollectorRegistry
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from api.deps import Deps
from core.catalog import queues
from core.logging import get_logger
from core.schedule_table import schedule_table
from db.engine import transaction
from db.queries import dead_letters
from db.queries.products import live_reserved_total
from services.health import ScheduleHealth
from worker.queue_stats import queue_stats

log = get_logger("backroom.api.metrics")


class BackroomCollector:
    """A custom collector so gauges are fresh at every scrape and never stale per process."""

    def __init__(self, deps: Deps) -> None:
        self.deps = deps
        self.schedules = ScheduleHealth(deps.units, deps.now, schedule_table(deps.settings))
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(self)

    def collect(self) -> Iterator[Metric]:
        depth = GaugeMetricFamily("backroom_queue_depth", "Messages per queue", labels=["queue", "kind"])
        age = GaugeMetricFamily(
            "backroom_queue_oldest_age_seconds", "Age of the oldest waiting message", labels=["queue"]
        )
        try:
            for stats in queue_stats(self.deps.broker, queues()):
                for kind in ("ready", "delayed", "in_flight"):
                    if getattr(stats, kind) is not None:  # None: the broker cannot tell (RabbitMQ)
                        depth.add_metric([stats.queue, kind], getattr(stats, kind))
                # 0 when empty, where the broker can tell ages at all: on RabbitMQ (no in-flight
                # count either) it is left out for every queue, so an age alert is never fed a 0
                # that only means "empty" while the backlog's age goes unreported.
                tells_age = stats.in_flight is not None
                if stats.oldest_age_seconds is not None or (tells_age and not stats.ready):
                    age.add_metric([stats.queue], stats.oldest_age_seconds or 0.0)
        except Exception as error:
            log.warning("metrics.broker_unavailable", error=str(error))
        yield depth
        yield age
        reserved = GaugeMetricFamily("backroom_reserved_units", "Units held by live reservations")
        dead = GaugeMetricFamily("backroom_dead_letters", "Dead letters not yet replayed", labels=["actor"])
        replays = CounterMetricFamily("backroom_dead_letter_replays", "Dead-letter replays so far")
        try:
            with transaction(self.deps.engine) as session:
                reserved.add_metric([], live_reserved_total(session, self.deps.now()))
                totals = dead_letters.totals(session)
            for actor, count in totals["dead_by_actor"].items():
                dead.add_metric([actor], count)
            replays.add_metric([], totals["replays"])
        except Exception as error:
            log.warning("metrics.postgres_unavailable", error=str(error))
        yield reserved
        yield dead
        yield replays
        last_success = GaugeMetricFamily(
            "backroom_schedule_last_success_timestamp",
            "Unix time of the recurring job's last successful run; 0 when it never succeeded",
            labels=["job"],
        )
        overdue = GaugeMetricFamily(
            "backroom_schedule_overdue",
            "1 when the recurring job has not succeeded within its period plus its grace (not paused)",
            labels=["job"],
        )
        try:
            for health in self.schedules.status():
                stamp = health.last_success.timestamp() if health.last_success else 0.0
                last_success.add_metric([health.job], stamp)
                overdue.add_metric([health.job], 1.0 if health.overdue else 0.0)
        except Exception as error:
            log.warning("metrics.postgres_unavailable", error=str(error))
        yield last_success
        yield overdue
