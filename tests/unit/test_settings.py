import pytest

from core.settings import Settings, load_settings, parse_rate

BASE = {"database_url": "postgresql://u@h/db", "redis_url": "redis://h:6379/0"}


def settings(**values):
    return Settings(_env_file=None, **{**BASE, **values})


def test_defaults_are_sane():
    s = settings()
    assert s.reservation_ttl_seconds == 900
    assert s.stock_cleanup_interval_minutes == 5
    assert s.max_body_bytes == 1024 * 1024
    assert s.rate("storefront") == (600, 60)


@pytest.mark.parametrize(
    ("value", "expected"), [("600/minute", (600, 60)), ("5/second", (5, 1)), ("10 / hour", (10, 3600))]
)
def test_parse_rate(value, expected):
    assert parse_rate(value) == expected


@pytest.mark.parametrize("value", ["600", "0/minute", "ten/minute", "5/week"])
def test_bad_rate_is_refused(value):
    with pytest.raises(ValueError, match="600/minute"):
        parse_rate(value)


def _exit_line(monkeypatch, capsys, env):
    for key in ("DATABASE_URL", "REDIS_URL", "APP_ENV", "INTERNAL_API_SECRET", "RATE_LIMIT_ADMIN"):
        monkeypatch.delenv(key, raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.chdir("/")  # no .env here
    with pytest.raises(SystemExit) as stop:
        load_settings()
    assert stop.value.code == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err
    return err


def test_missing_variable_stops_with_one_line_naming_it(monkeypatch, capsys):
    err = _exit_line(monkeypatch, capsys, {"REDIS_URL": "redis://h/0"})
    assert err == "backroom: invalid setting DATABASE_URL: is required and not set"


def test_bad_value_names_the_variable(monkeypatch, capsys):
    env = {**{k.upper(): v for k, v in BASE.items()}, "RATE_LIMIT_ADMIN": "lots"}
    err = _exit_line(monkeypatch, capsys, env)
    assert err.startswith("backroom: invalid setting RATE_LIMIT_ADMIN:")


def test_wrong_database_scheme_is_refused(monkeypatch, capsys):
    err = _exit_line(monkeypatch, capsys, {"DATABASE_URL": "mysql://x", "REDIS_URL": "redis://h/0"})
    assert "DATABASE_URL" in err and "postgresql://" in err


def test_production_requires_long_secrets(monkeypatch, capsys):
    env = {**{k.upper(): v for k, v in BASE.items()}, "APP_ENV": "production", "INTERNAL_API_SECRET": "short"}
    err = _exit_line(monkeypatch, capsys, env)
    assert "INTERNAL_API_SECRET" in err and "32" in err


def test_production_refuses_development_defaults():
    with pytest.raises(ValueError, match="INTERNAL_API_SECRET"):
        settings(app_env="production")


def test_production_accepts_long_secrets_and_lists_missing_services():
    s = settings(
        app_env="production", internal_api_secret="i" * 32, admin_api_token="a" * 32, cron_secret="c" * 16
    )
    assert len(s.missing_services()) == 3
    assert any("RESEND_API_KEY" in line for line in s.missing_services())


def test_env_example_lists_every_setting():
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / ".env.example").read_text()
    named = {line.lstrip("# ").split("=", 1)[0] for line in text.splitlines() if "=" in line}
    missing = {name.upper() for name in Settings.model_fields} - named
    assert not missing, f".env.example lacks {sorted(missing)}"


def test_standard_webhook_secret_must_be_whsec_base64():
    assert settings(standard_webhook_secret="whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
    with pytest.raises(ValueError, match="base64"):
        settings(standard_webhook_secret="whsec_not base64!!")


def test_webhook_secrets_split_on_commas_for_rotation():
    s = settings(app_env="test", paystack_secret_key="sk_new, sk_old ,")
    assert s.webhook_secrets("paystack") == ["sk_new", "sk_old"]
    assert s.webhook_secrets("stripe") == []


def test_renewal_retry_schedule_is_parsed_and_must_increase(monkeypatch, capsys):
    from datetime import timedelta

    assert settings().renewal_retry_offsets() == [timedelta(days=d) for d in (1, 3, 5, 7)]
    assert settings(renewal_retry_schedule="2s, 4s").renewal_retry_offsets() == [
        timedelta(seconds=2),
        timedelta(seconds=4),
    ]
    env = {**{k.upper(): v for k, v in BASE.items()}, "RENEWAL_RETRY_SCHEDULE": "3d,1d"}
    err = _exit_line(monkeypatch, capsys, env)
    assert err.startswith("backroom: invalid setting RENEWAL_RETRY_SCHEDULE:")
    assert "increasing" in err
