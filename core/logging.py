"""Logging: structlog for our code and the standard library's loggers alike.

Context (request id, message id, actor) is bound with structlog's contextvars
by the API and worker middleware, so every line carries it. Values under
secret-looking keys and passwords inside URLs are masked before rendering.
"""

from __future__ import annotations

import logging
import re
import sys
from typing import Any

import structlog

from core.settings import Settings

_SECRET_KEY = re.compile(r"secret|token|password|authorization|api_key|signature|cookie", re.IGNORECASE)
_URL_PASSWORD = re.compile(r"(?P<scheme>[a-z+]+://[^:/@\s]*):(?P<password>[^@\s]+)@")
MASK = "***"


def mask_url_password(text: str) -> str:
    return _URL_PASSWORD.sub(lambda m: f"{m.group('scheme')}:{MASK}@", text)


def redact(_logger: Any, _name: str, event: dict[str, Any]) -> dict[str, Any]:
    """Mask secret-looking fields and URL passwords in every event."""
    for key, value in list(event.items()):
        if _SECRET_KEY.search(key) and value not in (None, ""):
            event[key] = MASK
        elif isinstance(value, str):
            event[key] = mask_url_password(value)
    return event


def configure_logging(settings: Settings) -> None:
    """Route structlog and stdlib logging through one renderer on stderr."""
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.stdlib.ExtraAdder(),
        redact,
    ]
    renderer: Any
    if settings.log_format == "json":
        renderer = structlog.processors.JSONRenderer()
        shared.append(structlog.processors.format_exc_info)
    else:
        renderer = structlog.dev.ConsoleRenderer(colors=False)
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.log_level)
    # Libraries that are chatty at INFO; their warnings still come through.
    for name in ("botocore", "urllib3", "apscheduler.executors.default", "alembic.runtime.migration"):
        logging.getLogger(name).setLevel(max(logging.WARNING, root.level))


def announce(settings: Settings, process: str) -> None:
    """First log lines of a process: what it is, and in production one warning per missing service."""
    log = get_logger("backroom")
    log.info("process.start", process=process, app_env=settings.app_env)
    if settings.app_env == "production":
        for line in settings.missing_services():
            log.warning("service.missing", detail=line)


def get_logger(name: str | None = None) -> structlog.stdlib.BoundLogger:
    return structlog.get_logger(name)
