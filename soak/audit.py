"""The audit after the run: each promise checked against the database, the local Resend and the
driver's ledger. A check is a name, whether it held, and what was found (with the failures)."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import psycopg

from soak.faults import Fault
from soak.ledger import Ledger
from soak.stack import Stack
from tests.support.resend_server import ResendServer

CHECKOUT = re.compile(r"soak-c-[0-9a-f]{12}")


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    found: str


def rows(database_url: str, sql: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(database_url) as db:
        return db.execute(sql).fetchall()  # constant SQL, no input


def webhooks(database_url: str, ledger: Ledger) -> Check:
    found = rows(database_url, "SELECT checkout_id, payment_id, state FROM customer_order")
    orders = {checkout: payment for checkout, payment, _ in found}
    states = Counter(state for *_, state in found)
    unmatched = Counter(r[0] for r in rows(database_url, "SELECT payment_id FROM unmatched_payment"))
    stored = rows(database_url, "SELECT state, payload::text FROM webhook_event")
    pending = Counter(
        m.group(0) for state, text in stored if state == "received" if (m := CHECKOUT.search(text))
    )
    bad, acked = [], 0
    for flow in ledger.flows:
        hooks = [w for w in flow.webhooks if w.acked]
        acked += len(hooks)
        if not hooks:
            continue
        payment = hooks[0].payment_id
        if pending[flow.checkout_id]:
            bad.append(f"{flow.checkout_id} ({flow.variant}): acknowledged event still unprocessed")
        elif flow.variant != "unknown-checkout" and unmatched[payment]:
            bad.append(f"{flow.checkout_id} ({flow.variant}): its payment is also unmatched (taken twice?)")
        elif flow.variant == "unknown-checkout":
            if unmatched[payment] != 1 or flow.checkout_id in orders:
                bad.append(f"{flow.checkout_id}: {unmatched[payment]} unmatched payments, not 1")
        elif flow.success_acked() and orders.get(flow.checkout_id) != payment:
            bad.append(f"{flow.checkout_id} ({flow.variant}): order {orders.get(flow.checkout_id)!r}, not 1")
        elif not any(w.kind == "succeeded" for w in flow.webhooks) and flow.checkout_id in orders:
            bad.append(f"{flow.checkout_id} ({flow.variant}): an order without a success")
    summary = f"{acked} acked; orders: " + ", ".join(f"{n} {s}" for s, n in sorted(states.items()))
    summary += f"; {sum(unmatched.values())} unmatched payments"
    return Check("webhooks: each acknowledged one is one order / payment", not bad, _found(summary, bad))


def emails(database_url: str, resend: ResendServer) -> Check:
    outbox = rows(database_url, "SELECT idempotency_key, state FROM email_outbox")
    delivered = Counter(email.idempotency_key for email in resend.emails)
    bad = [
        f"{key}: {state}, delivered {delivered[key]}x"
        for key, state in outbox
        if state != "sent" or delivered[key] != 1
    ]
    keys = {key for key, _ in outbox}
    bad += [f"{key}: at Resend, not in the outbox" for key in delivered if key not in keys]
    found = f"{len(outbox)} emails, {resend.request_count} requests to Resend"
    return Check("emails: each delivered exactly once", not bad, _found(found, bad))


def subscriptions(database_url: str, ledger: Ledger, until: float) -> Check:
    paid = Counter(
        r[0]
        for r in rows(
            database_url,
            "SELECT c.subscription_id FROM subscription_charge_attempt a"
            " JOIN subscription_charge c ON c.id = a.charge_id WHERE a.state = 'succeeded'",
        )
    )
    bad = [f"{sub}: charged {n}x" for sub, n in paid.items() if n > 1]
    bad += [
        f"{sub}: due, never charged"
        for sub, end in ledger.subscriptions.items()
        if end < until and not paid[sub]
    ]
    found = f"{len(ledger.subscriptions)} created, {sum(paid.values())} charges"
    return Check("subscriptions: each period charged at most once", not bad, _found(found, bad))


def _found(summary: str, bad: list[str]) -> str:
    return summary + ("" if not bad else f"; {len(bad)} failed: " + "; ".join(bad[:5]))


def in_window(ts: float, faults: list[Fault], kinds: tuple[str, ...], slack: float) -> bool:
    return any(f.down_ts - 1 <= ts <= f.up_ts + slack for f in faults if f.kind in kinds)


def processes(stack: Stack) -> Check:
    dead = stack.dead()
    return Check(
        "processes: none exited on its own", not dead, _found(f"{len(stack.processes)} running", dead)
    )


def now_utc() -> datetime:
    return datetime.now(UTC)
