"""Low-stock alert rules: when a product crosses its threshold, when its alert re-arms, and how
a digest of crossed products is ordered and written (email context and Slack text). Pure values.

A product is alerted once per crossing: it crosses when its threshold is set (> 0), its stock on
hand is at or below it and it is not alerted yet; the alert re-arms only when stock rises above
the threshold again. db/queries/alerts.py runs the same two conditions as SQL, atomically.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any


def crossed(stock: int, threshold: int, alerted_at: datetime | None) -> bool:
    """True when the product is newly at or below its threshold and must be alerted."""
    return threshold > 0 and stock <= threshold and alerted_at is None


def rearms(stock: int, threshold: int, alerted_at: datetime | None) -> bool:
    """True when an alerted product's stock rose above its threshold: its next crossing alerts."""
    return alerted_at is not None and stock > threshold


@dataclass(frozen=True)
class LowStockLine:
    """One product of a digest: stock on hand, what is available after live holds, the threshold."""

    sku: str
    name: str
    stock: int
    available: int
    threshold: int

    @property
    def out_of_stock(self) -> bool:
        return self.stock <= 0

    def as_json(self) -> dict[str, Any]:
        return {**asdict(self), "out_of_stock": self.out_of_stock}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> LowStockLine:
        return cls(
            str(data["sku"]),
            str(data["name"]),
            int(data["stock"]),
            int(data["available"]),
            int(data["threshold"]),
        )


def digest_order(lines: Iterable[LowStockLine]) -> list[LowStockLine]:
    """Out-of-stock products first, then the rest; by SKU within each."""
    return sorted(lines, key=lambda line: (not line.out_of_stock, line.sku))


def digest_subject(lines: list[LowStockLine]) -> str:
    out = sum(line.out_of_stock for line in lines)
    products = "product" if len(lines) == 1 else "products"
    subject = f"Low stock: {len(lines)} {products} at or below threshold"
    return f"{subject} ({out} out of stock)" if out else subject


def email_context(lines: list[LowStockLine]) -> dict[str, Any]:
    """The `low_stock_digest` template's context (core/email/render.py), lines in digest order."""
    ordered = digest_order(lines)
    return {
        "subject": digest_subject(ordered),
        "products": [line.as_json() for line in ordered],
        "out_of_stock": sum(line.out_of_stock for line in ordered),
    }


def _slack_escape(value: str) -> str:
    """Slack's mrkdwn reserves &, < and >; a product name must not become a link or a mention."""
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_text(lines: list[LowStockLine]) -> str:
    """The digest as one Slack message (mrkdwn): a heading, then a line a product."""
    ordered = digest_order(lines)
    rows = [f"*{_slack_escape(digest_subject(ordered))}*"]
    for line in ordered:
        mark = ":red_circle: *OUT OF STOCK* " if line.out_of_stock else ":warning: "
        rows.append(
            f"{mark}`{_slack_escape(line.sku)}` {_slack_escape(line.name)}: stock {line.stock}, "
            f"available {line.available}, threshold {line.threshold}"
        )
    return "\n".join(rows)
