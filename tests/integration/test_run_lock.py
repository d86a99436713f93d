"""`make run`'s lock and servers file, with real processes holding a real flock (issue 7)."""

import os
import subprocess
import sys

import pytest

from cli import run_state

HOLDER = """
import sys, time
from pathlib import Path
from cli import run_state
var = Path(sys.argv[1])
run_state.acquire(var)
run_state.write_servers(var, {"DATABASE_URL": "postgresql://postgres:@/backroom?host=/x", "REDIS_URL": "unix:///x.sock"})
print("held", flush=True)
time.sleep(120)
"""


@pytest.fixture
def holder(tmp_path):
    """Another process running as `make run` does: holding the lock, servers file written."""
    process = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(tmp_path)], stdout=subprocess.PIPE, text=True
    )
    assert process.stdout.readline().strip() == "held"
    yield process
    process.kill()
    process.wait(timeout=10)


def test_a_held_lock_names_its_holder_and_shares_its_servers(tmp_path, holder):
    with pytest.raises(run_state.AlreadyRunning) as refused:
        run_state.acquire(tmp_path, wait_seconds=0.2)
    assert refused.value.pid == holder.pid
    assert run_state.is_held(tmp_path)
    assert run_state.running_servers(tmp_path) == {
        "DATABASE_URL": "postgresql://postgres:@/backroom?host=/x",
        "REDIS_URL": "unix:///x.sock",
    }


def test_a_dead_runs_lock_is_taken_over_and_its_servers_file_ignored(tmp_path, holder):
    holder.kill()  # no clean exit: the lock file and servers file stay behind
    holder.wait(timeout=10)
    assert (tmp_path / "run.lock").read_text().strip() == str(holder.pid)
    assert not run_state.is_held(tmp_path)
    assert run_state.running_servers(tmp_path) == {}  # points at servers that died with the run
    fd = run_state.acquire(tmp_path, wait_seconds=0)
    try:
        assert (tmp_path / "run.lock").read_text().strip() == str(os.getpid())
    finally:
        os.close(fd)


def test_no_lock_file_means_no_run(tmp_path):
    assert not run_state.is_held(tmp_path)
    assert run_state.running_servers(tmp_path) == {}
