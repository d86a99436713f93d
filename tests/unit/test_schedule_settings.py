"""Schedule settings from the environment: per-job overrides, and one line naming a bad variable."""

import subprocess
import sys

import pytest
from pydantic import ValidationError

from core.settings import Settings, describe_error
from core.settings_schedules import parse_misfire

BASE = {"_env_file": None, "database_url": "postgresql://u@h/db", "redis_url": "redis://h:6379/0"}


def test_a_job_schedule_is_overridden_by_its_variable(monkeypatch):
    monkeypatch.setenv("SCHEDULE_STOCK_CLEANUP", "*/5 * * * *")
    monkeypatch.setenv("SCHEDULE_DEAD_LETTER_RETENTION_GRACE", "2h")
    settings = Settings(**BASE)
    assert settings.schedule_override("stock-cleanup") == "*/5 * * * *"
    assert settings.schedule_override("dead-letter-retention", "_GRACE") == "2h"
    assert settings.schedule_override("reconcile") is None


@pytest.mark.parametrize(
    ("values", "line"),
    [
        (
            {"schedule_stock_cleanup": "61 * * * *"},
            "invalid setting SCHEDULE_STOCK_CLEANUP: '61 * * * *' is not",
        ),
        ({"schedule_timezone": "Mars/Olympus"}, "invalid setting SCHEDULE_TIMEZONE:"),
        ({"schedule_reconcile_grace": "soon"}, "invalid setting SCHEDULE_RECONCILE_GRACE:"),
        ({"schedule_reconcile_misfire": "often"}, "invalid setting SCHEDULE_RECONCILE_MISFIRE:"),
    ],
)
def test_a_bad_schedule_value_names_its_variable(values, line):
    with pytest.raises(ValidationError) as error:
        Settings(**BASE, **values)
    assert describe_error(error.value).startswith(line)


def test_a_bad_expression_stops_the_scheduler_at_start_with_one_line():
    env = {
        "DATABASE_URL": "postgresql://u@127.0.0.1:1/x",
        "REDIS_URL": "redis://127.0.0.1:1",
        "PATH": "/usr/bin",
    }
    done = subprocess.run(
        [sys.executable, "-m", "schedules"],
        env={**env, "SCHEDULE_RECONCILE": "every day"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "backroom: invalid setting SCHEDULE_RECONCILE: 'every day' is not a duration like 90s, 5m, 1h or 1d"
    ]


def test_misfire_policies():
    assert parse_misfire("fire_once") == ("fire_once", 1)
    assert parse_misfire("catch_up:5") == ("catch_up", 5)
    assert parse_misfire("catch_up") == ("catch_up", 10)
    with pytest.raises(ValueError):
        parse_misfire("skip:3")
