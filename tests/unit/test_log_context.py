"""Which successful jobs the worker log shows at INFO: the ones a person may be waiting for."""

import json

import dramatiq
import pytest
from dramatiq.broker import MessageProxy
from dramatiq.brokers.stub import StubBroker

from core.logging import configure_logging
from tests.unit.test_settings import settings
from worker.log_context import LogContext


def _done_lines(capsys, options, level="INFO"):
    configure_logging(settings(log_format="json", log_level=level))
    message = MessageProxy(dramatiq.Message("email", "email.send", (1,), {}, options))
    middleware, broker = LogContext(), StubBroker()
    middleware.before_process_message(broker, message)
    middleware.after_process_message(broker, message, result=None)
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    return [line for line in lines if line["event"] == "job.done"]


def test_a_first_attempt_success_is_not_an_info_line(capsys):
    assert _done_lines(capsys, {}) == []


@pytest.mark.parametrize("options", [{"retries": 2}, {"replay_of": 42}])
def test_a_success_after_retries_or_of_a_replay_is(capsys, options):
    [line] = _done_lines(capsys, options)
    assert (
        line["level"] == "info"
        and line["actor"] == "email.send"
        and line["attempt"] == options.get("retries", 0) + 1
    )


def test_with_debug_on_a_first_attempt_success_is_a_debug_line(capsys):
    [line] = _done_lines(capsys, {}, level="DEBUG")
    assert line["level"] == "debug" and line["message_id"] and line["attempt"] == 1
