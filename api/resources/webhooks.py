"""`POST /v1/webhooks/{provider}`: verify, store once, enqueue, answer 200 at once."""

from __future__ import annotations

import falcon
from sqlalchemy.exc import DataError, DBAPIError

from api.deps import Deps
from api.errors import Problem
from api.ratelimit import RateLimit
from api.validation import loads, read_raw
from core.logging import get_logger
from core.payments import PROVIDERS, PayloadError, SignatureError, event_key, verify
from core.payments.signatures import NO_MATCH
from db.engine import transaction
from db.queries import webhooks as webhooks_q
from db.queries.stuck_intents import mark_unsent
from db.queries.webhooks import store_event
from worker.messages import send_webhook_message

log = get_logger("backroom.api.webhooks")
# Headers kept with the event: what parsing needs (event ids) and what helps a person debugging.
KEPT_HEADERS = ("webhook-", "x-razorpay-", "x-paystack-", "stripe-", "content-type", "user-agent")


class Webhook:
    """Payment provider webhooks: Stripe, Paystack, Razorpay and Standard Webhooks.

    The signature is checked on the raw bytes before anything is stored (400 if it
    fails); a verified event is inserted once per (provider, event id) and its id
    enqueued after commit. Duplicates answer 200 and are not processed again.
    With the database down the answer is 503, so the provider retries.

    Rate limits are counted here, after the signature check: verified events in the
    `webhooks` bucket, everything that fails (unknown provider, too large, bad signature)
    in the smaller `webhooks_invalid` one, so a flood of junk from an address cannot push
    a provider's genuine events into 429.
    """

    auth = "webhook-signature"
    rate_limit = None  # counted by the resource, in one of two buckets

    def __init__(self, deps: Deps) -> None:
        self.deps = deps
        self.limiter = RateLimit(deps.settings, deps.redis)

    def on_post(self, req: falcon.Request, resp: falcon.Response, provider: str) -> None:
        try:
            body, headers = self._verified(req, provider)
        except falcon.HTTPError:
            self.limiter.hit(req, resp, "webhooks_invalid")  # 429 once junk has used its budget
            raise
        self.limiter.hit(req, resp, "webhooks")
        self._store(req, resp, provider, body, headers)

    def _verified(self, req: falcon.Request, provider: str) -> tuple[bytes, dict[str, str]]:
        """The raw body and lower-cased headers of a request whose signature checks out."""
        settings = self.deps.settings
        if provider not in PROVIDERS:
            raise Problem(
                404,
                "unknown-provider",
                "Unknown provider",
                f"No webhook provider {provider!r}; known: {', '.join(PROVIDERS)}.",
            )
        secrets = settings.webhook_secrets(provider)
        if not secrets:
            raise Problem(
                503,
                "provider-not-configured",
                "Provider not configured",
                f"No secret is configured for {provider}.",
                headers={"Retry-After": "300"},
            )
        body = read_raw(req, settings.max_body_bytes)
        headers = {name.lower(): value for name, value in req.headers.items()}
        try:
            verify(
                provider,
                body,
                headers,
                secrets,
                now=self.deps.now(),
                tolerance=settings.webhook_tolerance_seconds,
            )
        except SignatureError as error:
            detail = error.reason
            if detail == NO_MATCH:  # the usual causes, said where the sender reads them
                detail += ": check the secret, and send the body byte for byte as signed (curl --data-binary)"
            raise Problem(400, "invalid-signature", "Invalid signature", detail) from None
        return body, headers

    def _mark_unsent(self, row_id: int) -> None:
        """So the reconciler sends it after its grace, not after a whole retry span."""
        try:
            with transaction(self.deps.engine) as session:
                mark_unsent(session, webhooks_q.STUCK, [row_id])
        except Exception as error:  # best effort: the reconciler still finds it, later
            log.warning("webhooks.mark_unsent_failed", event_row_id=row_id, error=type(error).__name__)

    def _store(
        self, req: falcon.Request, resp: falcon.Response, provider: str, body: bytes, headers: dict[str, str]
    ) -> None:
        """Parse the verified body, insert the event once, enqueue it after commit."""
        payload = loads(body)
        if not isinstance(payload, dict):
            raise Problem(400, "invalid-payload", "Invalid payload", "The body must be a JSON object.")
        try:
            event_id, event_type = event_key(provider, payload, headers)
        except PayloadError as error:
            raise Problem(
                400,
                "invalid-payload",
                "Invalid payload",
                str(error),
                errors=[{"field": error.field, "message": "missing or invalid"}],
            ) from None
        kept = {k: v for k, v in headers.items() if k.startswith(KEPT_HEADERS) and "signature" not in k}
        try:
            with transaction(self.deps.engine) as session:
                row_id = store_event(
                    session,
                    provider=provider,
                    event_id=event_id,
                    event_type=event_type,
                    payload=payload,
                    headers=kept,
                )
        except DataError:
            # e.g. a \u0000 escape, which PostgreSQL's jsonb refuses: retrying cannot help.
            raise Problem(
                400,
                "invalid-payload",
                "Invalid payload",
                "The event cannot be stored (it contains characters PostgreSQL refuses).",
            ) from None
        except DBAPIError as error:
            log.error("webhooks.store_failed", provider=provider, error=type(error.orig).__name__)
            raise Problem(
                503,
                "unavailable",
                "Service unavailable",
                "Could not store the event; retry later.",
                headers={"Retry-After": "30"},
            ) from None
        if row_id is not None:
            try:
                send_webhook_message(self.deps.broker, row_id)
            except Exception as error:  # stored is what counts: the reconciler will enqueue it
                log.warning("webhooks.enqueue_failed", event_row_id=row_id, error=str(error))
                self._mark_unsent(row_id)
        log.info(
            "webhooks.received",
            provider=provider,
            event_id=event_id,
            event_type=event_type,
            duplicate=row_id is None,
        )
        resp.media = {"received": True, "duplicate": row_id is None}
