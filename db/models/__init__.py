"""SQLModel tables, one module a family; importing this registers them all on SQLModel.metadata."""

from db.models.alerts import LowStockDigest
from db.models.carts import Cart, CartEmail
from db.models.dead_letters import DeadLetter, DeadLetterAction
from db.models.orders import Order, OrderLine
from db.models.outbox import EmailOutbox
from db.models.payments import PaymentRefund, UnmatchedPayment
from db.models.schedules import ScheduleAction, ScheduleRun, ScheduleState
from db.models.stock import Checkout, Product, Reservation
from db.models.subscriptions import Subscription, SubscriptionCharge, SubscriptionChargeAttempt
from db.models.webhooks import WebhookEvent

__all__ = [
    "Cart",
    "CartEmail",
    "Checkout",
    "DeadLetter",
    "DeadLetterAction",
    "EmailOutbox",
    "LowStockDigest",
    "Order",
    "OrderLine",
    "PaymentRefund",
    "Product",
    "Reservation",
    "ScheduleAction",
    "ScheduleRun",
    "ScheduleState",
    "Subscription",
    "SubscriptionCharge",
    "SubscriptionChargeAttempt",
    "UnmatchedPayment",
    "WebhookEvent",
]
