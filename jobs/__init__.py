"""Dramatiq actors, one module a job family.

Actor modules bind to the global broker when imported, so only the worker's
composition root (worker/entry.py) imports them, after worker.setup_broker().
"""

# Every actor module; the worker imports these, in this order.
ACTOR_MODULES = (
    "jobs.stock",
    "jobs.webhooks",
    "jobs.email",
    "jobs.reconcile",
    "jobs.retention",
    "jobs.alerts",
    "jobs.carts",
    "jobs.subscriptions",
)
