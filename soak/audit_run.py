"""The audit's checks on the run itself: schedule slots, dead letters, the web tier's answers
and what `/ready` said, each judged against the faults the run injected."""

from __future__ import annotations

import itertools
from collections import defaultdict
from datetime import timedelta

from soak.audit import Check, _found, in_window, rows
from soak.faults import Fault
from soak.ledger import Ledger

INTERVALS = {"reconcile": timedelta(seconds=10), "premium-renewals": timedelta(seconds=10)}
SERVER_FAULTS = ("redis", "postgres")


def schedules(database_url: str) -> Check:
    runs = rows(
        database_url,
        "SELECT job_name, scheduled_for, state, fired_at < now() - interval '30 seconds'"
        " FROM schedule_run ORDER BY 1, 2",
    )
    slots: dict[str, list] = defaultdict(list)
    for job, slot, *_ in runs:
        slots[job].append(slot)
    bad = []
    for job, times in slots.items():
        bad += [f"{job} {a:%H:%M:%S} twice" for a, b in itertools.pairwise(times) if a == b]
        if job in INTERVALS:
            gaps = [(a, b) for a, b in itertools.pairwise(times) if b - a > INTERVALS[job]]
            bad += [f"{job}: no slot between {a:%H:%M:%S} and {b:%H:%M:%S}" for a, b in gaps]
    states: dict[str, int] = defaultdict(int)
    for _, _, state, _old in runs:
        states[state] += 1
    # A slot whose message never started (lost with Redis, say) is shown, not failed: the promise
    # is one firing per slot, and the next slot of an interval job does the same work.
    never_ran = sum(1 for _, _, state, old in runs if state == "sent" and old)
    found = f"{len(runs)} slots: " + ", ".join(f"{n} {s}" for s, n in sorted(states.items()))
    found += f" ({never_ran} sent over 30 s ago and never started)"
    return Check("schedules: every slot fired once, none lost", not bad, _found(found, bad))


def dead_letters(database_url: str, faults: list[Fault]) -> Check:
    found = rows(
        database_url, "SELECT id, actor, exception_type, extract(epoch FROM first_failed_at) FROM dead_letter"
    )
    bad = [
        f"#{id_} {actor} {error}"
        for id_, actor, error, first in found
        if not in_window(float(first), faults, ("redis", "postgres", "worker", "scheduler"), slack=90)
    ]
    return Check(
        "dead letters: each caused by an injected fault", not bad, _found(f"{len(found)} dead letters", bad)
    )


def web_tier(ledger: Ledger, faults: list[Fault]) -> Check:
    bad, unavailable = [], 0
    for answer in ledger.answers:
        if answer.status == 503 and answer.retry_after and in_window(answer.at, faults, ("postgres",), 10):
            unavailable += 1
        elif answer.status >= 500:
            bad.append(f"{answer.kind} {answer.status}{'' if answer.retry_after else ' (no Retry-After)'}")
    no_answer = sum(1 for a in ledger.answers if a.status == 0)
    found = f"{len(ledger.answers)} requests, {unavailable} 503 during the outage, {no_answer} unanswered"
    return Check(
        "web tier: no 5xx but 503 + Retry-After while PostgreSQL is down", not bad, _found(found, bad)
    )


def readiness(ledger: Ledger, faults: list[Fault]) -> Check:
    """Outside the server faults `/ready` must say 200; from a second after a server went down
    until its restart began, 503. Around the edges (shutting down, starting, pools reconnecting
    within 3 s) either answer is true at some instant, so those samples are not judged."""
    bad = []
    for at, status, _up in ledger.ready_samples:
        fault = next(
            (f for f in faults if f.kind in SERVER_FAULTS and f.down_ts - 1 <= at <= f.up_ts + 3), None
        )
        if fault is None and status != 200:
            bad.append(f"/ready {status} while the servers were up")
        elif fault and fault.down_ts + 1 <= at <= fault.restart_ts and status != 503:
            bad.append(f"/ready {status} while {fault.kind} was down")
    down = sum(1 for _, _, up in ledger.ready_samples if not up)
    found = f"{len(ledger.ready_samples)} samples, {down} while a server was down"
    return Check("/ready told the truth", not bad, _found(found, bad))
