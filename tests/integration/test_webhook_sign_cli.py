"""`backroom webhooks sign PROVIDER FILE`, run as a user runs it: its headers pass the providers'
SDKs and our API, and the README's "Try it" ends with a paid order (issue 7)."""

import base64
import json
import os
import re
import subprocess
import sys
import uuid
from pathlib import Path

import falcon.testing
import pytest
import standardwebhooks
import stripe
from pydantic import SecretStr

from api.app import create_app
from core.settings import DEV_SECRETS, DEV_WEBHOOK_SECRETS, WEBHOOK_SECRET_FIELDS
from tests.conftest import auth
from tests.support.payloads import body
from tests.support.signing import sign_paystack, sign_razorpay
from tests.support.waiting import wait_for

ROOT = Path(__file__).resolve().parents[2]
PROVIDERS = list(WEBHOOK_SECRET_FIELDS)
NEW_SECRETS = {
    "stripe": "whsec_rotated_in_stripe_secret_01",
    "paystack": "sk_test_rotated_in_paystack_01",
    "razorpay": "rotated-in-razorpay-secret-01",
    "standard": "whsec_" + base64.b64encode(b"rotated-in standard key 01").decode(),
}


def sign_cli(tmp_path, provider, raw, **env_extra):
    """Run the console command in a directory of its own, no secret or server URL in its env."""
    (tmp_path / "event.json").write_bytes(raw)
    env = {
        k: v
        for k, v in os.environ.items()
        if k.upper() not in {f.upper() for f in WEBHOOK_SECRET_FIELDS.values()}
        and k not in ("DATABASE_URL", "REDIS_URL", "APP_ENV")
    }
    env.update({"BACKROOM_VAR_DIR": str(tmp_path / "var"), "APP_ENV": "development", **env_extra})
    done = subprocess.run(
        [str(Path(sys.executable).parent / "backroom"), "webhooks", "sign", provider, "event.json"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return done


def headers_of(done):
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert all(re.fullmatch(r"[A-Za-z-]+: \S.*", line) for line in lines), lines  # ready for curl -H
    return dict(line.split(": ", 1) for line in lines)


def _payload(provider):
    marker = uuid.uuid4().hex[:10]
    return json.dumps(body(provider, "succeeded", checkout_id=f"co-{marker}", payment_id=marker)).encode()


def test_stripe_headers_pass_the_stripe_sdk_with_the_development_secret(tmp_path):
    raw = _payload("stripe")
    headers = headers_of(sign_cli(tmp_path, "stripe", raw))
    assert headers["Content-Type"] == "application/json"
    secret = DEV_WEBHOOK_SECRETS["stripe"]
    event = stripe.Webhook.construct_event(raw.decode(), headers["Stripe-Signature"], secret, tolerance=300)
    assert event["type"] == "payment_intent.succeeded"
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.WebhookSignature.verify_header(raw.decode(), headers["Stripe-Signature"], "whsec_other")


def test_other_providers_agree_with_their_sdks_or_an_independent_signer(tmp_path):
    raw = _payload("standard")
    standard = headers_of(sign_cli(tmp_path, "standard", raw))
    assert standardwebhooks.Webhook(DEV_WEBHOOK_SECRETS["standard"]).verify(raw, standard) == json.loads(raw)
    again = headers_of(sign_cli(tmp_path, "standard", raw))
    assert again["webhook-id"] == standard["webhook-id"]  # the same file is the same message
    paystack = headers_of(sign_cli(tmp_path, "paystack", raw))
    assert (
        paystack["x-paystack-signature"]
        == sign_paystack(raw, DEV_WEBHOOK_SECRETS["paystack"])["x-paystack-signature"]
    )
    razorpay = headers_of(sign_cli(tmp_path, "razorpay", raw))
    assert razorpay == {
        "Content-Type": "application/json",
        **sign_razorpay(raw, DEV_WEBHOOK_SECRETS["razorpay"]),
    }


@pytest.mark.parametrize("provider", PROVIDERS)
def test_signed_with_the_configured_secret_the_api_answers_200(tmp_path, settings, engine, provider):
    field = WEBHOOK_SECRET_FIELDS[provider]
    rotation = f"{NEW_SECRETS[provider]},{settings.webhook_secrets(provider)[0]}"
    configured = settings.model_copy(update={field: SecretStr(rotation)})
    client = falcon.testing.TestClient(create_app(configured, engine=engine))
    raw = _payload(provider)
    done = sign_cli(tmp_path, provider, raw, APP_ENV="test", **{field.upper(): rotation})
    answer = client.simulate_post(f"/v1/webhooks/{provider}", body=raw, headers=headers_of(done))
    assert answer.status_code == 200, answer.text
    # It signed with the new secret, the first of the rotation: the old one alone refuses it.
    old_only = create_app(
        settings.model_copy(update={field: SecretStr(rotation.split(",")[1])}), engine=engine
    )
    refused = falcon.testing.TestClient(old_only).simulate_post(
        f"/v1/webhooks/{provider}", body=raw, headers=headers_of(done)
    )
    assert refused.status_code == 400


def test_outside_development_an_unset_provider_is_named_not_signed(tmp_path):
    done = sign_cli(tmp_path, "stripe", b"{}", APP_ENV="test")
    assert done.returncode == 2 and done.stdout == ""
    assert "STRIPE_WEBHOOK_SECRET is not set" in done.stderr


def _try_it():
    readme = (ROOT / "README.md").read_text()
    block = readme[readme.index("Try it") : readme.index("## Processes")]
    product, reservation = re.findall(r"-d '(\{.*?\})'", block, re.DOTALL)
    event = re.search(r"cat > event.json <<'EOF'\n(.*?\n)EOF\n", block, re.DOTALL)
    assert event and "backroom webhooks sign stripe event.json" in block
    return json.loads(product), json.loads(reservation), event.group(1)


def test_the_readme_try_it_ends_with_a_paid_order(tmp_path, settings, engine, worker):
    """The README's own bodies, with ids made unique, in development with no webhook secret."""
    laptop_token = DEV_SECRETS["internal_api_secret"]  # a fresh checkout: every placeholder in place
    development = settings.model_copy(
        update={
            "app_env": "development",
            "stripe_webhook_secret": None,
            "internal_api_secret": SecretStr(laptop_token),
        }
    )
    client = falcon.testing.TestClient(create_app(development, engine=engine))
    product, reservation, event = _try_it()
    marker = uuid.uuid4().hex[:8]
    sku, checkout = f"mug-{marker}", f"c-{marker}"
    h = auth(laptop_token)
    assert client.simulate_put(f"/v1/products/{sku}", json=product, headers=h).status_code == 201
    reservation["items"][0]["sku"] = sku
    reserved = client.simulate_post(f"/v1/checkouts/{checkout}/reservation", json=reservation, headers=h)
    assert reserved.status_code == 201, reserved.text
    assert (reserved.json["amount"], reserved.json["currency"]) == (2400, "USD")
    raw = (
        event.replace('"c-1"', f'"{checkout}"')
        .replace("evt_try_1", f"evt_{marker}")
        .replace("pi_try_1", f"pi_{marker}")
        .encode()
    )
    posted = client.simulate_post(
        "/v1/webhooks/stripe", body=raw, headers=headers_of(sign_cli(tmp_path, "stripe", raw))
    )
    assert posted.status_code == 200 and posted.json == {"received": True, "duplicate": False}

    def order():
        answer = client.simulate_get(f"/v1/checkouts/{checkout}/order", headers=h)
        return answer.json if answer.status_code == 200 else None

    paid = wait_for(order, timeout=30, what="the paid order")
    assert (paid["state"], paid["amount"], paid["lines"]) == ("paid", 2400, [{"sku": sku, "quantity": 2}])
    stock = client.simulate_get(f"/v1/products/{sku}", headers=h).json
    assert (stock["stock"], stock["reserved"], stock["available"]) == (8, 0, 8)
