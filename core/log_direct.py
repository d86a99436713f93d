"""The short route of our own log lines: rendered, scrubbed and written at the end of structlog's chain.

Through the standard library, each line of ours became a LogRecord, went through `Logger.handle`
and the root handler, and was rendered there by `ProcessorFormatter`: about a third of a line's
cost, for nothing as long as that one handler is the only place the record would go. `route`, the
chain's last processor, checks exactly that on every line (live: handlers, filters and levels may
change at any time), then renders the line with that handler's own renderer and scrubber and writes
it to the handler's stream under its lock, flushed: the same text, in the same place.

Anything else the standard library would do sends the line its way, unchanged: another handler
(pytest's caplog, gunicorn's), a filter, a handler's level, or `Logger.callHandlers` patched, as
Sentry's LoggingIntegration does to turn log lines into breadcrumbs. With Sentry on, our lines
therefore keep their breadcrumbs and their former cost.
"""

from __future__ import annotations

import logging
from collections.abc import MutableMapping
from typing import Any, TextIO

import structlog
from structlog.stdlib import NAME_TO_LEVEL, ProcessorFormatter

# What `route` returns for a written line; the wrapper then calls no stdlib method.
_WRITTEN: tuple[tuple[()], dict[str, Any]] = ((), {})


class LineHandler(logging.StreamHandler[TextIO]):
    """The root handler: foreign records through `ProcessorFormatter`, our lines through `write`."""

    def __init__(self, stream: TextIO, foreign_pre_chain: list[Any], renderer: Any, scrubber: Any) -> None:
        super().__init__(stream)
        self._final = (renderer, scrubber)
        self.setFormatter(
            ProcessorFormatter(
                foreign_pre_chain=foreign_pre_chain,
                processors=[ProcessorFormatter.remove_processors_meta, renderer, scrubber],
            )
        )

    def write(self, logger: logging.Logger, method_name: str, event_dict: MutableMapping[str, Any]) -> None:
        """What `ProcessorFormatter` and `StreamHandler.emit` would make of the line, and errors alike."""
        renderer, scrubber = self._final
        try:
            line = scrubber(logger, method_name, renderer(logger, method_name, event_dict))
            self.acquire()
            try:
                self.stream.write(line + self.terminator)
                self.flush()
            finally:
                self.release()
        except RecursionError:
            raise
        except Exception:
            level = NAME_TO_LEVEL[method_name]
            self.handleError(logging.LogRecord(logger.name, level, "", 0, event_dict, None, None))


def _only_handler(logger: logging.Logger, level: int) -> LineHandler | None:
    """The handler the record would reach, when it is the only one and nothing else would see it."""
    # Patched by whom, not compared with a copy taken at import: Sentry may have patched it first.
    if type(logger).callHandlers.__module__ != "logging" or logger.filters or logger.disabled:
        return None
    found: logging.Handler | None = None
    current: logging.Logger | None = logger
    while current is not None:  # `Logger.callHandlers`' own walk
        for handler in current.handlers:
            if found is not None:
                return None
            found = handler
        current = current.parent if current.propagate else None
    if type(found) is not LineHandler or found.filters or level < found.level:
        return None
    return found


def route(logger: Any, method_name: str, event_dict: MutableMapping[str, Any]) -> Any:
    """Last processor of our lines: written here when it is safe, else wrapped for the stdlib."""
    handler = _only_handler(logger, NAME_TO_LEVEL[method_name])
    if handler is None:
        return ProcessorFormatter.wrap_for_formatter(logger, method_name, event_dict)
    handler.write(logger, method_name, event_dict)
    return _WRITTEN


class OwnLogger(structlog.stdlib.BoundLogger):
    """The stdlib wrapper, with the level checked before any processor and `route`'s written lines done."""

    def _proxy_to_logger(
        self, method_name: str, event: str | None = None, *event_args: str, **event_kw: Any
    ) -> Any:
        # The stdlib logger's level, read live (its own cached answer): a line below it costs no processor.
        if not self._logger.isEnabledFor(NAME_TO_LEVEL[method_name]):
            return None
        if event_args:
            event_kw["positional_args"] = event_args
        try:
            args, kw = self._process_event(method_name, event, event_kw)
        except structlog.DropEvent:
            return None
        if kw is _WRITTEN[1]:
            return None
        return getattr(self._logger, method_name)(*args, **kw)
