"""Email templates: every template renders, HTML escapes what customers typed, text has no markup."""

from __future__ import annotations

import re
import subprocess
import sys
from decimal import Decimal
from typing import Any

import pytest

from core.email.render import EmailTemplateError, format_money, render
from core.errors import PermanentError

ORDER: dict[str, Any] = {
    "order_id": "ord_123",
    "email": "ada@example.com",
    "lines": [
        {"sku": "mug-1", "name": "Mug", "quantity": 2},
        {"sku": "tee-m", "name": "T-shirt & socks", "quantity": 1},
    ],
    "total": Decimal("42.50"),
    "currency": "eur",
}
CONTEXTS: dict[str, dict[str, Any]] = {
    "order_confirmation": ORDER,
    "payment_failed": {"checkout_id": "chk_9", "reason": "Your card was declined."},
    "operator_alert": {
        "subject": "Late payment needs attention",
        "message": "A payment arrived after its reservations expired.",
        "details": {"order_id": "ord_7", "checkout_id": "chk_7", "shortage": "mug-1 x 2"},
    },
}
TAG = re.compile(r"</?[a-zA-Z][^>]*>")


@pytest.mark.parametrize("name", sorted(CONTEXTS))
def test_every_template_renders_a_subject_html_and_text(name):
    email = render(name, CONTEXTS[name])
    assert email.subject and "\n" not in email.subject
    assert email.html.lstrip().startswith("<!doctype html>") and f"<title>{email.subject}" in email.html
    assert email.text.strip() and not TAG.search(email.text) and "&amp;" not in email.text


def test_order_confirmation_shows_lines_total_and_address():
    email = render("order_confirmation", ORDER)
    assert email.subject == "Your order ord_123 is confirmed"
    for part in ("mug-1", "2 x Mug", "1 x T-shirt & socks (tee-m)", "42.50 EUR", "ada@example.com"):
        assert part in email.text
    assert "T-shirt &amp; socks" in email.html and "<td>mug-1</td>" in email.html
    assert "42.50 EUR" in email.html


def test_html_escapes_user_input_and_text_keeps_it_verbatim():
    evil = '<script>alert("x")</script>'
    context = {**ORDER, "lines": [{"sku": "s<1>", "name": evil, "quantity": 1}], "email": "a@b.c<img>"}
    email = render("order_confirmation", context)
    assert "<script>" not in email.html and "<img>" not in email.html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in email.html and "s&lt;1&gt;" in email.html
    assert evil in email.text  # plain text is not HTML: nothing to escape


def test_operator_alert_lists_every_detail_and_escapes_them():
    context = {**CONTEXTS["operator_alert"], "details": {"sku": "<b>x</b>", "count": 3}}
    email = render("operator_alert", context)
    assert email.subject == "[backroom] Late payment needs attention"
    assert "- sku: <b>x</b>" in email.text and "- count: 3" in email.text
    assert "&lt;b&gt;x&lt;/b&gt;" in email.html and "<th" in email.html


def test_subject_is_one_line_even_if_input_has_newlines():
    email = render("operator_alert", {**CONTEXTS["operator_alert"], "subject": "a\r\nBcc: x@y.z"})
    assert email.subject == "[backroom] a Bcc: x@y.z"


def test_payment_failed_names_checkout_and_reason():
    email = render("payment_failed", CONTEXTS["payment_failed"])
    assert "chk_9" in email.text and "Your card was declined." in email.text
    assert "<strong>chk_9</strong>" in email.html


def test_missing_value_or_unknown_template_is_a_permanent_error():
    with pytest.raises(EmailTemplateError, match="reason"):
        render("payment_failed", {"checkout_id": "chk_9"})
    with pytest.raises(PermanentError, match="unknown email template"):
        render("nope", {})


@pytest.mark.parametrize(
    ("amount", "currency", "shown"),
    [(Decimal("1234.5"), "eur", "1,234.50 EUR"), (7, "USD", "7.00 USD"), ("1500", "jpy", "1,500 JPY")],
)
def test_format_money(amount, currency, shown):
    assert format_money(amount, currency) == shown


def test_importing_reads_no_template():
    code = "import core.email, core.email.render as r; assert r.environment.cache_info().currsize == 0"
    subprocess.run([sys.executable, "-c", code], check=True)


# Premium renewals: contexts as services/renewal_emails.py builds them (amount: major units, a string).
RENEWAL = {"subscription_id": "sub_1", "plan": "Premium", "amount": "12.5", "currency": "EUR"}
BILLING = "https://shop.example.com/billing/sub_1"
RENEWAL_CONTEXTS: dict[str, dict[str, Any]] = {
    "renewal_receipt": RENEWAL
    | {"period_start": "31 January 2027", "period_end": "28 February 2027", "reference": "pi_123"},
    "renewal_failed": RENEWAL
    | {
        "reason": "your bank declined the payment",
        "billing_url": BILLING,
        "retry_at": "1 February 2027, 09:00 UTC",
    },
    "subscription_lapsed": RENEWAL | {"reason": "the card has expired", "billing_url": BILLING},
    "renewal_reminder": RENEWAL | {"renews_on": "28 February 2027"},
}


@pytest.mark.parametrize(
    ("name", "subject"),
    [
        ("renewal_receipt", "Your Premium subscription is renewed"),
        ("renewal_failed", "We could not renew your Premium subscription"),
        ("subscription_lapsed", "Your Premium subscription has ended"),
        ("renewal_reminder", "Your Premium subscription renews on 28 February 2027"),
    ],
)
def test_renewal_emails_have_their_subject_and_the_amount_in_major_units(name, subject):
    email = render(name, RENEWAL_CONTEXTS[name])
    assert email.subject == subject
    assert email.html.lstrip().startswith("<!doctype html>") and f"<title>{subject}" in email.html
    assert "12.50 EUR" in email.text and "12.50 EUR" in email.html  # "12.5" shown with its cents
    assert email.text.strip() and not TAG.search(email.text)


def test_renewal_receipt_names_the_period_and_the_payment():
    email = render("renewal_receipt", RENEWAL_CONTEXTS["renewal_receipt"])
    assert "Period: 31 January 2027 to 28 February 2027" in email.text
    assert "Payment reference: pi_123" in email.text and "<td>pi_123</td>" in email.html
    assert "billing" not in email.text  # nothing to fix: no card-update link


@pytest.mark.parametrize("name", ["renewal_failed", "subscription_lapsed"])
def test_failure_and_lapsed_emails_link_to_the_billing_page_and_say_why(name):
    context = RENEWAL_CONTEXTS[name]
    email = render(name, context)
    assert BILLING in email.text and f'href="{BILLING}"' in email.html
    assert context["reason"] in email.text and context["reason"] in email.html


def test_renewal_failed_says_when_it_tries_again():
    email = render("renewal_failed", RENEWAL_CONTEXTS["renewal_failed"])
    assert "We will try again on 1 February 2027, 09:00 UTC." in email.text


def test_renewal_reminder_shows_the_amount_and_date_of_a_zero_decimal_currency():
    email = render(
        "renewal_reminder", RENEWAL | {"amount": "1500", "currency": "JPY", "renews_on": "1 March 2027"}
    )
    assert "renews on 1 March 2027: we will charge 1,500 JPY" in email.text
    assert "<strong>1,500 JPY</strong>" in email.html


def test_renewal_emails_escape_the_plan_name_in_html():
    context = RENEWAL_CONTEXTS["renewal_failed"] | {"plan": "<b>Gold</b>"}
    email = render("renewal_failed", context)
    assert "<b>Gold</b>" not in email.html and "&lt;b&gt;Gold&lt;/b&gt;" in email.html
    assert email.subject == "We could not renew your <b>Gold</b> subscription"
