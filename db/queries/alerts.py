"""Low-stock alert queries: re-arm, claim newly crossed products, record the digest and its
Slack delivery, list what is low now. The conditions are core/rules/alerts.py's, as SQL."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Session

from db.queries.products import EXPIRED_UNENDED

# core.rules.alerts.crossed and .rearms, as SQL on `product`.
CROSSED = "low_stock_threshold > 0 AND stock <= low_stock_threshold AND low_stock_alerted_at IS NULL"
REARMS = "low_stock_alerted_at IS NOT NULL AND stock > low_stock_threshold"
# Units unexpired active holds take: the reserved counter less expired holds not ended yet.
RESERVED = f"(p.reserved - {EXPIRED_UNENDED})"


def rearm(session: Session) -> list[str]:
    """Clear the alert mark of products whose stock rose above their threshold: their next
    crossing alerts again. The SKUs re-armed."""
    rows = session.execute(
        text(
            f"WITH due AS (SELECT sku FROM product WHERE {REARMS} ORDER BY sku FOR UPDATE) "
            f"UPDATE product p SET low_stock_alerted_at = NULL FROM due WHERE p.sku = due.sku AND {REARMS} "
            "RETURNING p.sku"
        )
    )
    return sorted(str(r.sku) for r in rows)


def claim_crossed(session: Session, now: datetime) -> list[Any]:
    """Mark every newly crossed product alerted `now` and return them (sku, name, stock, threshold).

    One statement: a concurrent run blocks on the same rows and, once this one commits, finds them
    alerted (PostgreSQL re-checks the WHERE on the new row version), so each crossing is claimed once.
    Rows are locked in SKU order, as every other multi-row lock on products, so no deadlock."""
    return list(
        session.execute(
            text(
                f"WITH due AS (SELECT sku FROM product WHERE {CROSSED} ORDER BY sku FOR UPDATE) "
                "UPDATE product p SET low_stock_alerted_at = :now FROM due "
                f"WHERE p.sku = due.sku AND {CROSSED} "
                "RETURNING p.sku, p.name, p.stock, p.low_stock_threshold AS threshold"
            ),
            {"now": now},
        )
    )


def available_for(session: Session, skus: list[str], now: datetime) -> dict[str, int]:
    """Stock on hand minus live holds, by SKU (never below zero, as core.rules.stock.available)."""
    if not skus:
        return {}
    rows = session.execute(
        text(
            f"SELECT p.sku, GREATEST(0, p.stock - {RESERVED}) AS available "
            "FROM product p WHERE p.sku IN :skus"
        ).bindparams(bindparam("skus", expanding=True)),
        {"skus": skus, "now": now},
    )
    return {str(r.sku): int(r.available) for r in rows}


def insert_digest(session: Session, products: list[dict[str, Any]], *, slack_state: str) -> int:
    return int(
        session.execute(
            text(
                "INSERT INTO low_stock_digest (products, slack_state) VALUES (:products, :slack) RETURNING id"
            ).bindparams(bindparam("products", type_=JSONB)),
            {"products": products, "slack": slack_state},
        ).scalar_one()
    )


def set_digest_email(session: Session, digest_id: int, outbox_id: int) -> None:
    session.execute(
        text("UPDATE low_stock_digest SET email_outbox_id = :outbox WHERE id = :id"),
        {"id": digest_id, "outbox": outbox_id},
    )


def lock_digest(session: Session, digest_id: int) -> Any | None:
    """The digest row, locked until the caller's transaction ends (one Slack delivery at a time)."""
    return session.execute(
        text("SELECT * FROM low_stock_digest WHERE id = :id FOR UPDATE"), {"id": digest_id}
    ).one_or_none()


def record_slack_attempt(
    session: Session, digest_id: int, *, sent: bool, error: str | None, failed: bool, now: datetime
) -> None:
    session.execute(
        text(
            "UPDATE low_stock_digest SET slack_attempts = slack_attempts + 1, slack_error = :error, "
            "slack_sent_at = CASE WHEN :sent THEN :now ELSE slack_sent_at END, "
            "slack_state = CASE WHEN :sent THEN 'sent' WHEN :failed THEN 'failed' ELSE slack_state END "
            "WHERE id = :id"
        ),
        {"id": digest_id, "sent": sent, "error": error, "failed": failed, "now": now},
    )


def low_stock_now(session: Session, now: datetime) -> list[Any]:
    """Products at or below their threshold now (threshold > 0), with available and when alerted:
    out of stock first, then by SKU."""
    return list(
        session.execute(
            text(
                "SELECT p.sku, p.name, p.stock, p.low_stock_threshold AS threshold, "
                f"GREATEST(0, p.stock - {RESERVED}) AS available, p.low_stock_alerted_at AS alerted_at "
                "FROM product p WHERE p.low_stock_threshold > 0 AND p.stock <= p.low_stock_threshold "
                "ORDER BY p.stock > 0, p.sku"
            ),
            {"now": now},
        )
    )


def reopen_slack_failed(session: Session, digest_id: int) -> bool:
    """Make a `failed` Slack post `pending` again (an operator replays its dead letter, having fixed
    the webhook): True if it was failed."""
    reopened = session.execute(
        text(
            "UPDATE low_stock_digest SET slack_state = 'pending' "
            "WHERE id = :id AND slack_state = 'failed' RETURNING id"
        ),
        {"id": digest_id},
    ).scalar_one_or_none()
    return reopened is not None
