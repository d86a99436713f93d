"""The one-statement reservation checks its holds' products only after its counter update
(migration 0011): on a row another call is updating it adds no lock of its own before it waits,
so PostgreSQL makes no MultiXact of the two; everywhere else the product check stays immediate."""

import threading
import uuid

import psycopg
import pytest
from sqlalchemy import text

from core.clock import utcnow
from core.rules.money import Owed
from db.engine import transaction
from db.intake import make_single_statement_engine
from db.queries.new_checkout import reserve_new_checkout
from tests.support import factories
from tests.support.waiting import wait_for


def _waiting_for_a_lock(engine) -> bool:
    with engine.connect() as c:
        return bool(
            c.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND wait_event_type = 'Lock'"
                )
            ).scalar()
        )


def test_a_call_waiting_on_a_hot_row_has_not_locked_it_alongside_the_updater(engine, settings):
    sku = factories.store_product(engine, settings, 5, price=100)
    single = make_single_statement_engine(settings, engine.url)
    updater = psycopg.connect(settings.database_url.replace("+psycopg", ""))
    owed: list[Owed | None] = []
    try:
        # Another reservation's counter update, not yet committed. txid_current's low 32 bits are
        # the xid that the row's xmax shows while only that transaction has locked it.
        xid = updater.execute(
            "UPDATE product SET reserved = reserved + 1 WHERE sku = %s "
            "RETURNING (txid_current() %% 4294967296)::text",
            (sku,),
        ).fetchone()[0]

        def reserve() -> None:
            now = utcnow()
            with single.connect() as connection:
                owed.append(
                    reserve_new_checkout(
                        connection, factories.new_checkout_id(), "a@example.com", None, {sku: 1}, now, now
                    )
                )

        caller = threading.Thread(target=reserve)
        caller.start()
        wait_for(lambda: _waiting_for_a_lock(engine), timeout=10, what="the call to wait for the row")
        with engine.connect() as c:
            xmax = c.execute(text("SELECT xmax::text FROM product WHERE sku = :s"), {"s": sku}).scalar()
        assert xmax == xid  # a MultiXact id here would mean the call key-share-locked it first
        updater.commit()
        caller.join(30)
    finally:
        updater.close()
        single.dispose()
    assert owed == [Owed(100, "USD")]
    with transaction(engine) as s:
        assert s.execute(text("SELECT reserved FROM product WHERE sku = :s"), {"s": sku}).scalar() == 2


def test_any_other_hold_of_an_unknown_product_is_refused_at_once(engine, settings):
    checkout = factories.new_checkout_id()
    with pytest.raises(Exception, match="reservation_sku_fkey"), transaction(engine) as s:
        s.execute(
            text("INSERT INTO checkout (checkout_id, email) VALUES (:c, 'a@example.com')"), {"c": checkout}
        )
        s.execute(
            text(
                "INSERT INTO reservation (checkout_id, sku, quantity, expires_at) "
                "VALUES (:c, :s, 1, now() + interval '1 minute')"
            ),
            {"c": checkout, "s": f"missing-{uuid.uuid4().hex[:8]}"},
        )
        raise AssertionError("the INSERT itself must fail, not the commit")
