"""The short soak (issue 14): 90 s of storefront, webhook, cart and renewal traffic on the soak's
own PostgreSQL and Redis while it restarts Redis twice and PostgreSQL once, SIGKILLs a worker
family every 18 s and kills a scheduler; then every promise of the audit must hold.

Deselect with `-m "not soak"`. `make soak` is the long run (docs/reliability.md).
"""

from __future__ import annotations

import os
import shutil

import pytest

from soak.faults import KINDS
from soak.report import report
from soak.run import soak
from soak.servers import PG_BIN

# What the soak needs from the machine; outside CI its absence skips with a notice, in CI it fails.
TOOLS = (PG_BIN / "postgres").exists() and shutil.which("redis-server") is not None

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.soak,
    pytest.mark.xdist_group("soak"),
    pytest.mark.skipif(
        not TOOLS and not os.environ.get("CI"),
        reason="the soak needs the machine's PostgreSQL binaries and redis-server",
    ),
]


@pytest.mark.timeout(600)
def test_nothing_is_lost_or_doubled_when_the_servers_restart_under_load() -> None:
    outcome = soak(90, set(KINDS))
    text = report(outcome)
    print(text)
    failed = {check.name for check in outcome.checks if not check.ok}
    assert not failed, text
    assert {fault.kind for fault in outcome.faults} == {"redis", "postgres", "worker", "scheduler"}, text
    assert all(fault.recovery_seconds is not None for fault in outcome.faults), text
    assert outcome.drained_in is not None, text
