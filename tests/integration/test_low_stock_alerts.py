"""Low-stock alerts on real PostgreSQL and Redis: the job through the session's worker (digest row,
email through the local Resend server), once per crossing, re-armed above the threshold, one
digest when two runs race; the Slack delivery against the local Slack server."""

from __future__ import annotations

import json
import threading

import pytest
from pydantic import SecretStr
from sqlalchemy import text

from core.catalog import JOBS, SLACK_ACTOR
from core.clock import utcnow
from core.errors import PermanentError
from core.messages import Outgoing
from core.slack import TransientSlackError
from db.engine import transaction
from db.unit_of_work import UnitsOfWork
from services.alerts import LowStockAlerts
from tests.support import factories
from tests.support.slack_server import SlackServer
from tests.support.waiting import wait_for
from worker.messages import BrokerSender, enqueue


@pytest.fixture
def slack_server():
    with SlackServer() as server:
        yield server


def put(engine, settings, sku, stock, threshold=5, name=None):
    factories.products_service(engine, settings).put_product(
        sku, name=name or f"Item {sku}", stock=stock, low_stock_threshold=threshold, price=100, currency="USD"
    )


def digests_with(engine, sku):
    """Every digest that lists `sku`, oldest first."""
    with transaction(engine) as s:
        return s.execute(
            text("SELECT * FROM low_stock_digest WHERE products @> CAST(:m AS jsonb) ORDER BY id"),
            {"m": json.dumps([{"sku": sku}])},
        ).all()


def alerted_at(engine, sku):
    with transaction(engine) as s:
        return s.execute(
            text("SELECT low_stock_alerted_at FROM product WHERE sku = :s"), {"s": sku}
        ).scalar_one()


def run_job(broker, engine, sku, count):
    """Enqueue the recurring job as the scheduler does and wait for `count` digests listing `sku`."""
    enqueue(broker, "low-stock-alerts")
    return wait_for(
        lambda: (d := digests_with(engine, sku)) and len(d) >= count and d, what=f"digest of {sku}"
    )


def test_the_job_is_scheduled_under_its_name_on_the_alerts_queue():
    job = JOBS["low-stock-alerts"]
    assert (job.actor_name, job.queue) == ("alerts.low_stock", "alerts")
    assert SLACK_ACTOR == ("alerts.slack", "alerts")


def test_one_digest_per_crossing_emailed_to_the_alert_address(
    engine, settings, broker, worker, resend_server
):
    low, out, fine = factories.new_sku("low"), factories.new_sku("out"), factories.new_sku("fine")
    put(engine, settings, low, 3)
    put(engine, settings, out, 0, name="Tea & cups")
    put(engine, settings, fine, 9)
    (digest,) = run_job(broker, engine, low, 1)
    assert digest.slack_state == "none"  # no SLACK_WEBHOOK_URL in these settings
    mine = [p for p in digest.products if p["sku"] in (low, out, fine)]
    assert [p["sku"] for p in mine] == [out, low]  # out of stock first; `fine` is above threshold
    assert mine[1] == {
        "sku": low,
        "name": f"Item {low}",
        "stock": 3,
        "available": 3,
        "threshold": 5,
        "out_of_stock": False,
    }
    key = f"low-stock-digest/{digest.id}"
    email = wait_for(lambda: [e for e in resend_server.emails if e.idempotency_key == key], what=key)[0]
    assert email.body["to"] in ("ops@example.com", ["ops@example.com"])
    assert f"OUT OF STOCK: {out} Tea & cups: stock 0" in email.body["text"]
    assert email.body["text"].index(out) < email.body["text"].index(low)
    assert alerted_at(engine, low) is not None

    # A second run finds no new crossing: no digest lists the product again.
    alerts = LowStockAlerts(UnitsOfWork(engine, BrokerSender(broker)), settings, utcnow)
    alerts.send_low_stock_alerts()
    assert len(digests_with(engine, low)) == 1


def test_stock_back_above_the_threshold_rearms_and_the_next_crossing_alerts_again(
    engine, settings, broker, worker, resend_server
):
    sku = factories.new_sku("rearm")
    put(engine, settings, sku, 2)
    run_job(broker, engine, sku, 1)
    put(engine, settings, sku, 5)  # still at the threshold: not re-armed
    alerts = LowStockAlerts(UnitsOfWork(engine, BrokerSender(broker)), settings, utcnow)
    alerts.send_low_stock_alerts()
    assert len(digests_with(engine, sku)) == 1 and alerted_at(engine, sku) is not None
    put(engine, settings, sku, 6)  # above: the next run re-arms it
    alerts.send_low_stock_alerts()
    assert alerted_at(engine, sku) is None
    put(engine, settings, sku, 1)  # crosses again
    _first, second = run_job(broker, engine, sku, 2)
    assert [p["stock"] for p in second.products if p["sku"] == sku] == [1]
    key = f"low-stock-digest/{second.id}"
    wait_for(lambda: [e for e in resend_server.emails if e.idempotency_key == key], what=key)


def test_two_runs_at_once_send_one_digest(engine, settings, broker):
    for _ in range(5):
        skus = [factories.new_sku("race") for _ in range(12)]
        for sku in skus:
            put(engine, settings, sku, 1)
        sent: list[Outgoing] = []
        units = UnitsOfWork(engine, lambda message, sent=sent: sent.append(message) or "id")
        barrier = threading.Barrier(2)
        results: list[int | None] = []
        errors: list[BaseException] = []

        def run(units=units, barrier=barrier, results=results, errors=errors):
            barrier.wait()
            try:
                results.append(LowStockAlerts(units, settings, utcnow).send_low_stock_alerts())
            except BaseException as error:  # a deadlock or any failure must fail the test
                errors.append(error)

        threads = [threading.Thread(target=run) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert errors == [] and len(results) == 2
        ids = {digest.id for sku in skus for digest in digests_with(engine, sku)}
        assert all(len(digests_with(engine, sku)) == 1 for sku in skus)
        assert len(ids) == 1 and ids <= set(results)  # one run claimed them all, the other none of them
        emails = [m for m in sent if m.actor_name == "email.send"]
        assert len(emails) == len([r for r in results if r is not None])


def test_without_an_alert_address_the_digest_is_still_recorded(engine, settings):
    sku = factories.new_sku("noemail")
    put(engine, settings, sku, 0)
    sent: list[Outgoing] = []
    alerts = LowStockAlerts(
        UnitsOfWork(engine, lambda m: sent.append(m) or "id"),
        settings.model_copy(update={"alert_email": None}),
        utcnow,
    )
    digest_id = alerts.send_low_stock_alerts()
    (digest,) = digests_with(engine, sku)
    assert digest.id == digest_id and digest.email_outbox_id is None and digest.slack_state == "none"
    assert sent == []


def slack_alerts(engine, settings, slack_server, sent):
    with_slack = settings.model_copy(update={"slack_webhook_url": SecretStr(slack_server.webhook_url)})
    return LowStockAlerts(UnitsOfWork(engine, lambda m: sent.append(m) or "id"), with_slack, utcnow)


def test_the_digest_is_posted_to_slack_once(engine, settings, slack_server):
    sku = factories.new_sku("slack")
    put(engine, settings, sku, 0, name="Kettle <big>")
    sent: list[Outgoing] = []
    alerts = slack_alerts(engine, settings, slack_server, sent)
    digest_id = alerts.send_low_stock_alerts()
    assert digest_id is not None
    assert [(m.actor_name, m.queue, m.args) for m in sent if m.actor_name == "alerts.slack"] == [
        ("alerts.slack", "alerts", (digest_id,))
    ]
    (digest,) = digests_with(engine, sku)
    assert digest.slack_state == "pending" and digest.email_outbox_id is not None
    alerts.post_digest_to_slack(digest_id)
    alerts.post_digest_to_slack(digest_id)  # a redelivery: already sent, nothing posted
    (post,) = slack_server.posts
    assert f":red_circle: *OUT OF STOCK* `{sku}` Kettle &lt;big&gt;: stock 0" in post.text
    (digest,) = digests_with(engine, sku)
    assert (digest.slack_state, digest.slack_attempts, digest.slack_error) == ("sent", 1, None)
    assert digest.slack_sent_at is not None


def test_a_slack_500_is_retried_and_then_posted_once(engine, settings, slack_server):
    sku = factories.new_sku("slack500")
    put(engine, settings, sku, 1)
    alerts = slack_alerts(engine, settings, slack_server, [])
    digest_id = alerts.send_low_stock_alerts()
    slack_server.fail_next(1, status=500)
    with pytest.raises(TransientSlackError, match="500"):
        alerts.post_digest_to_slack(digest_id)
    (digest,) = digests_with(engine, sku)
    assert (digest.slack_state, digest.slack_attempts) == ("pending", 1)
    assert "rollup_error" in digest.slack_error and slack_server.webhook_url not in digest.slack_error
    alerts.post_digest_to_slack(digest_id)
    assert len(slack_server.posts) == 1 and slack_server.request_count == 2
    (digest,) = digests_with(engine, sku)
    assert (digest.slack_state, digest.slack_attempts) == ("sent", 2)


def test_a_slack_4xx_fails_the_digest_for_good(engine, settings, slack_server):
    sku = factories.new_sku("slack404")
    put(engine, settings, sku, 1)
    sent: list[Outgoing] = []
    revoked = settings.model_copy(
        update={"slack_webhook_url": SecretStr(slack_server.url + "/services/revoked")}
    )
    alerts = LowStockAlerts(UnitsOfWork(engine, lambda m: sent.append(m) or "id"), revoked, utcnow)
    digest_id = alerts.send_low_stock_alerts()
    with pytest.raises(PermanentError, match="404") as raised:
        alerts.post_digest_to_slack(digest_id)
    assert "revoked" not in str(raised.value)  # the webhook URL is a secret
    alerts.post_digest_to_slack(digest_id)  # failed: not posted again
    (digest,) = digests_with(engine, sku)
    assert (digest.slack_state, digest.slack_attempts) == ("failed", 1) and slack_server.posts == []
    # Replaying its dead letter (services/dead_letters.REOPEN) makes it pending, so the replay posts.
    from services.dead_letters import REOPEN

    with transaction(engine) as s:
        assert REOPEN["alerts.slack"](s, digest_id) is True
    fixed = settings.model_copy(update={"slack_webhook_url": SecretStr(slack_server.webhook_url)})
    LowStockAlerts(UnitsOfWork(engine, lambda m: "id"), fixed, utcnow).post_digest_to_slack(digest_id)
    (digest,) = digests_with(engine, sku)
    assert digest.slack_state == "sent" and len(slack_server.posts) == 1


def test_through_the_session_worker_a_slack_500_is_retried_and_the_digest_posted_once(
    engine, settings, broker, worker, slack_server, monkeypatch
):
    """The worker's own settings get SLACK_WEBHOOK_URL for this test: the job claims the crossing,
    the `alerts.slack` message meets a 500, the retry policy tries again and it posts once."""
    from worker.database import database

    with_slack = settings.model_copy(update={"slack_webhook_url": SecretStr(slack_server.webhook_url)})
    monkeypatch.setattr(database(broker), "settings", with_slack)
    sku = factories.new_sku("slackworker")
    put(engine, settings, sku, 1)
    slack_server.fail_next(1, status=500)
    run_job(broker, engine, sku, 1)
    wait_for(lambda: digests_with(engine, sku)[0].slack_state == "sent", timeout=30, what="the Slack post")
    (digest,) = digests_with(engine, sku)
    assert digest.slack_attempts == 2 and digest.slack_error is None
    assert [p for p in slack_server.posts if sku in p.text] == slack_server.posts and len(
        slack_server.posts
    ) == 1
    assert slack_server.request_count == 2


def test_admin_route_and_cli_list_products_low_now_with_when_alerted(engine, settings, client, cli):
    from tests.conftest import ADMIN, auth

    alerted, pending, fine = factories.new_sku("l-a"), factories.new_sku("l-b"), factories.new_sku("l-c")
    put(engine, settings, alerted, 0)
    LowStockAlerts(
        UnitsOfWork(engine, lambda m: "id"), settings.model_copy(update={"alert_email": None}), utcnow
    ).send_low_stock_alerts()
    put(engine, settings, pending, 4)  # crossed after the run: not alerted yet
    put(engine, settings, fine, 6)
    assert client.simulate_get("/v1/admin/low-stock").status_code == 401
    answer = client.simulate_get("/v1/admin/low-stock", headers=auth(ADMIN))
    assert answer.status_code == 200
    mine = {row["sku"]: row for row in answer.json["items"] if row["sku"] in (alerted, pending, fine)}
    assert set(mine) == {alerted, pending}
    assert mine[alerted]["out_of_stock"] is True and mine[alerted]["alerted_at"] is not None
    assert mine[pending] == {
        "sku": pending,
        "name": f"Item {pending}",
        "stock": 4,
        "available": 4,
        "threshold": 5,
        "out_of_stock": False,
        "alerted_at": None,
    }
    skus = [row["sku"] for row in answer.json["items"]]
    assert all(row["out_of_stock"] for row in answer.json["items"][: skus.index(alerted) + 1])

    code, out = cli("stock", "low")
    assert code == 0
    lines = {line.split()[0]: line for line in out.out.splitlines()[1:]}
    assert "0 (OUT)" in lines[alerted] and "not yet" in lines[pending] and fine not in lines
    code, out = cli("stock", "low", "--json")
    assert code == 0 and {r["sku"]: r for r in json.loads(out.out)}[pending] == mine[pending]


def test_a_restock_between_two_runs_rearms_at_once_so_the_next_crossing_is_not_missed(
    engine, settings, broker
):
    """Found by review: restocked at 10:01 and sold back down by 10:14, the 10:15 run saw no new
    crossing, because only the job re-armed. Stock going above the threshold re-arms now."""
    sku = factories.new_sku("between")
    alerts = LowStockAlerts(UnitsOfWork(engine, BrokerSender(broker)), settings, utcnow)
    put(engine, settings, sku, 2)
    alerts.send_low_stock_alerts()
    assert alerted_at(engine, sku) is not None
    put(engine, settings, sku, 9)  # restocked: re-armed without any run
    assert alerted_at(engine, sku) is None
    put(engine, settings, sku, 3)  # sold back down before the next run
    alerts.send_low_stock_alerts()
    assert len(digests_with(engine, sku)) == 2
