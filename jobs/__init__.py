"""Dramatiq actors, one module a job family. Import only after worker.setup_broker()."""

from jobs import stock  # noqa: F401
