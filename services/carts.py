"""Carts and the abandoned-cart sequence: the storefront reports carts, the job reminds.

`Carts.put_cart` records activity (a PUT that changes the items starts a new sequence: its number
goes up, so its steps are new idempotency keys); `Carts.send_abandoned_cart_emails` is the
`abandoned-carts` job: it locks the due carts (SKIP LOCKED, so two runs at once never pick one),
queues each one's next step once (`cart_email` is unique per cart, sequence and step; the outbox
key is `abandoned-cart/{cart_id}/{sequence}/{step}`), and sends after commit. Whether the cart is
still active is checked again by the email service right before the email goes
(`cart_email_skip_reason`). Safe to run twice and late: a late run sends the next step only.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session

from core.catalog import EMAIL_ACTOR
from core.errors import BackroomError, NotFound
from core.logging import get_logger
from core.rules import carts as rules
from core.rules.money import major_units
from core.settings import Settings
from db.queries import carts as q
from db.queries import outbox
from db.unit_of_work import UnitsOfWork
from services.reservations import unknown_skus
from services.unsent import mark_unsent_if_unsent

log = get_logger("backroom.services.carts")

TEMPLATE = "abandoned_cart"
BATCH_SIZE = 200
MAX_BATCHES_PER_RUN = 50


class CartNotFound(NotFound):
    slug, title = "cart-not-found", "Cart not found"


class BadUnsubscribeToken(BackroomError):
    status, slug, title, exit_code = 400, "bad-unsubscribe-token", "Invalid unsubscribe link", 2


def email_key(cart_id: str, sequence: int, step: int) -> str:
    return f"abandoned-cart/{cart_id}/{sequence}/{step}"


@dataclass(frozen=True)
class PutCart:
    cart: dict[str, Any]
    created: bool


@dataclass(frozen=True)
class Carts:
    units: UnitsOfWork
    settings: Settings
    now: Callable[[], datetime]
    batch_size: int = BATCH_SIZE

    # -- the storefront -------------------------------------------------------------------------

    def put_cart(
        self,
        cart_id: str,
        *,
        items: Sequence[tuple[str, int]],
        email: str | None = None,
        marketing_consent: bool = False,
        updated_at: datetime | None = None,
    ) -> PutCart:
        """Record the cart as the storefront sees it now. A converted or unsubscribed cart keeps
        its state; the last activity is `updated_at` (never later than now, never earlier than
        what is recorded), else now."""
        now = self.now()
        activity = min(updated_at, now) if updated_at is not None else now
        wanted = rules.normalise_items(items)
        stored = [{"sku": sku, "quantity": qty} for sku, qty in wanted]
        with self.units.begin() as uow:
            session = uow.session
            self._check_skus(session, [sku for sku, _ in wanted], items)
            values: dict[str, Any] = {"email": email, "consent": marketing_consent, "items": stored}
            created = q.insert_cart(session, cart_id, activity_at=activity, now=now, **values)
            if not created:
                cart = q.lock_cart(session, cart_id)
                assert cart is not None  # carts are never deleted by a request
                old = [(i["sku"], int(i["quantity"])) for i in cart.items]
                new_sequence = rules.starts_new_sequence(old, wanted)
                activity = max(activity, cart.last_activity_at)
                q.update_cart(
                    session, cart_id, activity_at=activity, new_sequence=new_sequence, now=now, **values
                )
            view = self._view(session, cart_id)
        return PutCart(view, created)

    def get_cart(self, cart_id: str) -> dict[str, Any]:
        with self.units.begin() as uow:
            return self._view(uow.session, cart_id)

    def unsubscribe(self, cart_id: str) -> dict[str, Any]:
        """No more reminders for this cart, whatever its state; idempotent."""
        with self.units.begin() as uow:
            if not q.set_state(uow.session, cart_id, "unsubscribed", self.now()):
                raise CartNotFound(f"No cart {cart_id!r}.")
            view = self._view(uow.session, cart_id)
        log.info("carts.unsubscribed", cart_id=cart_id)
        return view

    def unsubscribe_by_token(self, token: str | None) -> dict[str, Any]:
        """The email's one-click link: the token names the cart and proves we signed it."""
        return self.unsubscribe(self._token_cart_id(token))

    def cart_for_token(self, token: str | None) -> dict[str, Any]:
        """The cart an unsubscribe link names (for its confirmation page); changes nothing."""
        return self.get_cart(self._token_cart_id(token))

    def _token_cart_id(self, token: str | None) -> str:
        cart_id = rules.verify_unsubscribe_token(self._secret(), token) if token else None
        if cart_id is None:
            raise BadUnsubscribeToken("This unsubscribe link is missing its token or is not valid.")
        return cart_id

    def unsubscribe_url(self, cart_id: str) -> str:
        token = rules.unsubscribe_token(self._secret(), cart_id)
        return f"{self.settings.public_base_url.rstrip('/')}/v1/carts/unsubscribe?token={token}"

    # -- the job --------------------------------------------------------------------------------

    def send_abandoned_cart_emails(self) -> int:
        """Queue the due step of every due cart, one bounded batch a transaction, and send each
        email after its batch commits: how many were queued."""
        steps = rules.parse_steps(self.settings.abandoned_cart_steps)
        seconds = [int(step.total_seconds()) for step in steps]
        total = 0
        # Carts this run already looked at: a cart whose step it just queued may be due for the
        # next one at once (idle for days), and one step a run is the rule.
        seen: list[str] = []
        for _ in range(MAX_BATCHES_PER_RUN):
            with self.units.begin() as uow:
                now = self.now()
                due = q.lock_due_carts(uow.session, seconds, now, self.batch_size, exclude=seen)
                seen += [cart.cart_id for cart in due]
                for cart in due:
                    outbox_id = self._queue_step(uow.session, cart, steps, now)
                    if outbox_id is not None:
                        unsent = mark_unsent_if_unsent(self.units, outbox.STUCK, outbox_id)
                        uow.send_after_commit(*EMAIL_ACTOR, outbox_id, if_unsent=unsent)
                        total += 1
            if len(due) < self.batch_size:
                break
        log.info("carts.reminders_queued", emails=total)
        return total

    def _queue_step(self, session: Session, cart: Any, steps: Sequence[Any], now: datetime) -> int | None:
        # The row is locked: check again with the rule what the query selected.
        if cart.state != "active" or not cart.marketing_consent or not cart.email or not cart.items:
            return None
        step = rules.due_step(steps, cart.step_sent, cart.last_activity_at, now)
        if step is None:
            return None
        q.advance_step(session, cart.cart_id, step, now)
        cart_email_id = q.add_cart_email(session, cart.cart_id, cart.sequence, step, now)
        if cart_email_id is None:  # already queued (an earlier run that could not advance)
            return None
        outbox_id = outbox.add_email(
            session,
            key=email_key(cart.cart_id, cart.sequence, step),
            template=TEMPLATE,
            to=cart.email,
            context=self._context(session, cart, step),
        )
        if outbox_id is None:
            return None
        q.link_outbox(session, cart_email_id, outbox_id)
        return outbox_id

    def _context(self, session: Session, cart: Any, step: int) -> dict[str, Any]:
        products = q.priced_products(session, [i["sku"] for i in cart.items])
        lines = []
        for item in cart.items:
            product = products.get(item["sku"])
            priced = (
                product if product is not None and product.price is not None and product.currency else None
            )
            lines.append(
                {
                    "sku": item["sku"],
                    "name": product.name if product is not None else item["sku"],
                    "quantity": int(item["quantity"]),
                    "price": str(major_units(priced.price, priced.currency)) if priced else None,
                    "currency": priced.currency if priced else None,
                }
            )
        return {
            "cart_id": cart.cart_id,
            "sequence": cart.sequence,
            "step": step,
            "items": lines,
            "cart_url": self.settings.cart_url_template.replace("{cart_id}", cart.cart_id),
            "unsubscribe_url": self.unsubscribe_url(cart.cart_id),
        }

    # -- helpers --------------------------------------------------------------------------------

    def _secret(self) -> str:
        return self.settings.internal_api_secret.get_secret_value()

    @staticmethod
    def _check_skus(session: Session, skus: list[str], items: Sequence[tuple[str, int]]) -> None:
        known = q.priced_products(session, skus)
        missing = {sku for sku in skus if sku not in known}
        if missing:
            raise unknown_skus(items, missing)

    @staticmethod
    def _view(session: Session, cart_id: str) -> dict[str, Any]:
        cart = q.get_cart(session, cart_id)
        if cart is None:
            raise CartNotFound(f"No cart {cart_id!r}.")
        return {
            "cart_id": cart.cart_id,
            "state": cart.state,
            "email": cart.email,
            "marketing_consent": cart.marketing_consent,
            "items": cart.items,
            "sequence": cart.sequence,
            "step_sent": cart.step_sent,
            "last_activity_at": cart.last_activity_at.isoformat(),
            "emails": [
                {
                    "sequence": e.sequence,
                    "step": e.step,
                    "queued_at": e.queued_at.isoformat(),
                    "state": e.email_state,
                }
                for e in q.emails_sent(session, cart_id)
            ],
        }


def cart_email_skip_reason(session: Session, context: dict[str, Any]) -> str | None:
    """Why an abandoned-cart email must not go now (checked right before sending), or None: the
    cart converted, unsubscribed, or its items changed since (a new sequence owns the reminders)."""
    cart = q.get_cart(session, str(context.get("cart_id")))
    if cart is None:
        return "the cart no longer exists"
    if cart.state != "active":
        return f"the cart is {cart.state}"
    if not cart.marketing_consent or not cart.email:
        return "the cart no longer has marketing consent and an email"
    if cart.sequence != context.get("sequence"):
        return "the cart's items changed since this reminder was queued"
    return None
