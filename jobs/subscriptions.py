"""Premium subscription job family (queue `subscriptions`): renewals and renewal reminders."""

from __future__ import annotations

import dramatiq

from core.billing.factory import renewal_gateway
from core.clock import utcnow
from core.logging import get_logger
from services.renewal_reminders import RenewalReminders
from services.renewals import Renewals
from worker.database import database, units_of_work

log = get_logger("backroom.jobs.subscriptions")


def _renewals(broker: dramatiq.Broker) -> Renewals:
    settings = database(broker).settings
    return Renewals(units_of_work(broker), settings, utcnow, lambda name: renewal_gateway(name, settings))


@dramatiq.actor(
    actor_name="subscriptions.renew_due", queue_name="subscriptions", max_retries=3, time_limit=300_000
)
def renew_due() -> None:
    """The `premium-renewals` job: one `subscriptions.renew` message per due subscription
    (services/renewals.py). Safe to run twice or late: each renewal locks and checks again."""
    log.info("subscriptions.renew_due", subscriptions=_renewals(renew_due.broker).renew_due())


# A gateway outage raises GatewayUnavailable: retried with backoff (not a dunning step); the
# hourly job also sends the subscription again while its attempt is open.
@dramatiq.actor(
    actor_name="subscriptions.renew",
    queue_name="subscriptions",
    max_retries=8,
    min_backoff=5_000,
    max_backoff=10 * 60_000,
    time_limit=180_000,
)
def renew(subscription_id: str) -> None:
    """Charge one subscription's due period at most once, or record its dunning step."""
    _renewals(renew.broker).renew_subscription(subscription_id)


@dramatiq.actor(
    actor_name="subscriptions.send_reminders", queue_name="subscriptions", max_retries=3, time_limit=300_000
)
def send_reminders() -> None:
    """The `renewal-reminders` job: one email a period, RENEWAL_REMINDER_DAYS before it renews."""
    broker = send_reminders.broker
    reminders = RenewalReminders(units_of_work(broker), database(broker).settings, utcnow)
    log.info("subscriptions.send_reminders", emails=reminders.send_due())
