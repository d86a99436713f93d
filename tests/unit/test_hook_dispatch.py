"""HookDispatch calls the same hooks, in the same order, with the same failure handling as
Dramatiq's own Broker.emit_before / emit_after; it only skips Middleware's no-ops."""

from __future__ import annotations

import logging
import threading
from typing import Any

import dramatiq
import pytest
from dramatiq.brokers.stub import StubBroker
from dramatiq.middleware import SkipMessage, TimeLimit

from worker.hook_dispatch import HookDispatch, defines


class Dispatching(HookDispatch, StubBroker):
    pass


class Recorder(dramatiq.Middleware):
    def __init__(self, name: str, calls: list[str]) -> None:
        self.name, self.calls = name, calls

    def before_process_message(self, broker: Any, message: Any) -> None:
        self.calls.append(f"{self.name}.before")

    def after_process_message(
        self, broker: Any, message: Any, *, result: Any = None, exception: Any = None
    ) -> None:
        self.calls.append(f"{self.name}.after:{result}")


class Silent(dramatiq.Middleware):
    """Defines no hook: Middleware's no-ops only."""


class Failing(dramatiq.Middleware):
    def before_process_message(self, broker: Any, message: Any) -> None:
        raise RuntimeError("boom")

    def after_process_message(
        self, broker: Any, message: Any, *, result: Any = None, exception: Any = None
    ) -> None:
        raise RuntimeError("boom")


class Skipping(dramatiq.Middleware):
    def before_process_message(self, broker: Any, message: Any) -> None:
        raise SkipMessage()

    def after_process_message(
        self, broker: Any, message: Any, *, result: Any = None, exception: Any = None
    ) -> None:
        raise SkipMessage()


def emitted(broker: dramatiq.Broker) -> None:
    broker.emit_before("process_message", "message")
    broker.emit_after("process_message", "message", result=7)


def both(*names: str) -> tuple[list[str], list[str]]:
    """The calls of one emit round on Dramatiq's broker and on ours, each with the same middleware."""
    found = []
    for cls in (StubBroker, Dispatching):
        calls: list[str] = []
        middleware: list[dramatiq.Middleware] = [Recorder(n, calls) if n != "-" else Silent() for n in names]
        emitted(cls(middleware=middleware))
        found.append(calls)
    return found[0], found[1]


def test_the_same_calls_in_the_same_order_as_dramatiq() -> None:
    theirs, ours = both("a", "-", "b", "-", "c")
    assert ours == theirs == ["a.before", "b.before", "c.before", "c.after:7", "b.after:7", "a.after:7"]


def test_only_middleware_that_define_a_hook_count() -> None:
    calls: list[str] = []
    assert defines(Recorder("a", calls), "before_process_message")
    assert not defines(Silent(), "before_process_message")
    assert not defines(Recorder("a", calls), "before_ack")
    patched = Silent()
    patched.before_ack = lambda broker, message: calls.append("patched")  # type: ignore[method-assign]
    assert defines(patched, "before_ack")
    broker = Dispatching(middleware=[patched])
    broker.emit_before("ack", "message")
    assert calls == ["patched"]


def test_middleware_added_or_removed_after_an_emit_is_seen() -> None:
    calls: list[str] = []
    broker = Dispatching(middleware=[Recorder("a", calls)])
    emitted(broker)
    broker.add_middleware(Recorder("b", calls))
    emitted(broker)
    broker.middleware.pop(0)
    emitted(broker)
    broker.middleware[0] = Recorder("c", calls)  # replaced in place, same length
    emitted(broker)
    assert calls == [
        "a.before", "a.after:7",
        "a.before", "b.before", "b.after:7", "a.after:7",
        "b.before", "b.after:7",
        "c.before", "c.after:7",
    ]  # fmt: skip


def test_a_failing_hook_is_logged_and_the_rest_still_run(caplog: pytest.LogCaptureFixture) -> None:
    calls: list[str] = []
    broker = Dispatching(middleware=[Failing(), Recorder("a", calls), Failing()])
    with caplog.at_level(logging.CRITICAL):
        emitted(broker)
    assert calls == ["a.before", "a.after:7"]
    failures = [r.getMessage() for r in caplog.records if r.levelno == logging.CRITICAL]
    assert len(failures) == 4 and all("Unexpected failure in" in text for text in failures)


def test_a_middleware_error_from_a_before_hook_stops_the_round_as_in_dramatiq() -> None:
    for cls in (StubBroker, Dispatching):
        calls: list[str] = []
        broker = cls(middleware=[Recorder("a", calls), Skipping(), Recorder("b", calls)])
        with pytest.raises(SkipMessage):
            broker.emit_before("process_message", "message")
        assert calls == ["a.before"]


def test_an_after_hook_never_raises_not_even_a_middleware_error(caplog: pytest.LogCaptureFixture) -> None:
    calls: list[str] = []
    broker = Dispatching(middleware=[Recorder("a", calls), Skipping()])
    with caplog.at_level(logging.CRITICAL):
        broker.emit_after("process_message", "message", exception=ValueError("x"))
    assert calls == ["a.after:None"]
    assert any("after_process_message" in r.getMessage() for r in caplog.records)


def test_a_hook_aliased_to_another_is_called_as_in_dramatiq() -> None:
    """TimeLimit's `after_skip_message = after_process_message`: a skipped message's deadline is
    cleared like a processed one's."""
    limit = TimeLimit(time_limit=60_000)
    broker = Dispatching(middleware=[limit])
    actor = dramatiq.actor(actor_name="noop", broker=broker)(lambda: None)
    message = actor.message()
    broker.emit_before("process_message", message)
    assert limit.manager.deadlines[threading.get_ident()] is not None
    broker.emit_after("skip_message", message)
    assert limit.manager.deadlines[threading.get_ident()] is None
