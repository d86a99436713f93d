"""A refund and its payment processed at the same moment by two worker threads: the refund is
applied whichever commits first (found by review: each used to miss the other's uncommitted row)."""

import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlalchemy import text

from core.clock import utcnow
from core.messages import Outgoing
from db.engine import transaction
from db.queries.webhooks import store_event
from db.unit_of_work import UnitOfWork, UnitsOfWork
from services.payments import Payments
from tests.support.payloads import body
from tests.support.waiting import wait_for


def kept(message: Outgoing) -> str:
    return "not-sent"  # the emails the events decide are not what this test is about


@dataclass(frozen=True)
class HeldOpen(UnitsOfWork):
    """Units of work that hold their transaction open, its work done, until `release` is set:
    a worker thread caught mid-way. `holding` is set once it waits."""

    holding: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)

    @contextmanager
    def begin(self) -> Iterator[UnitOfWork]:
        with super().begin() as uow:
            yield uow
            self.holding.set()
            self.release.wait(timeout=30)


@dataclass(frozen=True)
class Recorded(UnitsOfWork):
    """Units of work that note their backend's pid, to see it wait on a lock."""

    pids: list[int] = field(default_factory=list)

    @contextmanager
    def begin(self) -> Iterator[UnitOfWork]:
        with super().begin() as uow:
            self.pids.append(uow.session.execute(text("SELECT pg_backend_pid()")).scalar_one())
            yield uow


def stored(engine, provider, kind, checkout, payment):
    payload = body(provider, kind, checkout_id=checkout, payment_id=payment)
    with transaction(engine) as session:
        return store_event(
            session,
            provider=provider,
            event_id=uuid.uuid4().hex,
            event_type=payload["event"],
            payload=payload,
            headers={},
        )


def backend_waits_on_a_lock(engine, pid):
    with transaction(engine) as session:
        return session.execute(
            text("SELECT wait_event_type = 'Lock' FROM pg_stat_activity WHERE pid = :pid"), {"pid": pid}
        ).scalar()


def test_a_refund_racing_its_payment_is_applied_to_the_order(shop, engine, settings):
    sku = shop.product(4)
    checkout = shop.reserve(sku, 2)
    payment = f"ref-{checkout}"
    refund_row = stored(engine, "paystack", "refunded", checkout, payment)
    payment_row = stored(engine, "paystack", "succeeded", checkout, payment)

    # The refund's transaction stays open, as in a worker thread mid-way.
    held = HeldOpen(engine, kept)
    refunder = threading.Thread(
        target=Payments(held, settings, utcnow).apply_webhook_event, args=(refund_row,)
    )
    refunder.start()
    assert held.holding.wait(timeout=30), "the refund was applied"
    recorded = Recorded(engine, kept)
    payer = threading.Thread(
        target=Payments(recorded, settings, utcnow).apply_webhook_event, args=(payment_row,)
    )
    payer.start()
    try:
        # The payment must wait for the refund's transaction, not run past its unseen row.
        wait_for(
            lambda: recorded.pids and backend_waits_on_a_lock(engine, recorded.pids[0]), what="payment waits"
        )
    finally:
        held.release.set()
        refunder.join(timeout=30)
        payer.join(timeout=30)
    order = shop.order(checkout).json
    assert order["state"] == "refunded" and order["stock_deducted"] is False
    assert shop.stock(sku)["stock"] == 4
