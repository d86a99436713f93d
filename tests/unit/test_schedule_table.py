from datetime import UTC, datetime

from core.schedule_table import Schedule, schedule_table
from tests.unit.test_settings import settings


def test_slot_is_the_start_of_the_period():
    every_5 = Schedule("x", 300)
    assert every_5.slot(datetime(2026, 1, 1, 10, 7, 59, tzinfo=UTC)) == datetime(
        2026, 1, 1, 10, 5, tzinfo=UTC
    )
    assert every_5.slot(datetime(2026, 1, 1, 10, 5, 0, tzinfo=UTC)) == datetime(2026, 1, 1, 10, 5, tzinfo=UTC)


def test_two_late_schedulers_agree_on_the_slot():
    hourly = Schedule("x", 3600)
    a = hourly.slot(datetime(2026, 1, 1, 10, 0, 1, tzinfo=UTC))
    b = hourly.slot(datetime(2026, 1, 1, 10, 0, 40, tzinfo=UTC))
    assert a == b == datetime(2026, 1, 1, 10, 0, tzinfo=UTC)


def test_offset_moves_the_grid():
    daily_at_3 = Schedule("x", 86400, 3 * 3600)
    assert daily_at_3.slot(datetime(2026, 1, 2, 2, 0, tzinfo=UTC)) == datetime(2026, 1, 1, 3, 0, tzinfo=UTC)
    assert daily_at_3.anchor().hour == 3


def test_stock_cleanup_interval_comes_from_settings():
    table = {s.job: s for s in schedule_table(settings(stock_cleanup_interval_minutes=7))}
    assert table["stock-cleanup"].every_seconds == 420


def test_every_scheduled_job_is_in_the_catalog_and_every_actor_module_declares_it():
    import ast
    from pathlib import Path

    from core.catalog import EMAIL_ACTOR, JOBS, WEBHOOK_ACTOR
    from jobs import ACTOR_MODULES

    assert {s.job for s in schedule_table(settings())} <= set(JOBS)
    declared = set()
    for module in ACTOR_MODULES:
        tree = ast.parse(Path(module.replace(".", "/") + ".py").read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.keyword) and node.arg in ("actor_name", "queue_name"):
                declared.add((node.arg, node.value.value))
    names = {v for k, v in declared if k == "actor_name"}
    queues = {v for k, v in declared if k == "queue_name"}
    for job in JOBS.values():
        assert job.actor_name in names and job.queue in queues, job
    for actor, queue in (WEBHOOK_ACTOR, EMAIL_ACTOR):
        assert actor in names and queue in queues
