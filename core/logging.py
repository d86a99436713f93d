"""Logging: structlog for our code and the standard library's loggers alike.

Context (request id, message id, actor) is bound with structlog's contextvars
by the API and worker middleware, so every line carries it. `core.log_scrub`
keeps secrets, URL passwords, message bodies and whole email addresses out of
every line, tracebacks included; tracebacks are rendered without local variables.
"""

from __future__ import annotations

import json
import logging
import sys
import threading
from collections.abc import Callable
from functools import lru_cache
from types import TracebackType
from typing import Any

import structlog

from core.log_direct import LineHandler, OwnLogger, route
from core.log_scrub import MASK, SecretScrubber, mask_url_password, redact, secret_values
from core.settings import Settings

__all__ = ["MASK", "announce", "configure_logging", "get_logger", "mask_url_password", "redact"]
# Servers and libraries with handlers of their own: routed through ours so they are scrubbed too.
_ADOPTED = ("gunicorn.error", "gunicorn.access")


def configure_logging(settings: Settings) -> None:
    """Route structlog and stdlib logging through one renderer on stderr."""
    # Our own lines carry no LogRecord, so `ExtraAdder` (a record's `extra`) is for foreign ones only.
    own: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    foreign = [*own, structlog.stdlib.ExtraAdder()]
    renderer: Any
    if settings.log_format == "json":
        renderer = structlog.processors.JSONRenderer(serializer=_dumps)
        # The plain traceback text (no locals), made before `redact` so it is masked too.
        own.append(structlog.processors.format_exc_info)
        foreign.append(structlog.processors.format_exc_info)
    else:
        # Not Rich's default: it prints every frame's local variables (keys, bodies, DSNs).
        renderer = structlog.dev.ConsoleRenderer(
            colors=False, exception_formatter=structlog.dev.plain_traceback
        )
    own.append(redact)
    foreign.append(redact)
    # Last of all, on the rendered line: covers exception messages and tracebacks.
    scrubber = SecretScrubber(secret_values(settings))
    handler = LineHandler(sys.stderr, foreign, renderer, scrubber)
    structlog.configure(
        # `OwnLogger` drops a line below the level before any work, the level read live from the
        # stdlib logger; `route` renders, scrubs and writes the line through `handler` itself
        # whenever the standard library would do nothing else with it (see core.log_direct).
        processors=[*own, route],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=OwnLogger,
        cache_logger_on_first_use=True,
    )
    # No line shows the caller's file, thread or process from the record: the standard library's
    # documented switches skip finding them (a stack walk on every line).
    logging._srcfile = None
    logging.logThreads = logging.logProcesses = logging.logMultiprocessing = False
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.log_level)
    # Libraries that are chatty at INFO; their warnings still come through.
    for name in ("botocore", "urllib3", "apscheduler.executors.default", "alembic.runtime.migration"):
        logging.getLogger(name).setLevel(max(logging.WARNING, root.level))
    # pika logs every connection step at INFO and a refused connection at ERROR with its whole
    # traceback; the failure reaches us as an exception that Dramatiq, the reconciler or the CLI
    # reports in one line, so only pika's CRITICAL lines are kept.
    logging.getLogger("pika").setLevel(max(logging.CRITICAL, root.level))
    for name in _ADOPTED:
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    _log_uncaught_exceptions()


@lru_cache(maxsize=2)
def _encoder(default: Callable[[Any], Any]) -> Callable[[Any], str]:
    return json.JSONEncoder(default=default).encode


def _dumps(obj: Any, *, default: Callable[[Any], Any]) -> str:
    """`json.dumps(obj, default=default)`, the same text, without the new encoder it makes on every
    call that gives an option (JSONRenderer always gives `default`)."""
    return _encoder(default)(obj)


def _log_crash(kind: type[BaseException], error: BaseException, tb: TracebackType | None) -> None:
    if issubclass(kind, KeyboardInterrupt):
        sys.__excepthook__(kind, error, tb)
    else:
        logging.getLogger("backroom.crash").critical("process.uncaught_exception", exc_info=(kind, error, tb))


def _log_thread_crash(args: threading.ExceptHookArgs) -> None:
    if args.exc_value is not None and not issubclass(args.exc_type, SystemExit):
        logging.getLogger("backroom.crash").critical(
            "thread.uncaught_exception",
            exc_info=(args.exc_type, args.exc_value, args.exc_traceback),
            extra={"thread_name": getattr(args.thread, "name", None)},
        )


def _log_uncaught_exceptions() -> None:
    """A crash's traceback goes through the scrubbing formatter, not Python's raw printer.

    Only Python's own hooks are replaced: one installed by someone else (a test runner,
    an error tracker) stays in charge.
    """
    if sys.excepthook in (sys.__excepthook__, _log_crash):
        sys.excepthook = _log_crash
    if threading.excepthook in (threading.__excepthook__, _log_thread_crash):
        threading.excepthook = _log_thread_crash


def announce(settings: Settings, process: str) -> None:
    """First log lines of a process: what it is, and in production one warning per missing service."""
    log = get_logger("backroom")
    log.info("process.start", process=process, app_env=settings.app_env)
    if settings.app_env == "production":
        for line in settings.missing_services():
            log.warning("service.missing", detail=line)


def get_logger(name: str | None = None) -> structlog.stdlib.BoundLogger:
    return structlog.get_logger(name)
