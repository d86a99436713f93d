"""`make bench` keeps working as the code grows: `--quick` must finish, print its table, and pass
every correctness check (0 oversold, every acknowledged webhook stored and enqueued, every job run).

Speed is never asserted here: the figures are only meaningful side by side in a full run.
"""

import os
import shutil
import subprocess
import sys

import pytest

from tests.e2e.conftest import ROOT

PATHS = (
    "reserve, hot SKU",
    "reserve, 500 live holds",
    "webhook, each event new",
    "jobs, noop, 1 x 4",
    "jobs, noop, 2 x 8",
)


def test_quick_bench_prints_every_path_with_its_baseline_and_passes_its_checks():
    missing = [tool for tool in ("wrk", "pgbench") if shutil.which(tool) is None]
    if missing and not os.environ.get("CI"):
        pytest.skip(f"{', '.join(missing)} not installed (make bench-tools needs root or sudo)")
    assert not missing, f"{missing} not installed: `make bench-tools` should have installed them"
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--quick"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    table = done.stdout.split("ratio\n", 1)[1]
    for path in PATHS:
        assert path in table, path
    if "jobs on RabbitMQ skipped" not in done.stdout:  # RabbitMQ answers: the same jobs on it
        assert "jobs rabbitmq, noop, 1 x 4" in table and "bare Dramatiq rabbitmq" in table
    for baseline in (
        "pgbench UPDATE + INSERT",
        "trivial Falcon route",
        "pgbench one-row INSERT",
        "bare Dramatiq",
    ):
        assert baseline in table, baseline
    assert "checks: all checks passed" in done.stdout
    assert "FAIL" not in done.stdout
    assert "web worker" in done.stdout and "job worker 2 x 8" in done.stdout  # memory is reported
