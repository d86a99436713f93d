"""The schedule table: the design's defaults, overrides from the environment, and the catalog."""

from datetime import timedelta

from core.catalog import JOBS
from core.schedule_table import schedule_table
from core.settings import Settings


def settings(**values):
    return Settings(
        _env_file=None, database_url="postgresql://u@h/db", redis_url="redis://h:6379/0", **values
    )


def test_defaults_follow_the_design():
    table = {s.job: s for s in schedule_table(settings())}
    assert table["stock-cleanup"].trigger.describe() == "every 5m"
    assert table["reconcile"].trigger.describe() == "every 1m"
    assert table["retention"].trigger.describe() == "cron 0 3 * * * (UTC)"
    assert "dead-letter-retention" not in table  # an alias of retention, scheduled under that name
    assert all(s.misfire == "fire_once" and s.grace is None for s in table.values())


def test_the_stock_cleanup_interval_and_every_override_come_from_settings():
    table = {
        s.job: s
        for s in schedule_table(
            settings(
                stock_cleanup_interval_minutes=7,
                schedule_timezone="Europe/Berlin",
                schedule_dead_letter_retention="30 2 * * *",
                schedule_reconcile_grace="3m",
                schedule_reconcile_misfire="catch_up:4",
            )
        )
    }
    assert table["stock-cleanup"].trigger.describe() == "every 7m"
    # the purge-only job's override still sets the trigger of `retention`, which replaced it
    assert table["retention"].trigger.describe() == "cron 30 2 * * * (Europe/Berlin)"
    assert (table["reconcile"].grace, table["reconcile"].misfire, table["reconcile"].catch_up_max) == (
        timedelta(minutes=3),
        "catch_up",
        4,
    )


def test_every_scheduled_job_is_in_the_catalog_and_every_actor_module_declares_it():
    import ast
    from pathlib import Path

    from core.catalog import EMAIL_ACTOR, WEBHOOK_ACTOR
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
