"""Cart queries: the storefront's carts, the abandoned-cart emails queued for them, and the carts
a reminder run may pick (locked, skipping those another run holds)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.types import Integer, String
from sqlmodel import Session

_COLUMNS = "cart_id, email, marketing_consent, items, sequence, step_sent, state, last_activity_at"


def lock_cart(session: Session, cart_id: str) -> Any | None:
    return session.execute(
        text(f"SELECT {_COLUMNS} FROM cart WHERE cart_id = :id FOR UPDATE"), {"id": cart_id}
    ).one_or_none()


def get_cart(session: Session, cart_id: str) -> Any | None:
    return session.execute(
        text(f"SELECT {_COLUMNS} FROM cart WHERE cart_id = :id"), {"id": cart_id}
    ).one_or_none()


def insert_cart(
    session: Session,
    cart_id: str,
    *,
    email: str | None,
    consent: bool,
    items: list[dict[str, Any]],
    activity_at: datetime,
    now: datetime,
) -> bool:
    """A new cart; False when another request created it first (the caller locks and updates)."""
    created = session.execute(
        text(
            "INSERT INTO cart (cart_id, email, marketing_consent, items, last_activity_at, created_at, "
            "updated_at) VALUES (:id, :email, :consent, :items, :activity, :now, :now) "
            "ON CONFLICT (cart_id) DO NOTHING RETURNING cart_id"
        ).bindparams(bindparam("items", type_=JSONB)),
        {
            "id": cart_id,
            "email": email,
            "consent": consent,
            "items": items,
            "activity": activity_at,
            "now": now,
        },
    ).scalar_one_or_none()
    return created is not None


def update_cart(
    session: Session,
    cart_id: str,
    *,
    email: str | None,
    consent: bool,
    items: list[dict[str, Any]],
    activity_at: datetime,
    new_sequence: bool,
    now: datetime,
) -> None:
    session.execute(
        text(
            "UPDATE cart SET email = :email, marketing_consent = :consent, items = :items, "
            "last_activity_at = :activity, updated_at = :now, "
            "sequence = sequence + CASE WHEN :new THEN 1 ELSE 0 END, "
            "step_sent = CASE WHEN :new THEN 0 ELSE step_sent END WHERE cart_id = :id"
        ).bindparams(bindparam("items", type_=JSONB)),
        {
            "id": cart_id,
            "email": email,
            "consent": consent,
            "items": items,
            "activity": activity_at,
            "new": new_sequence,
            "now": now,
        },
    )


def set_state(session: Session, cart_id: str, state: str, now: datetime) -> bool:
    """Unsubscribe (or convert) a cart: False when there is no such cart."""
    done = session.execute(
        text("UPDATE cart SET state = :state, updated_at = :now WHERE cart_id = :id RETURNING cart_id"),
        {"id": cart_id, "state": state, "now": now},
    ).scalar_one_or_none()
    return done is not None


def mark_converted(session: Session, cart_id: str, now: datetime) -> None:
    """A reservation or a paid order carried this cart: no more reminders. An unsubscribed cart
    stays unsubscribed; an unknown cart id changes nothing."""
    session.execute(
        text(
            "UPDATE cart SET state = 'converted', updated_at = :now WHERE cart_id = :id AND state = 'active'"
        ),
        {"id": cart_id, "now": now},
    )


def emails_sent(session: Session, cart_id: str) -> list[Any]:
    return list(
        session.execute(
            text(
                "SELECT e.sequence, e.step, e.queued_at, o.state AS email_state FROM cart_email e "
                "LEFT JOIN email_outbox o ON o.id = e.outbox_id WHERE e.cart_id = :id ORDER BY e.id"
            ),
            {"id": cart_id},
        )
    )


def lock_due_carts(
    session: Session, steps_seconds: list[int], now: datetime, limit: int, *, exclude: list[str]
) -> list[Any]:
    """Active carts with an email, consent and items whose next step's idle time has passed,
    locked, leaving out `exclude`; rows another run holds are skipped, so two runs at once never
    pick one cart."""
    return list(
        session.execute(
            text(
                f"SELECT {_COLUMNS} FROM cart "
                "WHERE state = 'active' AND marketing_consent AND email IS NOT NULL "
                "AND jsonb_array_length(items) > 0 AND NOT (cart_id = ANY(:exclude)) "
                "AND step_sent < cardinality(:steps) "
                "AND last_activity_at <= :now - make_interval(secs => (:steps)[step_sent + 1]) "
                "ORDER BY last_activity_at, cart_id LIMIT :limit FOR UPDATE SKIP LOCKED"
            ).bindparams(bindparam("steps", type_=ARRAY(Integer)), bindparam("exclude", type_=ARRAY(String))),
            {"steps": steps_seconds, "now": now, "limit": limit, "exclude": exclude},
        )
    )


def add_cart_email(session: Session, cart_id: str, sequence: int, step: int, now: datetime) -> int | None:
    """Record that (cart, sequence, step) is queued: its id, or None if it already was."""
    row = session.execute(
        text(
            "INSERT INTO cart_email (cart_id, sequence, step, queued_at) VALUES (:id, :seq, :step, :now) "
            "ON CONFLICT ON CONSTRAINT cart_email_once DO NOTHING RETURNING id"
        ),
        {"id": cart_id, "seq": sequence, "step": step, "now": now},
    ).scalar_one_or_none()
    return int(row) if row is not None else None


def link_outbox(session: Session, cart_email_id: int, outbox_id: int) -> None:
    session.execute(
        text("UPDATE cart_email SET outbox_id = :outbox WHERE id = :id"),
        {"id": cart_email_id, "outbox": outbox_id},
    )


def advance_step(session: Session, cart_id: str, step: int, now: datetime) -> None:
    session.execute(
        text("UPDATE cart SET step_sent = GREATEST(step_sent, :step), updated_at = :now WHERE cart_id = :id"),
        {"id": cart_id, "step": step, "now": now},
    )


def priced_products(session: Session, skus: list[str]) -> dict[str, Any]:
    """Name, price (minor units) and currency of each of `skus` that has a product row."""
    if not skus:
        return {}
    rows = session.execute(
        text("SELECT sku, name, price, currency FROM product WHERE sku IN :skus").bindparams(
            bindparam("skus", expanding=True)
        ),
        {"skus": skus},
    )
    return {str(r.sku): r for r in rows}
