"""Payment queries: unmatched payments, refunds by provider refund id, and the list of payments
a person must look at (orders needing attention and payments that matched no order)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import text
from sqlmodel import Session

AttentionState = Literal["needs_attention", "unmatched"]
ATTENTION_STATES: tuple[AttentionState, ...] = ("needs_attention", "unmatched")


@dataclass(frozen=True)
class PaymentIssue:
    """One payment a person must look at: what was paid, what was owed, why it stopped."""

    state: AttentionState
    id: str  # the order id, or `unmatched-<n>`
    provider: str
    payment_id: str | None
    checkout_id: str | None
    email: str | None
    paid_amount: int | None
    paid_currency: str | None
    owed_amount: int | None
    owed_currency: str | None
    reason: str
    created_at: datetime

    def as_json(self) -> dict[str, Any]:
        return {
            "state": self.state,
            "id": self.id,
            "provider": self.provider,
            "payment_id": self.payment_id,
            "checkout_id": self.checkout_id,
            "email": self.email,
            "paid": {"amount": self.paid_amount, "currency": self.paid_currency},
            "owed": {"amount": self.owed_amount, "currency": self.owed_currency},
            "reason": self.reason,
            "created_at": self.created_at.isoformat(),
        }


def add_unmatched(session: Session, *, event_row_id: int, **values: Any) -> int | None:
    """Keep a payment that matched no order; None when this payment was already kept."""
    row = session.execute(
        text(
            "INSERT INTO unmatched_payment (provider, payment_id, event_row_id, checkout_id, amount, "
            "currency, email, reason) VALUES (:provider, :payment_id, :event_row_id, :checkout_id, "
            ":amount, :currency, :email, :reason) "
            "ON CONFLICT ON CONSTRAINT unmatched_payment_once DO NOTHING RETURNING id"
        ),
        {"event_row_id": event_row_id, **values},
    ).scalar_one_or_none()
    return int(row) if row is not None else None


def add_refund(session: Session, **values: Any) -> bool:
    """Record a refund once by (provider, refund_id); False when it was already recorded."""
    row = session.execute(
        text(
            "INSERT INTO payment_refund (provider, refund_id, payment_id, amount, cumulative, currency) "
            "VALUES (:provider, :refund_id, :payment_id, :amount, :cumulative, :currency) "
            "ON CONFLICT ON CONSTRAINT payment_refund_once DO NOTHING RETURNING id"
        ),
        values,
    ).scalar_one_or_none()
    return row is not None


def refunds_of(session: Session, provider: str, payment_id: str) -> list[tuple[int, bool]]:
    """(amount, cumulative) of every refund recorded against one payment."""
    rows = session.execute(
        text(
            "SELECT amount, cumulative FROM payment_refund WHERE provider = :p AND payment_id = :id "
            "ORDER BY id"
        ),
        {"p": provider, "id": payment_id},
    )
    return [(int(r.amount), bool(r.cumulative)) for r in rows]


def lock_payment(session: Session, provider: str, payment_id: str) -> None:
    """Serialise everything done for one payment (its success and its refunds) until commit.

    A refund and its payment processed at once would otherwise each miss the other's
    uncommitted row: the refund finds no order, the order finds no refund.
    """
    session.execute(
        text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"),
        {"key": f"payment:{provider}:{payment_id}"},
    )


def link_refunds(session: Session, provider: str, payment_id: str, order_id: str) -> None:
    session.execute(
        text(
            "UPDATE payment_refund SET order_id = :o "
            "WHERE provider = :p AND payment_id = :id AND order_id IS NULL"
        ),
        {"p": provider, "id": payment_id, "o": order_id},
    )


_NEEDS_ATTENTION = (
    "SELECT 'needs_attention' AS state, o.order_id AS id, o.provider, o.payment_id, o.checkout_id, "
    "o.email, o.amount AS paid_amount, o.currency AS paid_currency, c.amount AS owed_amount, "
    "c.currency AS owed_currency, COALESCE(o.note, '') AS reason, o.created_at "
    "FROM customer_order o JOIN checkout c ON c.checkout_id = o.checkout_id "
    "WHERE o.state = 'needs_attention'"
)
_UNMATCHED = (
    "SELECT 'unmatched' AS state, 'unmatched-' || u.id AS id, u.provider, u.payment_id, u.checkout_id, "
    "u.email, u.amount AS paid_amount, u.currency AS paid_currency, c.amount AS owed_amount, "
    "c.currency AS owed_currency, u.reason, u.created_at "
    "FROM unmatched_payment u LEFT JOIN checkout c ON c.checkout_id = u.checkout_id"
)


def payments_needing_attention(
    session: Session, state: AttentionState | None = None, *, limit: int = 100, offset: int = 0
) -> list[PaymentIssue]:
    """Newest first; `state` None lists both kinds."""
    parts = [
        q for s, q in (("needs_attention", _NEEDS_ATTENTION), ("unmatched", _UNMATCHED)) if state in (None, s)
    ]
    rows = session.execute(
        text(" UNION ALL ".join(parts) + " ORDER BY created_at DESC, id LIMIT :n OFFSET :off"),
        {"n": limit, "off": offset},
    )
    return [PaymentIssue(**row._mapping) for row in rows]
