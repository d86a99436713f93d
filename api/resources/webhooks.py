"""`POST /v1/webhooks/{provider}`: verify, store once, enqueue, answer 200 at once."""

from __future__ import annotations

import falcon
import structlog

from api.ratelimit import RateLimit
from api.validation import read_raw
from core.errors import BackroomError
from services.webhooks import Webhooks


class WebhookResource:
    """Payment provider webhooks: Stripe, Paystack, Razorpay and Standard Webhooks.

    services/webhooks.py checks the signature on the raw bytes before anything is stored (400
    if it fails), inserts a verified event once per (provider, event id) and enqueues its id
    after commit. Duplicates answer 200 and are not processed again. With the database down
    the answer is 503, so the provider retries.

    Rate limits are counted here, after the signature check: verified events in the
    `webhooks` bucket, everything that fails (unknown provider, too large, bad signature)
    in the smaller `webhooks_invalid` one, so a flood of junk from an address cannot push
    a provider's genuine events into 429.
    """

    auth = "webhook-signature"
    rate_limit = None  # counted by the resource, in one of two buckets

    def __init__(self, webhooks: Webhooks, limiter: RateLimit, max_body_bytes: int) -> None:
        self.webhooks = webhooks
        self.limiter = limiter
        self.max_body_bytes = max_body_bytes

    def on_post(self, req: falcon.Request, resp: falcon.Response, provider: str) -> None:
        verified = False

        def count_verified() -> None:  # 429 once genuine events have used their budget
            nonlocal verified
            verified = True
            self.limiter.hit(req, resp, "webhooks")

        try:
            self.webhooks.check_provider(provider)  # 404 / 503 before a byte of the body is read
            body = read_raw(req, self.max_body_bytes)
            headers = {name.lower(): value for name, value in req.headers.items()}
            received = self.webhooks.receive_webhook(provider, body, headers, on_verified=count_verified)
        except (falcon.HTTPError, BackroomError):
            if not verified:
                self.limiter.hit(req, resp, "webhooks_invalid")  # 429 once junk has used its budget
            raise
        # The request's access line (api/request_context.py) names the event: one line a request.
        structlog.contextvars.bind_contextvars(
            provider=provider,
            event_id=received.event_id,
            event_type=received.event_type,
            duplicate=received.duplicate,
        )
        resp.media = {"received": True, "duplicate": received.duplicate}
