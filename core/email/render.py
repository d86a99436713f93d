"""Email templates: one HTML and one plain-text Jinja2 template per email, subject included.

`templates/<name>.txt` holds the text body and a `{% block subject %}`; `templates/<name>.html`
holds the HTML body, autoescaped, and sees the rendered subject as `email_subject`.
The Jinja2 environment is built on first use and cached: importing this module reads nothing.

Contexts, by template:
- `order_confirmation`: order_id, email, lines (each with sku, name, quantity), total, currency.
  `total` is in major units (Decimal, int, float or a numeric string: 25, "25.00").
- `payment_failed`: checkout_id, reason.
- `operator_alert`: subject, message, details (a dict shown as a key/value table).
- `abandoned_cart`: step, items (each with sku, name, quantity, price in major units or None,
  currency), cart_url, unsubscribe_url (also sent as the List-Unsubscribe header).
- `low_stock_digest`: subject, out_of_stock (a count), products (each with sku, name, stock,
  available, threshold, out_of_stock), out-of-stock ones first.
- Premium renewals (services/renewal_emails.py) share subscription_id, plan, amount (major units,
  a numeric string) and currency; dates are strings as the customer reads them (UTC):
  - `renewal_receipt`: period_start, period_end, reference (the gateway's payment id).
  - `renewal_failed`: reason (the decline in the customer's words), billing_url, retry_at.
  - `subscription_lapsed`: reason, billing_url.
  - `renewal_reminder`: renews_on.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

import jinja2

from core.errors import PermanentError
from core.rules.money import ZERO_DECIMAL_CURRENCIES

TEMPLATES = frozenset(
    {
        "order_confirmation",
        "payment_failed",
        "operator_alert",
        "low_stock_digest",
        "abandoned_cart",
        "renewal_receipt",
        "renewal_failed",
        "subscription_lapsed",
        "renewal_reminder",
    }
)


@dataclass(frozen=True)
class RenderedEmail:
    """A rendered email: one-line subject, HTML body and plain-text body."""

    subject: str
    html: str
    text: str


class EmailTemplateError(PermanentError):
    """An unknown template or a context missing a value the template needs; retrying cannot fix it."""


def format_money(amount: Decimal | int | float | str, currency: str) -> str:
    """`format_money("1234.5", "eur")` -> `"1,234.50 EUR"` (no decimals for JPY and the like)."""
    try:
        value = Decimal(str(amount))
    except InvalidOperation as error:
        raise EmailTemplateError(f"amount {amount!r} is not a number") from error
    code = currency.upper()
    places = 0 if code in ZERO_DECIMAL_CURRENCIES else 2
    return f"{value:,.{places}f} {code}"


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    """The shared environment: templates from this package, HTML autoescaped, undefined values fatal."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("core.email", "templates"),
        autoescape=jinja2.select_autoescape(
            enabled_extensions=("html",), default_for_string=False, default=False
        ),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["money"] = format_money
    return env


def _render_subject(template: jinja2.Template, context: dict[str, Any]) -> str:
    block = template.blocks.get("subject")
    if block is None:
        raise EmailTemplateError(f"{template.name} has no subject block")
    subject = "".join(block(template.new_context(context)))
    return " ".join(subject.split())  # one line: a newline in a header would be an injection


def render(template_name: str, context: dict[str, Any]) -> RenderedEmail:
    """Render the named email with `context`; raises `EmailTemplateError` for bad names or contexts."""
    if template_name not in TEMPLATES:
        raise EmailTemplateError(f"unknown email template {template_name!r}")
    env = environment()
    try:
        text_template = env.get_template(f"{template_name}.txt")
        subject = _render_subject(text_template, context)
        text = text_template.render(context).strip() + "\n"
        html = env.get_template(f"{template_name}.html").render({**context, "email_subject": subject})
    except jinja2.UndefinedError as error:
        raise EmailTemplateError(f"{template_name}: {error.message}") from error
    return RenderedEmail(subject=subject, html=html, text=text)
