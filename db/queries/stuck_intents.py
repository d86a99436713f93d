"""Claiming intents stuck in their first state, for the reconciler to send again.

An intent row is claimed only when no message for it can still be alive: its last send (the first
one at the row's creation, a reconciler's `last_enqueued_at`, an operator's replay) is older than
the actor's whole retry span, and the failure ledger holds no `dead` entry for it (that chain is
over, and the next try is an operator's replay). Claiming stamps `last_enqueued_at` in the same
statement, so two reconcilers never send one intent twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, text
from sqlmodel import Session

from db.queries.dead_letters import dead_for, last_replay_for


@dataclass(frozen=True)
class Intent:
    """Where one kind of intent lives: its table, its first state and the column of its first send.
    Constants of ours, written into the SQL (the state as a literal, so the partial index applies)."""

    table: str
    first_state: str
    created_column: str


# `last_enqueued_at` of an intent whose send is known to have failed: no message of it is alive.
NEVER_SENT = "'-infinity'::timestamptz"


def claim(
    session: Session,
    intent: Intent,
    *,
    actor: str,
    now: datetime,
    resend_after: timedelta,
    limit: int,
    grace: timedelta,
) -> list[int]:
    """Ids of stuck intents whose chain is over, oldest first, stamped as sent `now`. An intent
    whose send failed (`mark_unsent`) is due after `grace` alone: no chain ever started."""
    first_send = f"COALESCE(i.last_enqueued_at, i.{intent.created_column})"
    last_sent = f"greatest({first_send}, {last_replay_for('actor', 'i.id')})"
    rows = session.execute(
        text(
            f"WITH due AS (SELECT i.id FROM {intent.table} i WHERE i.state = '{intent.first_state}' "
            # The first condition bounds both branches; it lets the partial index narrow the scan.
            f"AND i.{intent.created_column} < :grace_cutoff "
            f"AND ({last_sent} < :cutoff OR i.last_enqueued_at = {NEVER_SENT}) "
            f"AND NOT {dead_for('actor', 'i.id')} "
            f"ORDER BY i.{intent.created_column} LIMIT :n FOR UPDATE OF i SKIP LOCKED) "
            f"UPDATE {intent.table} t SET last_enqueued_at = :now FROM due WHERE t.id = due.id RETURNING t.id"
        ),
        {
            "actor": actor,
            "cutoff": now - resend_after,
            "grace_cutoff": now - grace,
            "now": now,
            "n": limit,
        },
    )
    return sorted(int(r.id) for r in rows)


def release(session: Session, intent: Intent, ids: list[int]) -> None:
    """Undo claims whose message could not be sent: those rows are due again at the next tick
    (they were claimed because their chain was over, and no new one started)."""
    if ids:
        session.execute(
            text(f"UPDATE {intent.table} SET last_enqueued_at = NULL WHERE id IN :ids").bindparams(
                bindparam("ids", expanding=True)
            ),
            {"ids": ids},
        )


def mark_unsent(session: Session, intent: Intent, ids: list[int]) -> None:
    """Record that these intents' first send failed (the broker was down after the commit), so
    the reconciler sends them after its grace instead of waiting out a retry span."""
    if ids:
        session.execute(
            text(f"UPDATE {intent.table} SET last_enqueued_at = {NEVER_SENT} WHERE id IN :ids").bindparams(
                bindparam("ids", expanding=True)
            ),
            {"ids": ids},
        )
