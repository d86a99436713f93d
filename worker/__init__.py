"""Dramatiq broker set-up, middleware and the worker entry point."""

from worker.broker import setup_broker

__all__ = ["setup_broker"]
