"""Overdue recurring jobs, as a scrape and a probe see them: /metrics has each job's last
success and overdue gauge; /ready?verbose=1 lists overdue jobs and stays 200 for them."""

from datetime import timedelta

import falcon.testing
import pytest
from prometheus_client.parser import text_string_to_metric_families

from api.app import create_app
from tests.conftest import make_settings
from tests.support.schedule_rows import add_success, clear_schedules, set_state


@pytest.fixture(autouse=True)
def clean(engine):
    clear_schedules(engine)
    yield
    clear_schedules(engine)


@pytest.fixture
def outage(engine, clock):
    """stock-cleanup: known for a day, never succeeded (overdue). reconcile: succeeded 10 s ago.
    retention: paused for a day (a pause is not overdue)."""
    day_ago = clock() - timedelta(days=1)
    set_state(engine, "stock-cleanup", active_since=day_ago)
    set_state(engine, "reconcile", active_since=day_ago)
    add_success(engine, "reconcile", finished_at=clock() - timedelta(seconds=10))
    set_state(engine, "retention", active_since=day_ago - timedelta(days=5), paused=True)
    return clock() - timedelta(seconds=10)


def _gauges(text, name):
    (family,) = (f for f in text_string_to_metric_families(text) if f.name == name)
    return {sample.labels["job"]: sample.value for sample in family.samples}


def test_metrics_show_last_success_and_overdue_per_job(client, outage, settings):
    from core.schedule_table import schedule_table

    never = {scheduled.job: 0.0 for scheduled in schedule_table(settings)}  # every job has a gauge
    assert "retention" in never
    scraped = client.simulate_get("/metrics")
    assert scraped.status_code == 200
    assert _gauges(scraped.text, "backroom_schedule_overdue") == {**never, "stock-cleanup": 1.0}
    last = _gauges(scraped.text, "backroom_schedule_last_success_timestamp")
    assert last == {**never, "reconcile": outage.timestamp()}
    assert "backroom_queue_depth" in scraped.text and "backroom_dead_letters" in scraped.text  # kept


def test_metrics_clear_the_overdue_gauge_after_a_success(client, engine, outage, clock):
    add_success(engine, "stock-cleanup", finished_at=clock())
    assert _gauges(client.simulate_get("/metrics").text, "backroom_schedule_overdue")["stock-cleanup"] == 0.0


def test_ready_verbose_lists_overdue_jobs_without_failing(client, outage):
    verbose = client.simulate_get("/ready", params={"verbose": "1"})
    assert verbose.status_code == 200, verbose.text
    assert verbose.json["status"] == "ready"
    assert verbose.json["schedules"] == {"overdue": ["stock-cleanup"]}
    plain = client.simulate_get("/ready")
    assert plain.status_code == 200 and "schedules" not in plain.json
    assert plain.json["checks"] == {"postgres": "ok", "migrations": "ok", "redis": "ok"}


def test_ready_verbose_lists_nothing_when_nothing_is_overdue(client, engine, outage, clock):
    add_success(engine, "stock-cleanup", finished_at=clock())
    assert client.simulate_get("/ready", params={"verbose": "1"}).json["schedules"] == {"overdue": []}


def test_ready_is_still_503_naming_the_dependency(settings, engine, outage, clock):
    broken = make_settings(settings.database_url, "redis://127.0.0.1:1/0")
    answer = falcon.testing.TestClient(create_app(broken, engine=engine, now=clock)).simulate_get(
        "/ready", params={"verbose": "1"}
    )
    assert answer.status_code == 503 and answer.json["type"].endswith("/not-ready")
    assert (
        answer.json["checks"]["redis"].startswith("unreachable") and answer.json["checks"]["postgres"] == "ok"
    )
    assert answer.json["schedules"] == {"overdue": ["stock-cleanup"]}


def test_ready_verbose_with_postgres_down_says_so_instead_of_listing(settings):
    broken = make_settings("postgresql://backroom@127.0.0.1:1/none", settings.redis_url)
    answer = falcon.testing.TestClient(create_app(broken)).simulate_get("/ready", params={"verbose": "1"})
    assert answer.status_code == 503 and answer.json["checks"]["postgres"].startswith("unreachable")
    assert answer.json["schedules"] == {"overdue": None, "error": "postgres unreachable"}
