"""A command whose server does not answer says which one in one line and exits 5 (unavailable),
instead of a driver's chained tracebacks (found by a new operator with a wrong BROKER_URL)."""

import pytest

from cli.main import main


@pytest.mark.parametrize(
    ("variable", "value", "named"),
    [
        ("REDIS_URL", "redis://127.0.0.1:1/0", "cannot reach Redis (REDIS_URL)"),
        ("BROKER_URL", "amqp://guest:S3cretAmqpPw@127.0.0.1:1/%2F", "cannot reach RabbitMQ (BROKER_URL)"),
    ],
)
def test_backroom_queues_names_the_server_it_cannot_reach(
    settings, monkeypatch, capsys, variable, value, named
):
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    monkeypatch.setenv("REDIS_URL", settings.redis_url)
    monkeypatch.setenv("REDIS_NAMESPACE", settings.redis_namespace)
    monkeypatch.setenv("LOG_LEVEL", "WARNING")
    monkeypatch.delenv("BROKER_URL", raising=False)
    monkeypatch.setenv(variable, value)
    monkeypatch.chdir("/")
    code = main(["queues"])
    out = capsys.readouterr()
    assert code == 5, out
    assert named in out.err and "Traceback" not in out.err + out.out
    assert "S3cretAmqpPw" not in out.err + out.out
