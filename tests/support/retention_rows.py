"""Rows for retention tests: finished ones old enough to archive, and neighbours that must stay
(unfinished, or a checkout an order still references). Inserted with SQL at a chosen age."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, text

from db.engine import transaction
from tests.support.dead_letters import insert_dead_letter


@dataclass(frozen=True)
class Seeded:
    """What should go (`gone`) and what should stay (`kept`), as {table: [ids]}."""

    gone: dict[str, list[Any]]
    kept: dict[str, list[Any]]


ID_COLUMN = {"checkout": "checkout_id"}


def seed(engine: Engine, age_days: int) -> Seeded:
    when = datetime.now(UTC) - timedelta(days=age_days)
    tag = uuid.uuid4().hex[:10]
    sku, released, converted = f"sku-ret-{tag}", f"co-ret-{tag}-r", f"co-ret-{tag}-c"
    with transaction(engine) as s:

        def one(sql: str, **values: Any) -> Any:
            return s.execute(text(sql), values).scalar_one()

        event = "INSERT INTO webhook_event (provider, event_id, event_type, payload, state, received_at, "
        event += (
            "processed_at) VALUES ('stripe', :e, 'payment_intent.succeeded', :p, :st, :t, :pt) RETURNING id"
        )
        processed = one(
            event, e=f"evt_{tag}_1", p=json.dumps({"n": 1, "tag": tag}), st="processed", t=when, pt=when
        )
        ignored = one(event, e=f"evt_{tag}_2", p=json.dumps({"n": 2}), st="ignored", t=when, pt=when)
        received = one(event, e=f"evt_{tag}_3", p=json.dumps({"n": 3}), st="received", t=when, pt=None)
        email = (
            "INSERT INTO email_outbox (idempotency_key, template, to_address, context, state, created_at, "
        )
        email += (
            "sent_at) VALUES (:k, 'order_confirmation', 'a@example.com', '{}', :st, :t, :st_at) RETURNING id"
        )
        sent = one(email, k=f"ret/{tag}/1", st="sent", t=when, st_at=when)
        pending = one(email, k=f"ret/{tag}/2", st="pending", t=when, st_at=None)
        s.execute(text("INSERT INTO product (sku, name, stock) VALUES (:s, 'Archived thing', 5)"), {"s": sku})
        checkout = "INSERT INTO checkout (checkout_id, email, state, created_at, updated_at) "
        checkout += "VALUES (:c, 'a@example.com', :st, :t, :t)"
        s.execute(text(checkout), {"c": released, "st": "released", "t": when})
        s.execute(text(checkout), {"c": converted, "st": "converted", "t": when})
        hold = (
            "INSERT INTO reservation (checkout_id, sku, quantity, expires_at, state, created_at, ended_at) "
        )
        hold += "VALUES (:c, :s, 1, :t, :st, :t, :t) RETURNING id"
        released_hold = one(hold, c=released, s=sku, t=when, st="released")
        committed_hold = one(hold, c=converted, s=sku, t=when, st="committed")
        s.execute(
            text(
                "INSERT INTO customer_order (order_id, checkout_id, email, state, stock_deducted, provider) "
                "VALUES (:o, :c, 'a@example.com', 'paid', true, 'stripe')"
            ),
            {"o": f"ord-ret-{tag}", "c": converted},
        )
    dead = insert_dead_letter(engine, actor="tests.old", first_failed_at=when, last_failed_at=when)
    return Seeded(
        gone={
            "webhook_event": [processed, ignored],
            "email_outbox": [sent],
            "reservation": [released_hold, committed_hold],
            "checkout": [released],
            "dead_letter": [dead],
        },
        kept={"webhook_event": [received], "email_outbox": [pending], "checkout": [converted]},
    )


def present(engine: Engine, ids: dict[str, list[Any]]) -> dict[str, list[Any]]:
    """Which of these ids are still in their tables."""
    found: dict[str, list[Any]] = {}
    with transaction(engine) as s:
        for table, wanted in ids.items():
            column = ID_COLUMN.get(table, "id")
            rows = s.execute(
                text(f"SELECT {column} FROM {table} WHERE {column} = ANY(:ids)"),  # noqa: S608 (our table names)
                {"ids": wanted},
            )
            found[table] = sorted(r[0] for r in rows)
    return found
