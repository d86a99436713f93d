"""Load balancers probe with HEAD: /health and /ready answer it like GET, without a body."""

import falcon.testing

from api.app import create_app
from tests.conftest import make_settings


def test_head_health_and_ready(client):
    for path in ("/health", "/ready"):
        answer = client.simulate_head(path)
        assert answer.status_code == 200, path
        assert answer.content == b""


def test_head_ready_is_503_when_a_dependency_is_down(settings, engine):
    broken = make_settings(settings.database_url, "redis://127.0.0.1:1/0")
    answer = falcon.testing.TestClient(create_app(broken, engine=engine)).simulate_head("/ready")
    assert answer.status_code == 503 and answer.content == b""
