"""Our own lines skip the standard library's LogRecord only when it would do nothing else with them,
and read the same either way."""

import json
import logging
import re

import pytest
import structlog

from core.logging import configure_logging
from tests.unit.test_logging import RESEND, leaky_settings


@pytest.fixture
def records(monkeypatch):
    """Every LogRecord a logger made, by its name (not the formatter's copies, which have none)."""
    made: list[str] = []
    factory = logging.getLogRecordFactory()

    def counting(*args, **kwargs):
        if args[0] is not None:
            made.append(args[0])
        return factory(*args, **kwargs)

    monkeypatch.setattr(logging, "_logRecordFactory", counting)
    return made


def _lines(log_format: str) -> None:
    log = structlog.get_logger("backroom.t")
    structlog.contextvars.bind_contextvars(request_id="req-1")
    try:
        log.info("request.done", status=200, key=RESEND, to="ada@example.com", note=f"sent with {RESEND}")
        try:
            raise RuntimeError(f"failed with {RESEND} for ada@example.com")
        except RuntimeError:
            log.exception("job.crashed", share="100%s")
        log.debug("quiet")
    finally:
        structlog.contextvars.clear_contextvars()


def _without_timestamps(text: str) -> str:
    return re.sub(r"\d{4}-\d\d-\d\dT[\d:.]+Z", "T", text)


@pytest.mark.parametrize("log_format", ["console", "json"])
def test_a_line_reads_the_same_on_the_short_and_the_stdlib_route(capsys, records, log_format):
    configure_logging(leaky_settings(log_format))
    _lines(log_format)
    short = capsys.readouterr().err
    assert records == []  # no LogRecord: the short route
    logging.getLogger().addHandler(logging.NullHandler())  # a second handler: the stdlib route
    _lines(log_format)
    assert records == ["backroom.t", "backroom.t"]
    assert _without_timestamps(capsys.readouterr().err) == _without_timestamps(short)
    assert RESEND not in short and "ada@example.com" not in short and "Traceback" in short
    if log_format == "json":
        assert [json.loads(line)["event"] for line in short.splitlines()] == ["request.done", "job.crashed"]


def test_pytest_caplog_and_a_stdlib_logger_below_the_level_are_respected(caplog, capsys, monkeypatch):
    configure_logging(leaky_settings("json"))
    monkeypatch.setattr(logging.getLogger("backroom.quiet"), "level", logging.WARNING)
    logging.getLogger("backroom.quiet").manager._clear_cache()
    structlog.get_logger("backroom.quiet").info("dropped")
    caplog.handler.setLevel(logging.INFO)
    logging.getLogger().addHandler(caplog.handler)
    structlog.get_logger("backroom.t").info("seen", n=1)
    assert [record.msg["event"] for record in caplog.records] == ["seen"]
    assert [json.loads(line)["event"] for line in capsys.readouterr().err.splitlines()] == ["seen"]


def test_with_callhandlers_patched_as_sentry_does_every_line_still_makes_its_record(monkeypatch, capsys):
    """Sentry's LoggingIntegration makes breadcrumbs by patching `Logger.callHandlers`."""
    seen: list[object] = []
    original = logging.Logger.callHandlers

    def breadcrumbs(self, record):
        seen.append(record.msg)
        return original(self, record)

    configure_logging(leaky_settings("json"))
    monkeypatch.setattr(logging.Logger, "callHandlers", breadcrumbs)
    structlog.get_logger("backroom.t").info("crumb", n=1)
    assert [entry["event"] for entry in seen] == ["crumb"]  # type: ignore[index]
    assert json.loads(capsys.readouterr().err)["event"] == "crumb"


def test_a_stream_swapped_after_configuring_gets_the_lines(tmp_path, capsys):
    """As the jobs bench does: the root handler's stream replaced by another file."""
    configure_logging(leaky_settings("json"))
    path = tmp_path / "log"
    with open(path, "w") as stream:
        handler = logging.getLogger().handlers[0]
        assert isinstance(handler, logging.StreamHandler)
        handler.setStream(stream)
        structlog.get_logger("backroom.t").warning("to the file")
        logging.getLogger().handlers[:] = []
    assert json.loads(path.read_text())["event"] == "to the file" and capsys.readouterr().err == ""
