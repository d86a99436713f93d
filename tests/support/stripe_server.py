"""localstripe (a fake Stripe API) in a process of its own, plus helpers that talk to it over HTTP.

`python -m tests.support.stripe_server --control-dir DIR` serves on 127.0.0.1 (a free port, written
to DIR/port). The launcher adjusts the fake where it differs from Stripe or would leak between
parallel test processes: no pickle store in /tmp, `off_session` accepted on confirm, `description`
accepted on create. Switches are files in DIR: `outage` (every /v1 request answers 503), `hold` (a
confirm's answer waits, after the payment went through and `confirmed-<id>` was written, until
`hold` is removed) so a test can kill a worker between the gateway's charge and our record of it,
and `idempotency` (`Idempotency-Key` honoured on POST as Stripe does: same key and body, the first
answer again; same key, other body, 400 idempotency_error). That last one is OFF by default, as in
localstripe itself: the renewal tests must show that our own rows, not the gateway's key cache
(which Stripe keeps only 24 hours), stop a second charge.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import socket
import subprocess
import sys
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests

from tests.support.waiting import wait_for

ROOT = Path(__file__).resolve().parents[2]
OK_CARD, DECLINE_CARD = "4242424242424242", "4000000000000341"


class LocalStripe:
    """A running localstripe process: `.url` for STRIPE_API_BASE, `.api_key` for STRIPE_API_KEY."""

    def __init__(self, control_dir: Path) -> None:
        self.control_dir = control_dir
        self.api_key = f"sk_test_backroom_{uuid.uuid4().hex[:16]}"
        self.url = ""
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> LocalStripe:
        command = [
            sys.executable,
            "-m",
            "tests.support.stripe_server",
            "--control-dir",
            str(self.control_dir),
        ]
        with open(self.control_dir / "server.log", "wb") as log:
            process = subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=log, start_new_session=True)
        self._process = process
        port_file = self.control_dir / "port"
        wait_for(lambda: process.poll() is not None or port_file.exists(), timeout=30, what="localstripe")
        assert process.poll() is None, (self.control_dir / "server.log").read_text()[-3000:]
        self.url = f"http://127.0.0.1:{port_file.read_text().strip()}"
        wait_for(self._answers, timeout=30, what="localstripe to answer")
        return self

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            self._process.wait(timeout=10)

    def _answers(self) -> bool:
        try:
            return self._get("/v1/customers", limit=1).status_code == 200
        except (requests.ConnectionError, requests.Timeout):  # refused, or still starting: not yet
            return False

    # Switches.
    def hold(self) -> None:
        """Hold confirms' answers from now on; `wait_confirmed` sees only confirms held after this."""
        for earlier in self.control_dir.glob("confirmed-*"):
            earlier.unlink()
        (self.control_dir / "hold").touch()

    def release(self) -> None:
        (self.control_dir / "hold").unlink(missing_ok=True)

    def wait_confirmed(self, timeout: float = 30.0) -> str:
        """The id of a payment confirmed since `hold()` (its answer still waiting; by name if several)."""
        found = wait_for(
            lambda: sorted(self.control_dir.glob("confirmed-*")), timeout=timeout, what="a held confirm"
        )
        return found[0].name.removeprefix("confirmed-")

    def outage(self, on: bool) -> None:
        flag = self.control_dir / "outage"
        flag.touch() if on else flag.unlink(missing_ok=True)

    def honour_idempotency(self, on: bool) -> None:
        flag = self.control_dir / "idempotency"
        flag.touch() if on else flag.unlink(missing_ok=True)

    # Data, straight over HTTP (never through backroom's gateway).
    def customer_with_card(self, card_number: str = OK_CARD) -> tuple[str, str]:
        """A new customer with a card attached: (customer id, payment method id)."""
        customer = self._post("/v1/customers", {"email": f"{uuid.uuid4().hex[:8]}@example.com"})["id"]
        card = {"card[number]": card_number, "card[exp_month]": "12", "card[exp_year]": "2030"}
        method = self._post("/v1/payment_methods", {"type": "card", **card, "card[cvc]": "123"})["id"]
        self._post(f"/v1/payment_methods/{method}/attach", {"customer": customer})
        return customer, method

    def confirm(self, intent_id: str) -> dict[str, Any]:
        """Confirm a payment directly, as a worker that died before recording the answer did."""
        return self._post(f"/v1/payment_intents/{intent_id}/confirm", {}, check=False)

    def payment_intents(self) -> list[dict[str, Any]]:
        intents: list[dict[str, Any]] = []
        while True:
            after = {"starting_after": intents[-1]["id"]} if intents else {}
            page = self._get("/v1/payment_intents", limit=100, **after).json()
            intents += page["data"]
            if not page["has_more"]:
                return intents

    def succeeded_intents(self, metadata_filter: dict[str, str] | None = None) -> list[dict[str, Any]]:
        wanted = (metadata_filter or {}).items()
        return [
            i
            for i in self.payment_intents()
            if i["status"] == "succeeded" and wanted <= i["metadata"].items()
        ]

    def _get(self, path: str, **params: Any) -> requests.Response:
        return requests.get(self.url + path, params=params, auth=(self.api_key, ""), timeout=10)

    def _post(self, path: str, data: dict[str, str], *, check: bool = True) -> dict[str, Any]:
        response = requests.post(self.url + path, data=data, auth=(self.api_key, ""), timeout=10)
        if check:
            assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body


def _patch_localstripe(control_dir: Path) -> Any:
    """Import localstripe's app with the launcher's adjustments (see the module docstring)."""
    from aiohttp import web
    from localstripe import resources

    resources.Store.dump_to_disk = lambda self: None
    resources.Store.try_load_from_disk = lambda self: None
    create = resources.PaymentIntent._api_create

    def create_with_description(cls: Any, description: str | None = None, **data: Any) -> Any:
        intent = create(**data)
        intent.description = description
        return intent

    resources.PaymentIntent._api_create = classmethod(create_with_description)
    confirm = resources.PaymentIntent._api_confirm

    def confirm_off_session(id: str, off_session: Any = None, **data: Any) -> Any:
        return confirm(id, **data)

    # The routes are built from `extra_apis` when the server module is imported: patch it first.
    for index, (method, url, _func) in enumerate(resources.extra_apis):
        if url == "/v1/payment_intents/{id}/confirm":
            resources.extra_apis[index] = (method, url, confirm_off_session)
    from localstripe import server

    answers: dict[str, tuple[str, int, bytes]] = {}

    @web.middleware
    async def outage(request: web.Request, handler: Callable[..., Any]) -> web.StreamResponse:
        if request.path.startswith("/v1/") and (control_dir / "outage").exists():
            error = {"type": "api_error", "message": "localstripe: simulated outage"}
            return web.json_response({"error": error}, status=503)
        response: web.StreamResponse = await handler(request)
        return response

    @web.middleware
    async def hold(request: web.Request, handler: Callable[..., Any]) -> web.StreamResponse:
        response: web.StreamResponse = await handler(request)
        if request.method == "POST" and request.path.endswith("/confirm") and (control_dir / "hold").exists():
            intent_id = request.path.split("/")[3]
            (control_dir / f"confirmed-{intent_id}").write_text(str(response.status))
            while (control_dir / "hold").exists():
                await asyncio.sleep(0.05)
        return response

    @web.middleware
    async def idempotency(request: web.Request, handler: Callable[..., Any]) -> web.StreamResponse:
        key = request.headers.get("Idempotency-Key")
        if request.method != "POST" or not key or not (control_dir / "idempotency").exists():
            return await handler(request)
        scope = f"{request.headers.get('Authorization')}|{key}"
        fingerprint = hashlib.sha256(f"{request.path}|".encode() + await request.read()).hexdigest()
        if scope in answers:
            first, status, body = answers[scope]
            if first != fingerprint:
                message = "Keys for idempotent requests can only be used with the same parameters."
                return web.json_response(
                    {"error": {"type": "idempotency_error", "message": message}}, status=400
                )
            return web.Response(status=status, body=body, content_type="application/json")
        response = await handler(request)
        if response.status < 500:
            answers[scope] = (fingerprint, response.status, response.body)
        return response

    for index, middleware in enumerate((outage, hold, idempotency)):
        server.app.middlewares.insert(index, middleware)
    return server.app


def main() -> None:
    from aiohttp import web

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--control-dir", type=Path, required=True)
    args = parser.parse_args()
    app = _patch_localstripe(args.control_dir)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", args.port))
    (args.control_dir / "port.tmp").write_text(str(sock.getsockname()[1]))
    os.replace(args.control_dir / "port.tmp", args.control_dir / "port")  # never read half-written
    web.run_app(app, sock=sock, print=None, access_log=None)


if __name__ == "__main__":
    main()
