"""A cleanup run is bounded (batches, seconds); a backlog larger than one run is cleared by the
job sending itself again after its last commit, until nothing past expiry is left."""

import uuid

from sqlalchemy import text

from core.clock import utcnow
from core.messages import Outgoing
from db.engine import transaction
from db.unit_of_work import UnitsOfWork
from services.reservations import MAX_BATCHES_PER_RUN, Reservations
from tests.support.factories import store_product
from tests.support.waiting import wait_for
from worker.messages import BrokerSender

BATCH = 2


def _backlog(engine, settings, holds):
    """A product with `holds` expired active holds (one unit each), counted as reservations count
    them; its SKU."""
    sku = store_product(engine, settings, holds + 5)
    run = uuid.uuid4().hex[:8]
    with transaction(engine) as s:
        s.execute(
            text(
                "INSERT INTO checkout (checkout_id, email) "
                "SELECT :run || '-' || n, 'x@example.com' FROM generate_series(1, :holds) AS n"
            ),
            {"run": run, "holds": holds},
        )
        s.execute(
            text(
                "INSERT INTO reservation (checkout_id, sku, quantity, expires_at) "
                "SELECT :run || '-' || n, :sku, 1, now() - interval '1 minute' "
                "FROM generate_series(1, :holds) AS n"
            ),
            {"run": run, "sku": sku, "holds": holds},
        )
        s.execute(text("UPDATE product SET reserved = :holds WHERE sku = :sku"), {"holds": holds, "sku": sku})
    return sku


def _left(engine, sku):
    """(active holds, the product's counter)."""
    with transaction(engine) as s:
        return s.execute(
            text(
                "SELECT (SELECT count(*) FROM reservation WHERE sku = :sku AND state = 'active'), "
                "(SELECT reserved FROM product WHERE sku = :sku)"
            ),
            {"sku": sku},
        ).one()


def test_each_run_is_bounded_and_sends_the_job_again_until_the_backlog_is_gone(engine, settings):
    one_run = MAX_BATCHES_PER_RUN * BATCH
    sku = _backlog(engine, settings, 2 * one_run + 3)
    sent: list[Outgoing] = []
    cleanup = Reservations(
        UnitsOfWork(engine, sent.append),
        settings.model_copy(update={"stock_cleanup_batch_size": BATCH}),
        utcnow,
    )
    runs = 0
    while True:  # each message sent is the next run, as the worker would take it
        runs += 1
        assert cleanup.expire_reservations() <= one_run
        if not sent:
            break
        assert [(m.actor_name, m.queue, m.args) for m in sent] == [("stock.cleanup_expired", "stock", ())]
        sent.clear()
        assert runs < 10, "the chain does not end"
    assert runs >= 3  # other tests' expired holds may make it longer, never shorter
    assert tuple(_left(engine, sku)) == (0, 0)


def test_the_worker_takes_over_a_run_that_reached_its_bound(engine, broker, worker, settings):
    sku = _backlog(engine, settings, MAX_BATCHES_PER_RUN * BATCH + 40)
    first_run = Reservations(
        UnitsOfWork(engine, BrokerSender(broker)),
        settings.model_copy(update={"stock_cleanup_batch_size": BATCH}),
        utcnow,
    )
    assert first_run.expire_reservations() == MAX_BATCHES_PER_RUN * BATCH
    wait_for(lambda: tuple(_left(engine, sku)) == (0, 0), what="the re-sent job to clear the rest")
