"""Worker entry point: `dramatiq worker.entry --queues stock ...`.

This module is the worker process's composition root: it reads settings,
builds the broker, and only then imports the actor modules, so every actor
binds to the configured broker.
"""

from core.error_reporting import configure_error_reporting
from core.logging import announce, configure_logging
from core.settings import load_settings
from worker.broker import setup_broker

settings = load_settings()
configure_logging(settings)
announce(settings, "worker")
configure_error_reporting(settings, "worker")  # before the broker: Sentry adds its middleware then
broker = setup_broker(settings)

import importlib  # noqa: E402

from jobs import ACTOR_MODULES  # noqa: E402

for module in ACTOR_MODULES:  # declares every actor on `broker`
    importlib.import_module(module)
