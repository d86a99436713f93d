"""What the driver did and what it was told, kept for the audit: every request's answer, every
webhook and whether it was acknowledged, every checkout and subscription it made."""

from __future__ import annotations

import threading
import time
from collections import Counter
from dataclasses import dataclass, field


@dataclass
class Webhook:
    provider: str
    kind: str  # succeeded | failed
    checkout_id: str
    payment_id: str
    acked: bool = False


@dataclass
class Flow:
    """One checkout's story: its variant and the webhooks sent for it."""

    checkout_id: str
    variant: str  # normal | duplicate | failed-then-succeeded | out-of-order | unknown-checkout
    reserved: bool
    webhooks: list[Webhook] = field(default_factory=list)

    def success_acked(self) -> bool:
        return any(w.kind == "succeeded" and w.acked for w in self.webhooks)


@dataclass(frozen=True)
class Answer:
    at: float
    kind: str
    status: int  # 0: no answer (connection refused or timed out)
    retry_after: bool


class Ledger:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.answers: list[Answer] = []
        self.flows: list[Flow] = []
        self.subscriptions: dict[str, float] = {}  # id -> period end (epoch seconds)
        self.carts: set[str] = set()
        self.ready_samples: list[tuple[float, int, bool]] = []  # (at, status, servers up)
        self.oversold: list[str] = []
        self.cancel_attempted: set[str] = set()  # order ids the driver saw paid and cancelled

    def answer(self, kind: str, status: int, retry_after: bool = False) -> None:
        with self._lock:
            self.answers.append(Answer(time.time(), kind, status, retry_after))

    def flow(self, flow: Flow) -> None:
        with self._lock:
            self.flows.append(flow)

    def subscription(self, subscription_id: str, period_end: float) -> None:
        with self._lock:
            self.subscriptions[subscription_id] = period_end

    def counts(self) -> Counter[tuple[str, int]]:
        with self._lock:
            return Counter((a.kind, a.status) for a in self.answers)
