"""Real processes at the edge: chunked bodies through gunicorn, the forwarded client in its log,
and the worker's metrics exporter on WORKER_METRICS_PORT."""

import http.client
import uuid

import requests

from tests.conftest import ADMIN, STOREFRONT, auth, make_settings
from tests.e2e.conftest import free_port, process_env, wait_http
from tests.support.payloads import body, signed
from tests.support.waiting import wait_for


def _chunked(port, method, path, raw, headers):
    """Send `raw` with Transfer-Encoding: chunked (no Content-Length), as http.client does for iterables."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        parts = [raw[i : i + 700] for i in range(0, len(raw), 700)]
        connection.request(method, path, body=iter(parts), headers=headers, encode_chunked=True)
        answer = connection.getresponse()
        return answer.status, answer.read()
    finally:
        connection.close()


def test_gunicorn_reads_chunked_bodies_to_the_limit_and_logs_the_forwarded_client(settings, start_process):
    port = free_port()
    small = make_settings(settings.database_url, settings.redis_url, max_body_bytes=1024)
    env = process_env(small, PORT=str(port), WEB_CONCURRENCY="1", TRUSTED_PROXIES="127.0.0.1/32")
    web = start_process("web", env)
    wait_http(f"http://127.0.0.1:{port}/health", web)
    json_headers = {**auth(STOREFRONT), "Content-Type": "application/json"}

    status, text = _chunked(port, "PUT", "/v1/products/e2e-chunked", b'{"stock": -1}', json_headers)
    assert status == 422 and b'"field"' in text  # read and validated, not taken for an empty body
    status, _ = _chunked(port, "PUT", "/v1/products/e2e-chunked", b"[" + b"1," * 2000 + b"1]", json_headers)
    assert status == 413

    marker = f"pay-{uuid.uuid4().hex[:10]}"
    raw, headers = signed("paystack", body("paystack", "succeeded", checkout_id=marker, payment_id=marker))
    status, text = _chunked(port, "POST", "/v1/webhooks/paystack", raw, headers)
    assert status == 200 and b'"duplicate": false' in text

    form = {"Content-Type": "application/x-www-form-urlencoded"}
    status, _ = _chunked(port, "POST", "/admin/login", f"token={ADMIN}&pad={'x' * 2000}".encode(), form)
    assert status == 413

    answer = requests.get(
        f"http://127.0.0.1:{port}/health", headers={"X-Forwarded-For": "198.51.100.7"}, timeout=5
    )
    assert answer.status_code == 200
    wait_for(lambda: "client=198.51.100.7" in web.log_path.read_text(), timeout=10, what="access log line")


def test_the_worker_exporter_answers_on_worker_metrics_port(settings, start_process):
    port = free_port()
    worker = start_process("worker-stock", process_env(settings, WORKER_METRICS_PORT=str(port)))

    def scraped():
        if worker.poll() is not None:
            raise AssertionError("worker exited:\n" + worker.log_path.read_text()[-3000:])
        try:
            return requests.get(f"http://127.0.0.1:{port}/", timeout=1).status_code == 200
        except requests.RequestException:
            return False

    wait_for(scraped, timeout=30, interval=0.2, what=f"exporter on {port}")
