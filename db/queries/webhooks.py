"""Webhook event queries: store once per (provider, event id), then settle in one transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Session

from db.queries.stuck_intents import Intent

_INSERT = (
    "INSERT INTO webhook_event (provider, event_id, event_type, payload, headers) "
    "VALUES (:provider, :event_id, :event_type, {payload}, :headers) "
    "ON CONFLICT ON CONSTRAINT webhook_event_once DO NOTHING RETURNING id"
)
# Built once: the intake runs this for every event. The JSON-text form lets PostgreSQL parse the
# body as received instead of Python serialising the parsed payload all over again.
STORE = text(_INSERT.format(payload=":payload")).bindparams(
    bindparam("payload", type_=JSONB), bindparam("headers", type_=JSONB)
)
STORE_TEXT = text(_INSERT.format(payload="CAST(:payload AS jsonb)")).bindparams(
    bindparam("headers", type_=JSONB)
)


def store_event(
    session: Session | Connection,
    *,
    provider: str,
    event_id: str,
    event_type: str,
    payload: dict[str, Any] | str,
    headers: dict[str, str],
) -> int | None:
    """The new row's id, or None for a duplicate (the unique key decides, not a lookup).

    `payload` is the parsed event, or its JSON text exactly as received (a `str`)."""
    row = session.execute(
        STORE_TEXT if isinstance(payload, str) else STORE,
        {
            "provider": provider,
            "event_id": event_id,
            "event_type": event_type,
            "payload": payload,
            "headers": headers,
        },
    ).scalar_one_or_none()
    return int(row) if row is not None else None


def lock_event(session: Session, row_id: int) -> Any | None:
    """Lock the event so two deliveries of its message cannot process it side by side."""
    return session.execute(
        text("SELECT * FROM webhook_event WHERE id = :id FOR UPDATE"), {"id": row_id}
    ).one_or_none()


def settle_event(
    session: Session, row_id: int, *, state: str, note: str | None, order_id: str | None, now: datetime
) -> None:
    session.execute(
        text(
            "UPDATE webhook_event SET state = :state, note = :note, order_id = :order_id, "
            "processed_at = :now, attempts = attempts + 1 WHERE id = :id"
        ),
        {"id": row_id, "state": state, "note": note, "order_id": order_id, "now": now},
    )


# The reconciler's view of this table (db/queries/stuck_intents.py): `received` since `received_at`.
STUCK = Intent(table="webhook_event", first_state="received", created_column="received_at")


def close_received(session: Session, row_id: int, note: str) -> bool:
    """An operator purged the event's dead letter: it is settled `ignored`, never retried again."""
    closed = session.execute(
        text(
            "UPDATE webhook_event SET state = 'ignored', note = :note, processed_at = now() "
            "WHERE id = :id AND state = 'received' RETURNING id"
        ),
        {"id": row_id, "note": note},
    ).scalar_one_or_none()
    return closed is not None
