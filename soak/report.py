"""The soak's report: the audit as a table (failures first), the faults with their recovery
times, and the request counts; plain text for a terminal or docs/reliability.md."""

from __future__ import annotations

import os
import platform
from collections import Counter
from datetime import UTC, datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from soak.run import Outcome


def report(outcome: Outcome) -> str:
    machine = f"{platform.node()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    date = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [f"soak: {outcome.seconds:.0f} s of load on {machine}, {date}; logs in {outcome.logs}", ""]
    lines += ["| check | held | found |", "| --- | --- | --- |"]
    for check in sorted(outcome.checks, key=lambda c: c.ok):
        lines.append(f"| {check.name} | {'yes' if check.ok else '**FAILED**'} | {check.found} |")
    lines += [
        "",
        "| fault | target | at (s) | down (s) | backlog drained after (s) |",
        "| --- | --- | --- | --- | --- |",
    ]
    for fault in outcome.faults:
        recovery = "not within 300 s" if fault.recovery_seconds is None else f"{fault.recovery_seconds}"
        lines.append(f"| {fault.kind} | {fault.target} | {fault.at} | {fault.down_seconds} | {recovery} |")
    drained = "did not drain within 240 s" if outcome.drained_in is None else f"{outcome.drained_in} s"
    lines += ["", f"after the load: everything processed and sent in {drained}", ""]
    counts = Counter((a.kind, a.status) for a in outcome.ledger.answers)
    lines.append(
        "answers: " + ", ".join(f"{kind} {status}: {n}" for (kind, status), n in sorted(counts.items()))
    )
    flows = Counter(flow.variant for flow in outcome.ledger.flows)
    lines.append("checkouts: " + ", ".join(f"{variant} {n}" for variant, n in sorted(flows.items())))
    failed = [c for c in outcome.checks if not c.ok]
    lines.append("" if not failed else f"\nsoak FAILED: {len(failed)} of {len(outcome.checks)} checks")
    return "\n".join(lines)
