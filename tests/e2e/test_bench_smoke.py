"""`make bench` keeps working as the schema grows: a tiny run must finish and print its ratio table."""

import subprocess
import sys

from tests.e2e.conftest import ROOT


def test_bench_runs_end_to_end_with_tiny_parameters():
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench",
            "--rounds",
            "1",
            "--reservations",
            "40",
            "--messages",
            "40",
            "--threads",
            "2",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    for name in ("reserve, spread", "reserve, one SKU", "jobs, noop actor"):
        assert name in done.stdout
    assert "ours/baseline" in done.stdout
