"""Low-stock alerts through the Procfile's processes: worker-alerts runs the job and posts to a local
Slack-speaking server, worker-email sends the digest to a local Resend-speaking server. Two runs at
once send one digest; a Slack 500 is retried and posted once; a re-armed product alerts again."""

from __future__ import annotations

import json
import subprocess
import uuid

from sqlalchemy import text

from db.engine import make_engine, transaction
from tests.e2e.conftest import BIN, ROOT, process_env
from tests.support import factories
from tests.support.slack_server import SlackServer
from tests.support.waiting import wait_for


def test_a_crossing_is_one_digest_by_email_and_slack_and_a_new_crossing_another(
    settings, start_process, resend_server
):
    # A Redis namespace of its own: a session worker of the integration tests, if this process
    # started one, consumes the session namespace's `alerts` queue with settings that have no Slack.
    settings = settings.model_copy(update={"redis_namespace": f"brtest-alerts-{uuid.uuid4().hex[:8]}"})
    engine = make_engine(settings)
    with SlackServer() as slack:
        env = process_env(settings, SLACK_WEBHOOK_URL=slack.webhook_url)
        workers = [start_process("worker-alerts", env), start_process("worker-email", env)]
        out, low = factories.new_sku("e2e-out"), factories.new_sku("e2e-low")
        products = factories.products_service(engine, settings)

        def put(sku, stock):
            products.put_product(
                sku, name=f"Item {sku}", stock=stock, low_stock_threshold=3, price=100, currency="USD"
            )

        def digests(sku):
            with transaction(engine) as s:
                return s.execute(
                    text("SELECT * FROM low_stock_digest WHERE products @> CAST(:m AS jsonb) ORDER BY id"),
                    {"m": json.dumps([{"sku": sku}])},
                ).all()

        def run_job_twice_at_once():
            runs = [
                subprocess.Popen(
                    [str(BIN / "backroom"), "jobs", "run", "low-stock-alerts"],
                    cwd=ROOT,
                    env=env,
                    stdout=subprocess.DEVNULL,
                )
                for _ in range(2)
            ]
            assert [run.wait(timeout=30) for run in runs] == [0, 0]

        def posted(sku):
            return [post for post in slack.posts if f"`{sku}`" in post.text]

        put(out, 0)
        put(low, 2)
        slack.fail_next(1, status=500)  # the first post meets a 500: retried with backoff
        run_job_twice_at_once()
        (digest,) = wait_for(lambda: digests(out), timeout=20, what="the digest")
        assert [p["sku"] for p in digest.products if p["sku"] in (out, low)] == [out, low]
        key = f"low-stock-digest/{digest.id}"
        (email,) = wait_for(
            lambda: [e for e in resend_server.emails if e.idempotency_key == key], timeout=20, what=key
        )
        assert email.body["text"].index(f"OUT OF STOCK: {out}") < email.body["text"].index(low)
        (post,) = wait_for(lambda: posted(out), timeout=30, what="the Slack post")
        assert post.text.index(out) < post.text.index(low) and ":red_circle: *OUT OF STOCK*" in post.text
        wait_for(lambda: digests(out)[0].slack_state == "sent", what="the digest marked sent")
        assert digests(out)[0].slack_attempts == 2 and len(digests(low)) == 1

        put(low, 4)  # above the threshold: the next run re-arms it
        run_job_twice_at_once()
        wait_for(
            lambda: all(w.poll() is None for w in workers) and _alerted(engine, low) is None, what="re-arm"
        )
        put(low, 1)  # a new crossing
        run_job_twice_at_once()
        wait_for(lambda: len(digests(low)) == 2, timeout=20, what="the second digest")
        second = digests(low)[1]
        assert [p["stock"] for p in second.products if p["sku"] == low] == [1]
        assert out not in [p["sku"] for p in second.products]  # still alerted: its crossing is not over
        wait_for(lambda: len(posted(low)) == 2, timeout=20, what="the second Slack post")
        key = f"low-stock-digest/{second.id}"
        wait_for(lambda: [e for e in resend_server.emails if e.idempotency_key == key], timeout=20, what=key)
        assert len(digests(low)) == 2 and len(posted(low)) == 2 and len(posted(out)) == 1
        for worker in workers:
            log = worker.log_path.read_text()  # type: ignore[attr-defined]
            assert slack.webhook_url not in log and "xoxtestsecret" not in log
    engine.dispose()


def _alerted(engine, sku):
    with transaction(engine) as s:
        return s.execute(
            text("SELECT low_stock_alerted_at FROM product WHERE sku = :s"), {"s": sku}
        ).scalar_one()
