"""Receiving a payment provider's webhook: verify, store once, send its id after commit.

The signature is checked on the raw bytes before anything is stored; a verified event is
inserted once per (provider, event id) and its row id sent to `webhooks.process` after commit.
A duplicate is acknowledged and not processed again. With the database down the answer is
"unavailable", so the provider retries.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.exc import DataError, DBAPIError

from core.catalog import WEBHOOK_ACTOR
from core.errors import BackroomError, NotFound, Unavailable
from core.logging import get_logger
from core.payments import PROVIDERS, PayloadError, SignatureError, event_key, verify
from core.payments.signatures import NO_MATCH
from core.settings import Settings
from db.intake import SingleStatements
from db.queries.webhooks import STUCK, store_event
from db.unit_of_work import UnitsOfWork
from services.unsent import mark_unsent_if_unsent

log = get_logger("backroom.services.webhooks")
# Headers kept with the event: what parsing needs (event ids) and what helps a person debugging.
KEPT_HEADERS = ("webhook-", "x-razorpay-", "x-paystack-", "stripe-", "content-type", "user-agent")


class UnknownProvider(NotFound):
    slug, title = "unknown-provider", "Unknown provider"


class ProviderNotConfigured(Unavailable):
    slug, title = "provider-not-configured", "Provider not configured"


class BadWebhook(BackroomError):
    """A request the provider must not send again as it is (400)."""

    status, exit_code = 400, 2


class InvalidSignature(BadWebhook):
    slug, title = "invalid-signature", "Invalid signature"


class MalformedJson(BadWebhook):
    slug, title = "malformed-json", "Malformed JSON"


class InvalidPayload(BadWebhook):
    slug, title = "invalid-payload", "Invalid payload"


@dataclass(frozen=True)
class Received:
    event_id: str
    event_type: str
    duplicate: bool


@dataclass(frozen=True)
class Webhooks:
    """`intake` stores the event (db/intake.py): the INSERT commits as it returns, in one round
    trip, and its message goes after that; `units` is the ordinary engine."""

    units: UnitsOfWork
    settings: Settings
    now: Callable[[], datetime]
    intake: SingleStatements

    def check_provider(self, provider: str) -> list[str]:
        """The provider's accepted secrets: 404 for an unknown provider, 503 for one with none."""
        if provider not in PROVIDERS:
            raise UnknownProvider(f"No webhook provider {provider!r}; known: {', '.join(PROVIDERS)}.")
        secrets = self.settings.webhook_secrets(provider)
        if not secrets:
            raise ProviderNotConfigured(
                f"No secret is configured for {provider}.", headers={"Retry-After": "300"}
            )
        return secrets

    def receive_webhook(
        self,
        provider: str,
        body: bytes,
        headers: Mapping[str, str],
        *,
        on_verified: Callable[[], None] = lambda: None,
    ) -> Received:
        """Verify `body` (the raw bytes) with lower-cased `headers`, store the event once and
        send its id after commit. `on_verified` runs once the signature checks out and before
        anything else: the API counts the request there, and an error it raises stops here."""
        secrets = self.check_provider(provider)
        try:
            verify(
                provider,
                body,
                headers,
                secrets,
                now=self.now(),
                tolerance=self.settings.webhook_tolerance_seconds,
            )
        except SignatureError as error:
            detail = error.reason
            if detail == NO_MATCH:  # the usual causes, said where the sender reads them
                detail += ": check the secret, and send the body byte for byte as signed (curl --data-binary)"
            raise InvalidSignature(detail) from None
        on_verified()
        payload = _parse(body)
        try:
            event_id, event_type = event_key(provider, payload, headers)
        except PayloadError as error:
            raise InvalidPayload(
                str(error), errors=[{"field": error.field, "message": "missing or invalid"}]
            ) from None
        kept = {k: v for k, v in headers.items() if k.startswith(KEPT_HEADERS) and "signature" not in k}
        try:
            with self.intake.begin() as statement:  # ONE statement: it commits as it returns
                row_id = store_event(
                    statement.connection,
                    provider=provider,
                    event_id=event_id,
                    event_type=event_type,
                    payload=_as_text(body, payload),
                    headers=kept,
                )
                if row_id is not None:  # stored is what counts: a failed send is the reconciler's
                    unsent = mark_unsent_if_unsent(self.units, STUCK, row_id)
                    statement.send_after_commit(*WEBHOOK_ACTOR, row_id, if_unsent=unsent)
        except DataError:
            # e.g. a \u0000 escape, which PostgreSQL's jsonb refuses: retrying cannot help.
            raise InvalidPayload(
                "The event cannot be stored (it contains characters PostgreSQL refuses)."
            ) from None
        except DBAPIError as error:
            log.error("webhooks.store_failed", provider=provider, error=type(error.orig).__name__)
            raise Unavailable(
                "Could not store the event; retry later.", headers={"Retry-After": "30"}
            ) from None
        return Received(event_id, event_type, duplicate=row_id is None)


def _as_text(body: bytes, payload: dict[str, Any]) -> str:
    """The body as PostgreSQL will parse it into jsonb: as received when it is UTF-8 (a BOM
    dropped; json.loads also took UTF-16 and UTF-32), else the parsed payload written out again."""
    try:
        return body.decode("utf-8-sig")
    except UnicodeDecodeError:
        return json.dumps(payload)


def _parse(body: bytes) -> dict[str, Any]:
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError) as error:
        raise MalformedJson(f"The body is not valid JSON: {error}") from None
    if not isinstance(payload, dict):
        raise InvalidPayload("The body must be a JSON object.")
    return payload
