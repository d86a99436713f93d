"""Low-stock alerts job family (queue `alerts`): the recurring digest and its Slack delivery."""

from __future__ import annotations

import dramatiq

from core.clock import utcnow
from services.alerts import LowStockAlerts
from worker.database import database, units_of_work


@dramatiq.actor(actor_name="alerts.low_stock", queue_name="alerts", max_retries=3, time_limit=120_000)
def send_low_stock_alerts() -> None:
    """Alert every product newly at or below its threshold in one digest (services/alerts.py).

    Idempotent; safe to run twice, late, or on two workers at once."""
    broker = send_low_stock_alerts.broker
    LowStockAlerts(units_of_work(broker), database(broker).settings, utcnow).send_low_stock_alerts()


@dramatiq.actor(
    actor_name="alerts.slack", queue_name="alerts", max_retries=10, min_backoff=2_000, max_backoff=15 * 60_000
)
def post_low_stock_digest_to_slack(digest_id: int) -> None:
    """Post one pending digest to SLACK_WEBHOOK_URL once; 5xx and timeouts are retried, a 4xx
    fails the message for good."""
    broker = post_low_stock_digest_to_slack.broker
    LowStockAlerts(units_of_work(broker), database(broker).settings, utcnow).post_digest_to_slack(digest_id)
