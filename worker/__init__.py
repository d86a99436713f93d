"""Dramatiq broker set-up, middleware and the worker entry point."""

from worker.broker import build_broker, setup_broker

__all__ = ["build_broker", "setup_broker"]
