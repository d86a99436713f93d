"""Failure-ledger queries: record, filter, group, replay bookkeeping and purge."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Session


@dataclass(frozen=True)
class Filter:
    """Every criterion is optional; together they AND. Times bound `last_failed_at`."""

    actor: str | None = None
    queue: str | None = None
    exception_type: str | None = None
    fingerprint: str | None = None
    state: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    def where(self) -> tuple[str, dict[str, Any]]:
        clauses, params = ["TRUE"], {}
        for name in FILTER_KEYS:
            value = getattr(self, name)
            if value is None:
                continue
            if name == "since":
                clauses.append("last_failed_at >= :since")
            elif name == "until":
                clauses.append("last_failed_at < :until")
            else:
                clauses.append(f"{name} = :{name}")
            params[name] = value
        return " AND ".join(clauses), params

    def is_empty(self) -> bool:
        return all(getattr(self, name) is None for name in FILTER_KEYS)


# The criteria by name, as the API's query parameters and the CLI's options call them.
FILTER_KEYS: tuple[str, ...] = tuple(f.name for f in fields(Filter))


SUMMARY = (
    "id, message_id, queue, actor, attempts, exception_type, exception_message, fingerprint, origin, "
    "first_failed_at, last_failed_at, state, replay_of, replay_count"
)


def record(session: Session, entry: dict[str, Any]) -> int:
    """Insert the dead letter (or refresh it if the same message is recorded twice): its id.

    A second record of one message (a stale copy swept from Redis's dead-letter set) refreshes the
    failure details but keeps the state: a `replayed` entry stays replayed, so it is neither shown
    as dead again nor replayable again without `force`.
    """
    row_id = session.execute(
        text(
            "INSERT INTO dead_letter (message_id, queue, actor, args, kwargs, options, attempts, "
            "exception_type, exception_message, traceback, fingerprint, origin, first_failed_at, "
            "last_failed_at, replay_of) VALUES (:message_id, :queue, :actor, :args, :kwargs, :options, "
            ":attempts, :exception_type, :exception_message, :traceback, :fingerprint, :origin, "
            ":first_failed_at, :last_failed_at, :replay_of) "
            "ON CONFLICT (message_id) DO UPDATE SET attempts = excluded.attempts, "
            "exception_type = excluded.exception_type, exception_message = excluded.exception_message, "
            "traceback = excluded.traceback, fingerprint = excluded.fingerprint, origin = excluded.origin, "
            "last_failed_at = excluded.last_failed_at RETURNING id"
        ).bindparams(*(bindparam(name, type_=JSONB) for name in ("args", "kwargs", "options"))),
        entry,
    ).scalar_one()
    return int(row_id)


def settled(session: Session, message_id: str) -> bool:
    """Whether the ledger has an entry for this message, or had one an operator purged: a copy
    of it found later (RabbitMQ's dead-letter queue) is not recorded again."""
    found = session.execute(
        text(
            "SELECT 1 FROM dead_letter WHERE message_id = :m UNION ALL "
            "SELECT 1 FROM dead_letter_action WHERE message_id = :m AND action = 'purge' LIMIT 1"
        ),
        {"m": message_id},
    ).first()
    return found is not None


def holds(session: Session, message_id: str) -> bool:
    """Whether the ledger has an entry for this message."""
    found = session.execute(
        text("SELECT 1 FROM dead_letter WHERE message_id = :m"), {"m": message_id}
    ).first()
    return found is not None


def intent_sql(actor_param: str, id_sql: str) -> str:
    """Ledger entries of the messages `actor(id)` sent for one intent row (actors take its id only)."""
    return f"d.actor = :{actor_param} AND d.args = jsonb_build_array({id_sql})"


def dead_for(actor_param: str, id_sql: str) -> str:
    """SQL condition: the intent has an entry still `dead`, so no message of its chain is alive and
    the next one is an operator's replay, not the reconciler's."""
    return (
        f"EXISTS (SELECT 1 FROM dead_letter d WHERE {intent_sql(actor_param, id_sql)} AND d.state = 'dead')"
    )


def last_replay_for(actor_param: str, id_sql: str) -> str:
    """SQL expression: when an entry of the intent was last replayed (NULL if never), a send too."""
    return (
        "(SELECT max(a.performed_at) FROM dead_letter_action a JOIN dead_letter d ON d.id = a.dead_letter_id "
        f"WHERE a.action = 'replay' AND {intent_sql(actor_param, id_sql)})"
    )


def page(session: Session, where: Filter, *, limit: int, before: int | None) -> list[dict[str, Any]]:
    """Newest first; pass the last id seen as `before` for the next page."""
    sql, params = where.where()
    if before is not None:
        sql += " AND id < :before"
        params["before"] = before
    rows = session.execute(
        text(f"SELECT {SUMMARY} FROM dead_letter WHERE {sql} ORDER BY id DESC LIMIT :limit"),
        {**params, "limit": limit},
    ).mappings()
    return [dict(row) for row in rows]


def count(session: Session, where: Filter) -> int:
    sql, params = where.where()
    return int(session.execute(text(f"SELECT count(*) FROM dead_letter WHERE {sql}"), params).scalar_one())


def ids(session: Session, where: Filter, limit: int, *, after: int = 0) -> list[int]:
    """Matching ids in ascending order from `after`, for batch work."""
    sql, params = where.where()
    rows = session.execute(
        text(f"SELECT id FROM dead_letter WHERE {sql} AND id > :after ORDER BY id LIMIT :limit"),
        {**params, "after": after, "limit": limit},
    )
    return [int(r.id) for r in rows]


def groups(session: Session, where: Filter) -> list[dict[str, Any]]:
    """Counts per fingerprint, the largest group first."""
    sql, params = where.where()
    rows = session.execute(
        text(
            "SELECT fingerprint, exception_type, origin, min(actor) AS actor, count(*) AS count, "
            "count(*) FILTER (WHERE state = 'dead') AS dead, max(last_failed_at) AS last_failed_at, "
            f"(array_agg(exception_message ORDER BY id DESC))[1] AS example FROM dead_letter WHERE {sql} "
            "GROUP BY fingerprint, exception_type, origin ORDER BY count(*) DESC, max(last_failed_at) DESC"
        ),
        params,
    ).mappings()
    return [dict(row) for row in rows]


def get(session: Session, dead_letter_id: int, *, lock: bool = False) -> dict[str, Any] | None:
    row = (
        session.execute(
            text("SELECT * FROM dead_letter WHERE id = :id" + (" FOR UPDATE" if lock else "")),
            {"id": dead_letter_id},
        )
        .mappings()
        .one_or_none()
    )
    return dict(row) if row else None


def history(session: Session, dead_letter_id: int) -> list[dict[str, Any]]:
    rows = session.execute(
        text(
            "SELECT action, performed_by, reason, forced, new_message_id, performed_at "
            "FROM dead_letter_action WHERE dead_letter_id = :id ORDER BY id"
        ),
        {"id": dead_letter_id},
    ).mappings()
    return [dict(row) for row in rows]


def mark_replayed(session: Session, dead_letter_id: int) -> None:
    session.execute(
        text("UPDATE dead_letter SET state = 'replayed', replay_count = replay_count + 1 WHERE id = :id"),
        {"id": dead_letter_id},
    )


def unmark_replayed(session: Session, dead_letter_id: int, state: str, new_message_id: str) -> None:
    """Undo a replay whose message could not be sent."""
    session.execute(
        text("UPDATE dead_letter SET state = :state, replay_count = replay_count - 1 WHERE id = :id"),
        {"id": dead_letter_id, "state": state},
    )
    session.execute(text("DELETE FROM dead_letter_action WHERE new_message_id = :m"), {"m": new_message_id})


def audit(
    session: Session,
    *,
    dead_letter_id: int | None,
    message_id: str,
    action: str,
    by: str,
    reason: str | None,
    forced: bool = False,
    new_message_id: str | None = None,
) -> None:
    session.execute(
        text(
            "INSERT INTO dead_letter_action (dead_letter_id, message_id, action, performed_by, reason, "
            "forced, new_message_id) VALUES (:dl, :mid, :action, :by, :reason, :forced, :new)"
        ),
        {
            "dl": dead_letter_id,
            "mid": message_id,
            "action": action,
            "by": by,
            "reason": reason,
            "forced": forced,
            "new": new_message_id,
        },
    )


def delete(session: Session, dead_letter_id: int) -> None:
    session.execute(text("DELETE FROM dead_letter WHERE id = :id"), {"id": dead_letter_id})


def dead_per_queue(session: Session) -> dict[str, int]:
    """Entries still `dead`, per queue."""
    rows = session.execute(
        text("SELECT queue, count(*) FROM dead_letter WHERE state = 'dead' GROUP BY queue")
    )
    return {queue: int(n) for queue, n in rows}


def totals(session: Session) -> dict[str, Any]:
    """For metrics: dead entries by actor, and replays so far."""
    by_actor = dict(
        session.execute(
            text("SELECT actor, count(*) FROM dead_letter WHERE state = 'dead' GROUP BY actor")
        ).all()
    )
    replays = session.execute(
        text("SELECT count(*) FROM dead_letter_action WHERE action = 'replay'")
    ).scalar_one()
    return {"dead_by_actor": by_actor, "replays": int(replays)}
