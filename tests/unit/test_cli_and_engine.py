from cli.main import main
from core.settings import Settings
from db.engine import connect_args, sqlalchemy_url
from tests.unit.test_settings import settings


def test_secrets_prints_fresh_long_values_for_every_secret(capsys):
    main(["secrets"])
    first = dict(line.split("=", 1) for line in capsys.readouterr().out.splitlines())
    main(["secrets"])
    second = dict(line.split("=", 1) for line in capsys.readouterr().out.splitlines())
    assert {"INTERNAL_API_SECRET", "ADMIN_API_TOKEN", "CRON_SECRET"} <= set(first)
    assert len(first["INTERNAL_API_SECRET"]) >= 32 and len(first["ADMIN_API_TOKEN"]) >= 32
    assert len(first["CRON_SECRET"]) >= 16
    assert all(first[k] != second[k] for k in first)
    # The printed values pass production validation.
    Settings(
        _env_file=None,
        app_env="production",
        database_url="postgresql://h/d",
        redis_url="redis://h",
        **{k.lower(): v for k, v in first.items() if k != "STANDARD_WEBHOOK_SECRET"},
    )


def test_pgbouncer_turns_off_prepared_statements():
    assert connect_args(settings(database_pooler="pgbouncer"))["prepare_threshold"] is None
    assert "prepare_threshold" not in connect_args(settings())


def test_statement_timeout_is_passed_to_the_server():
    assert connect_args(settings(db_statement_timeout_ms=1234))["options"] == "-c statement_timeout=1234"


def test_urls_use_the_psycopg_driver():
    assert sqlalchemy_url("postgres://u@h/d") == "postgresql+psycopg://u@h/d"
    assert sqlalchemy_url("postgresql://u@h/d") == "postgresql+psycopg://u@h/d"
