"""Emails a payment decides: the customer's confirmation and failure notice, operators' alerts.

Each is an outbox row added in the caller's transaction; the caller sends the returned ids
once that transaction has committed.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from core.payments import ProviderEvent
from core.rules.money import major_units
from core.settings import Settings
from db.queries import outbox
from db.queries.products import product_names


def confirmation(
    session: Session, order_id: str, checkout: Any, items: dict[str, int], event: ProviderEvent
) -> list[int]:
    names = product_names(session, list(items))
    currency = (event.currency or checkout.currency or "USD").upper()
    context = {
        "order_id": order_id,
        "email": checkout.email,
        "currency": currency,
        "total": str(major_units(event.amount or 0, currency)),
        "lines": [{"sku": sku, "name": names.get(sku, sku), "quantity": qty} for sku, qty in items.items()],
    }
    email_id = outbox.add_email(
        session,
        key=f"order-confirmation/{order_id}",
        template="order_confirmation",
        to=checkout.email,
        context=context,
    )
    return [email_id] if email_id else []


def payment_failed(session: Session, event: ProviderEvent, checkout: Any) -> list[int]:
    email_id = outbox.add_email(
        session,
        key=f"payment-failed/{event.provider}/{event.event_id}",
        template="payment_failed",
        to=event.email or checkout.email,
        context={"checkout_id": event.checkout_id, "reason": "Your payment did not go through."},
    )
    return [email_id] if email_id else []


def operator_alert(
    session: Session, settings: Settings, key: str, subject: str, message: str, details: dict[str, Any]
) -> list[int]:
    """One alert per key (the outbox key is unique); none when ALERT_EMAIL is unset, the
    record a person works from stays in /v1/admin/payments either way."""
    if not settings.alert_email:
        return []
    email_id = outbox.add_email(
        session,
        key=f"operator-alert/{key}",
        template="operator_alert",
        to=settings.alert_email,
        context={"subject": subject, "message": message, "details": details},
    )
    return [email_id] if email_id else []
