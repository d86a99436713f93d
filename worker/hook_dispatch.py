"""Middleware hooks called only on the middleware that define them.

Dramatiq's `Broker.emit_before` / `emit_after` call the hook of every middleware for every signal,
and most are `Middleware`'s own no-ops: a message on our broker meets four signals (before and
after `process_message`, before and after `ack`) on ten middleware (eleven with the metrics
exporter), forty calls of which fourteen do anything. The calls are cheap alone, but they run on
the worker threads that share one GIL with pika's I/O thread, and on RabbitMQ the worker process
is the bottleneck: with our middleware the process spent 70-80 us more per message than bare
Dramatiq's (docs/performance.md), most of it in these loops.

`HookDispatch` keeps Dramatiq's semantics (the order, reversed for after-hooks; a failing hook
logged and skipped, a MiddlewareError from a before-hook raised) and skips the no-ops. Which
middleware define a hook is cached per hook against a snapshot of `broker.middleware`, checked at
every emit, so middleware added, removed or replaced later (Dramatiq's `add_middleware`, tests)
is seen at the next emit; the hook itself is looked up at each call, as Dramatiq does. Limits,
none of which anything here does: a hook given to a middleware (its instance or its class) after
that hook was first emitted is not seen until the list changes; the snapshot is compared with
`==` (an identity check would cost a microsecond an emit), so a middleware class whose `__eq__`
calls two instances equal could keep the old one; and an object with no such hook at all is
skipped where Dramatiq would log its AttributeError.
"""

from __future__ import annotations

from typing import Any

import dramatiq
from dramatiq.middleware import MiddlewareError


def defines(middleware: dramatiq.Middleware, hook: str) -> bool:
    """Whether the middleware does anything on `hook`: not `Middleware`'s own no-op."""
    bound = getattr(middleware, hook, None)
    return bound is not None and getattr(bound, "__func__", None) is not getattr(
        dramatiq.Middleware, hook, None
    )


class HookDispatch:
    """Mixin for a `dramatiq.Broker` subclass (listed before the broker class)."""

    middleware: list[dramatiq.Middleware]
    logger: Any

    def _callers(self, hook: str, *, reverse: bool) -> tuple[dramatiq.Middleware, ...]:
        snapshot = tuple(self.middleware)  # equal to the cached one unless the list changed
        cache: dict[str, tuple[tuple[dramatiq.Middleware, ...], tuple[dramatiq.Middleware, ...]]]
        cache = self.__dict__.setdefault("_hook_callers", {})
        found = cache.get(hook)
        if found is not None and found[0] == snapshot:
            return found[1]
        callers = tuple(m for m in (reversed(snapshot) if reverse else snapshot) if defines(m, hook))
        cache[hook] = (snapshot, callers)
        return callers

    def emit_before(self, signal: str, *args: Any, **kwargs: Any) -> None:
        hook = "before_" + signal
        for middleware in self._callers(hook, reverse=False):
            try:
                getattr(middleware, hook)(self, *args, **kwargs)
            except MiddlewareError:
                raise
            except Exception:
                self.logger.critical("Unexpected failure in %s of %r.", hook, middleware, exc_info=True)

    def emit_after(self, signal: str, *args: Any, **kwargs: Any) -> None:
        hook = "after_" + signal
        for middleware in self._callers(hook, reverse=True):
            try:
                getattr(middleware, hook)(self, *args, **kwargs)
            except Exception:
                self.logger.critical("Unexpected failure in %s of %r.", hook, middleware, exc_info=True)
