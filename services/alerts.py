"""Low-stock alerts: the `low-stock-alerts` job's use case and what operators read.

`LowStockAlerts.send_low_stock_alerts` runs in one transaction: re-arm products whose stock rose
above their threshold, claim the products that newly crossed it (one UPDATE ... RETURNING, so two
runs or two workers at once claim each crossing once), and, if any, record one digest with an
outbox email to ALERT_EMAIL and, when SLACK_WEBHOOK_URL is set, a pending Slack post; both are
sent after commit. `post_digest_to_slack` delivers that post once. `list_low_stock` is the
operators' view: products at or below threshold now, with when each was alerted.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from core.catalog import EMAIL_ACTOR, SLACK_ACTOR
from core.errors import PermanentError
from core.logging import get_logger
from core.rules import alerts as rules
from core.settings import Settings
from core.slack import SlackRejected, TransientSlackError, post_message
from db.queries import alerts as q
from db.queries import outbox
from db.unit_of_work import UnitsOfWork
from services.unsent import mark_unsent_if_unsent

log = get_logger("backroom.services.alerts")


def slack_url(settings: Settings) -> str | None:
    """SLACK_WEBHOOK_URL, or None when it is unset or blank."""
    secret = settings.slack_webhook_url
    url = secret.get_secret_value().strip() if secret is not None else ""
    return url or None


@dataclass(frozen=True)
class LowStockAlerts:
    units: UnitsOfWork
    settings: Settings
    now: Callable[[], datetime]

    def send_low_stock_alerts(self) -> int | None:
        """Alert every newly crossed product in one digest; the digest's id, None when nothing
        crossed. Safe to run twice and late: a crossing is claimed once, and re-armed only once
        stock is above the threshold again."""
        now = self.now()
        with self.units.begin() as uow:
            rearmed = q.rearm(uow.session)
            claimed = q.claim_crossed(uow.session, now)
            if not claimed:
                log.info("alerts.low_stock.none", rearmed=len(rearmed))
                return None
            available = q.available_for(uow.session, [r.sku for r in claimed], now)
            lines = rules.digest_order(
                rules.LowStockLine(r.sku, r.name, r.stock, available.get(r.sku, 0), r.threshold)
                for r in claimed
            )
            slack = slack_url(self.settings) is not None
            digest_id = q.insert_digest(
                uow.session, [line.as_json() for line in lines], slack_state="pending" if slack else "none"
            )
            email_id = None
            if self.settings.alert_email:
                email_id = outbox.add_email(
                    uow.session,
                    key=f"low-stock-digest/{digest_id}",
                    template="low_stock_digest",
                    to=self.settings.alert_email,
                    context=rules.email_context(lines),
                )
            if email_id is not None:
                q.set_digest_email(uow.session, digest_id, email_id)
                unsent = mark_unsent_if_unsent(self.units, outbox.STUCK, email_id)
                uow.send_after_commit(*EMAIL_ACTOR, email_id, if_unsent=unsent)
            if slack:
                uow.send_after_commit(*SLACK_ACTOR, digest_id)
        if email_id is None and not slack:
            log.warning("alerts.low_stock.no_channel", digest_id=digest_id, action="set ALERT_EMAIL")
        log.info(
            "alerts.low_stock.digest",
            digest_id=digest_id,
            products=len(lines),
            out_of_stock=sum(line.out_of_stock for line in lines),
            rearmed=len(rearmed),
            email=email_id is not None,
            slack=slack,
        )
        return digest_id

    def post_digest_to_slack(self, digest_id: int) -> None:
        """Post a `pending` digest to the Slack webhook once and mark it `sent`; any other state
        is left alone. The row stays locked during the post, so two deliveries post once. 429,
        5xx and timeouts raise for a retry; another 4xx marks it `failed` and raises a
        `PermanentError`; a missing row or no SLACK_WEBHOOK_URL is a `PermanentError` too."""
        failure: Exception | None = None
        with self.units.begin() as uow:
            row = q.lock_digest(uow.session, digest_id)
            if row is None:
                raise PermanentError(f"no low-stock digest {digest_id}")
            if row.slack_state != "pending":
                log.info("alerts.slack.skip", digest_id=digest_id, state=row.slack_state)
                return
            url = slack_url(self.settings)
            if url is None:
                q.record_slack_attempt(
                    uow.session,
                    digest_id,
                    sent=False,
                    error="SLACK_WEBHOOK_URL is not set",
                    failed=True,
                    now=self.now(),
                )
                failure = PermanentError(f"digest {digest_id}: SLACK_WEBHOOK_URL is not set")
            else:
                lines = [rules.LowStockLine.from_json(p) for p in row.products]
                try:
                    post_message(url, rules.slack_text(lines))
                except SlackRejected as error:
                    failure = error
                except TransientSlackError as error:
                    failure = error
                q.record_slack_attempt(
                    uow.session,
                    digest_id,
                    sent=failure is None,
                    error=str(failure) if failure else None,
                    failed=isinstance(failure, PermanentError),
                    now=self.now(),
                )
        if failure is not None:  # recorded first: the attempt is committed, then the retry policy decides
            log.warning("alerts.slack.failed", digest_id=digest_id, error=str(failure))
            raise failure
        log.info("alerts.slack.sent", digest_id=digest_id)

    def list_low_stock(self) -> list[dict[str, Any]]:
        """Products at or below threshold now, out of stock first: JSON-ready dicts."""
        with self.units.begin() as uow:
            rows = q.low_stock_now(uow.session, self.now())
        return [
            {
                "sku": r.sku,
                "name": r.name,
                "stock": r.stock,
                "available": int(r.available),
                "threshold": r.threshold,
                "out_of_stock": r.stock <= 0,
                "alerted_at": r.alerted_at.isoformat() if r.alerted_at else None,
            }
            for r in rows
        ]
