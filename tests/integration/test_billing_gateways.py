"""The stripe renewal gateway against localstripe: pays, declines, never charges twice, and turns an
outage, a dead port, a silent server or a refused key into GatewayUnavailable without the key."""

from __future__ import annotations

import logging
import socket
import threading
import time
import traceback
import uuid

import pytest

from core.billing.gateway import ChargeRequest, Declined, GatewayUnavailable, Succeeded
from core.billing.stripe_gateway import StripeGateway
from tests.support.stripe_server import DECLINE_CARD, OK_CARD, LocalStripe

AUTHENTICATION_CARD = "4000002500003155"  # localstripe: needs 3-D Secure at confirm


@pytest.fixture
def gateway(localstripe: LocalStripe) -> StripeGateway:
    return StripeGateway(localstripe.api_key, localstripe.url, timeout_seconds=5)


def charge(customer: str, method: str, amount: int = 1200) -> ChargeRequest:
    subscription = str(uuid.uuid4())
    return ChargeRequest(
        idempotency_key=f"renewal/{subscription}/2026-11-01T00:00:00Z/1",
        amount=amount,
        currency="EUR",
        customer_ref=customer,
        payment_method_ref=method,
        description="premium renewal from 2026-11-01",
        metadata={"subscription_id": subscription, "period_start": "2026-11-01T00:00:00Z", "attempt": "1"},
    )


def intents_for(localstripe: LocalStripe, request: ChargeRequest) -> list[dict[str, object]]:
    key = request.idempotency_key
    return [i for i in localstripe.payment_intents() if i["metadata"].get("idempotency_key") == key]


def test_a_good_card_pays_once_with_our_metadata(localstripe: LocalStripe, gateway: StripeGateway) -> None:
    request = charge(*localstripe.customer_with_card(OK_CARD))
    reference = gateway.start(request)
    assert isinstance(reference, str)
    assert gateway.settle(reference, request) == Succeeded(reference)
    [intent] = localstripe.succeeded_intents({"subscription_id": request.metadata["subscription_id"]})
    assert intent["id"] == reference
    assert (intent["amount"], intent["currency"], intent["customer"]) == (1200, "eur", request.customer_ref)
    assert intent["metadata"] == {**request.metadata, "idempotency_key": request.idempotency_key}
    assert intent["description"] == request.description


def test_repeats_answer_the_same_payment_and_charge_nothing_new(
    localstripe: LocalStripe, gateway: StripeGateway
) -> None:
    request = charge(*localstripe.customer_with_card(OK_CARD))
    localstripe.honour_idempotency(True)  # as Stripe does (localstripe itself does not)
    try:
        reference = gateway.start(request)
        assert isinstance(reference, str)
        assert gateway.settle(reference, request) == Succeeded(reference)
        assert gateway.start(request) == reference  # the idempotency key names the same intent
    finally:
        localstripe.honour_idempotency(False)
    assert gateway.settle(reference, request) == Succeeded(reference)
    assert [i["id"] for i in intents_for(localstripe, request)] == [reference]
    assert len(localstripe.succeeded_intents({"idempotency_key": request.idempotency_key})) == 1


def test_a_declined_card_is_a_decline_and_settling_again_charges_nothing(
    localstripe: LocalStripe, gateway: StripeGateway
) -> None:
    request = charge(*localstripe.customer_with_card(DECLINE_CARD))
    reference = gateway.start(request)
    assert isinstance(reference, str)
    declined = Declined(reference, "card_declined", "Your card was declined.")
    assert gateway.settle(reference, request) == declined
    assert gateway.settle(reference, request) == declined
    [intent] = intents_for(localstripe, request)
    assert intent["status"] == "requires_payment_method"
    assert intent["latest_charge"]["status"] == "failed"  # type: ignore[index]


def test_a_card_needing_authentication_is_declined_off_session(
    localstripe: LocalStripe, gateway: StripeGateway
) -> None:
    request = charge(*localstripe.customer_with_card(AUTHENTICATION_CARD))
    reference = gateway.start(request)
    assert isinstance(reference, str)
    outcome = gateway.settle(reference, request)
    assert isinstance(outcome, Declined) and outcome.code == "authentication_required"
    assert localstripe.succeeded_intents({"idempotency_key": request.idempotency_key}) == []


def test_a_payment_confirmed_before_the_worker_died_is_read_not_charged_again(
    localstripe: LocalStripe, gateway: StripeGateway
) -> None:
    request = charge(*localstripe.customer_with_card(OK_CARD))
    reference = gateway.start(request)
    assert isinstance(reference, str)
    assert localstripe.confirm(reference)["status"] == "succeeded"  # the dead worker's confirm
    assert gateway.settle(reference, request) == Succeeded(reference)
    assert [i["id"] for i in localstripe.succeeded_intents({"idempotency_key": request.idempotency_key})] == [
        reference
    ]


def test_hold_keeps_a_confirm_answer_back_after_the_payment_went_through(
    localstripe: LocalStripe, gateway: StripeGateway
) -> None:
    request = charge(*localstripe.customer_with_card(OK_CARD))
    reference = gateway.start(request)
    assert isinstance(reference, str)
    outcomes: list[object] = []
    localstripe.hold()
    try:
        settling = threading.Thread(target=lambda: outcomes.append(gateway.settle(reference, request)))
        settling.start()
        assert localstripe.wait_confirmed(timeout=60) == reference
        assert localstripe.succeeded_intents({"idempotency_key": request.idempotency_key})
        assert outcomes == []  # paid at the gateway, not yet answered
    finally:
        localstripe.release()
    settling.join(timeout=60)
    assert outcomes == [Succeeded(reference)]
    localstripe.hold()  # a new hold forgets this confirm: a later wait_confirmed waits for its own
    localstripe.release()
    assert sorted(localstripe.control_dir.glob("confirmed-*")) == []


def test_an_outage_is_unavailable_and_the_payment_settles_after_it(
    localstripe: LocalStripe, gateway: StripeGateway
) -> None:
    request = charge(*localstripe.customer_with_card(OK_CARD))
    reference = gateway.start(request)
    assert isinstance(reference, str)
    localstripe.outage(True)
    try:
        with pytest.raises(GatewayUnavailable, match="503"):
            gateway.start(charge(request.customer_ref, request.payment_method_ref))
        with pytest.raises(GatewayUnavailable, match="503"):
            gateway.settle(reference, request)
    finally:
        localstripe.outage(False)
    assert localstripe.succeeded_intents({"idempotency_key": request.idempotency_key}) == []
    assert gateway.settle(reference, request) == Succeeded(reference)


def test_a_closed_port_is_unavailable_at_once() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # free, and closed once the block ends
    gateway = StripeGateway("sk_test_closed_port", f"http://127.0.0.1:{port}", timeout_seconds=20)
    started = time.monotonic()
    with pytest.raises(GatewayUnavailable, match="APIConnectionError"):
        gateway.start(charge("cus_nobody", "pm_nothing"))
    assert time.monotonic() - started < 5


def test_a_silent_server_is_unavailable_after_the_timeout() -> None:
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)  # connections queue, nothing ever answers
        base = f"http://127.0.0.1:{silent.getsockname()[1]}"
        gateway = StripeGateway("sk_test_silent", base, timeout_seconds=0.5)
        started = time.monotonic()
        with pytest.raises(GatewayUnavailable):
            gateway.settle("pi_silent", charge("cus_nobody", "pm_nothing"))
        assert 0.4 < time.monotonic() - started < 5


def test_a_customer_or_card_stripe_does_not_know_is_an_outage_not_a_decline(
    localstripe: LocalStripe, gateway: StripeGateway
) -> None:
    """A key of another account (or the storefront's wrong ids) must not send every customer to
    dunning: it is retried and dead-lettered for on-call, and nobody is emailed."""
    customer, method = localstripe.customer_with_card(OK_CARD)
    for request in (charge("cus_missing0000", method), charge(customer, "pm_missing0000")):
        with pytest.raises(GatewayUnavailable, match="404"):
            gateway.start(request)
        assert intents_for(localstripe, request) == []


def test_the_api_key_never_shows_in_errors_or_logs(
    localstripe: LocalStripe, caplog: pytest.LogCaptureFixture
) -> None:
    key = f"rk_live_{uuid.uuid4().hex}"  # not sk_: localstripe answers 401 as Stripe does for a bad key
    request = charge(*localstripe.customer_with_card(OK_CARD))
    caplog.set_level(logging.DEBUG)
    expected = {localstripe.url: r"AuthenticationError \(401", "http://127.0.0.1:9": "APIConnectionError"}
    for base, kind in expected.items():
        with pytest.raises(GatewayUnavailable, match=kind) as raised:
            StripeGateway(key, base).start(request)
        error = raised.value
        told = [str(error), error.detail, repr(error), "".join(traceback.format_exception(error))]
        assert all(key[8:] not in text for text in told), told
    assert all(key[8:] not in record.getMessage() for record in caplog.records)
