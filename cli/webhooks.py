"""`backroom webhooks sign PROVIDER FILE`: the headers to post FILE's body with, signed.

Prints one `Name: value` line per header, so `curl -H @headers.txt --data-binary @FILE` posts
the body exactly as the provider would. Signs with the provider's configured secret (the first
one during a rotation); in development an unset provider uses its placeholder, as the API does.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.payments import PROVIDERS

if TYPE_CHECKING:
    from core.settings import Settings


def add_parser(sub: Any) -> None:
    webhooks = sub.add_parser("webhooks", help="payment webhooks: sign a body to post it by hand")
    actions = webhooks.add_subparsers(dest="webhooks_command", required=True)
    sign = actions.add_parser("sign", help="print the headers to post FILE's body with, signed")
    sign.add_argument("provider", choices=PROVIDERS)
    sign.add_argument("file", help="the JSON body, posted byte for byte (curl --data-binary @FILE)")
    sign.add_argument("--id", help="Standard Webhooks message id (default: derived from the body)")
    sign.set_defaults(func=run_sign)


def run_sign(args: argparse.Namespace) -> int:
    from core.payments.signing import sign
    from core.settings import WEBHOOK_SECRET_FIELDS

    try:
        body = Path(args.file).read_bytes()
    except OSError as error:
        print(f"backroom: cannot read {args.file}: {error.strerror}", file=sys.stderr)
        return 2
    settings = _load_signing_settings()
    secrets = settings.webhook_secrets(args.provider)
    if not secrets:
        variable = WEBHOOK_SECRET_FIELDS[args.provider].upper()
        print(
            f"backroom: {variable} is not set (APP_ENV={settings.app_env}), "
            f"so the API refuses {args.provider} webhooks; set it to sign with it",
            file=sys.stderr,
        )
        return 2
    headers = sign(args.provider, body, secrets[0], now=time.time(), msg_id=args.id)
    print("Content-Type: application/json")
    for name, value in headers.items():
        print(f"{name}: {value}")
    if args.provider in ("stripe", "standard"):
        print(
            f"backroom: signed now; post it within {settings.webhook_tolerance_seconds} s "
            "(WEBHOOK_TOLERANCE_SECONDS)",
            file=sys.stderr,
        )
    return 0


def _load_signing_settings() -> Settings:
    """Settings for signing alone: it talks to no server, so it needs no server URLs (when
    they are set they are still read and validated, like every other variable)."""
    from pydantic import ValidationError

    from core.settings import Settings, describe_error

    class SigningSettings(Settings):
        database_url: str = "postgresql://unused"
        redis_url: str = "redis://unused"

    try:
        return SigningSettings()  # type: ignore[call-arg]
    except ValidationError as error:
        print(f"backroom: {describe_error(error)}", file=sys.stderr)
        raise SystemExit(2) from None
