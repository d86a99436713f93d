"""The short soak (issue 14): 90 s of storefront, webhook, cart and renewal traffic on the soak's
own PostgreSQL and Redis while it restarts Redis twice and PostgreSQL once, SIGKILLs a worker
family every 18 s and kills a scheduler; then every promise of the audit must hold.

Deselect with `-m "not soak"`. `make soak` is the long run (docs/reliability.md).
"""

from __future__ import annotations

import shutil

import pytest

from soak.faults import KINDS
from soak.report import report
from soak.run import soak
from soak.servers import PG_BIN

# Found by the soak, left to the lead to fix with a test of its own: storefront routes other than
# the webhook intake answer 500 (an unhandled OperationalError), not 503 + Retry-After, while
# PostgreSQL restarts. The web-tier check is reported, and xfails until then rather than hiding
# every other promise behind it.
KNOWN = {"web tier: no 5xx but 503 + Retry-After while PostgreSQL is down"}

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.soak,
    pytest.mark.xdist_group("soak"),
    pytest.mark.skipif(
        not (PG_BIN / "postgres").exists() or shutil.which("redis-server") is None,
        reason="the soak needs the machine's PostgreSQL binaries and redis-server",
    ),
]


@pytest.mark.timeout(600)
def test_nothing_is_lost_or_doubled_when_the_servers_restart_under_load() -> None:
    outcome = soak(90, set(KINDS))
    text = report(outcome)
    print(text)
    failed = {check.name for check in outcome.checks if not check.ok}
    assert not failed - KNOWN, text
    assert {fault.kind for fault in outcome.faults} == {"redis", "postgres", "worker", "scheduler"}, text
    assert all(fault.recovery_seconds is not None for fault in outcome.faults), text
    assert outcome.drained_in is not None, text
    if failed:
        pytest.xfail("known: 500 instead of 503 from storefront routes while PostgreSQL restarts\n" + text)
