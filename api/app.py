"""The web process's composition root: `create_app(settings)`, and `get_app()` for gunicorn."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

import falcon
import redis
from sqlalchemy import Engine

from api.admin_page.views import admin_routes
from api.auth import BearerAuth, check_declared
from api.deps import Deps
from api.errors import (
    DATABASE_UNAVAILABLE,
    handle_backroom_error,
    handle_database_unavailable,
    handle_unexpected,
    serialize_problem,
)
from api.ratelimit import RateLimit
from api.request_context import RequestContext
from api.resources.alerts import LowStockResource
from api.resources.carts import CartResource, CartUnsubscribeResource, UnsubscribeLinkResource
from api.resources.dead_letters import (
    DeadLetterBulkResource,
    DeadLetterGroupsResource,
    DeadLetterListResource,
    DeadLetterReplayResource,
    DeadLetterResource,
)
from api.resources.health import Health, Metrics, OpenApi, Ready
from api.resources.jobs import JobRunResource
from api.resources.operations import QueuesResource, SchedulesResource
from api.resources.orders import CheckoutOrderResource, OrderCancelResource, OrderResource
from api.resources.payments import AdminPaymentsResource
from api.resources.products import ProductResource
from api.resources.reservations import ReservationResource
from api.resources.schedules import ScheduleActionResource
from api.resources.subscriptions import (
    AdminSubscriptionRetryResource,
    AdminSubscriptionsResource,
    SubscriptionCancelResource,
    SubscriptionResource,
)
from api.resources.webhooks import WebhookResource
from core.clock import utcnow
from core.error_reporting import configure_error_reporting
from core.errors import BackroomError
from core.logging import announce, configure_logging
from core.schedule_table import schedule_table
from core.settings import Settings, load_settings
from db.engine import make_engine
from db.intake import SingleStatements, make_single_statement_engine
from db.migrate import head_revision
from db.unit_of_work import UnitsOfWork
from services.alerts import LowStockAlerts
from services.carts import Carts
from services.dead_letter_batches import DeadLetterBatches
from services.dead_letters import DeadLetters
from services.health import Readiness, ScheduleHealth
from services.jobs import Jobs
from services.operations import Operations
from services.orders import Orders
from services.payments import PaymentIssues
from services.products import Products
from services.reservations import Reservations
from services.schedule_controls import ScheduleControls
from services.subscription_issues import SubscriptionIssues
from services.subscriptions import Subscriptions
from services.webhooks import Webhooks
from worker.broker import build_broker
from worker.messages import BrokerSender

# (path template, resource factory); the OpenAPI test checks each one is documented.
ROUTES: list[tuple[str, Callable[[Deps], object]]] = [
    ("/health", lambda deps: Health()),
    ("/ready", lambda d: Ready(readiness(d))),
    ("/metrics", Metrics),
    ("/openapi.json", lambda deps: OpenApi()),
    (
        "/v1/products/{sku}",
        lambda d: ProductResource(Products(d.units, d.settings, d.now), d.settings.max_body_bytes),
    ),
    (
        "/v1/checkouts/{checkout_id}/reservation",
        lambda d: ReservationResource(
            Reservations(d.units, d.settings, d.now, d.statements), d.settings.max_body_bytes
        ),
    ),
    ("/v1/jobs/{name}/run", lambda d: JobRunResource(Jobs(BrokerSender(d.broker)))),
    (
        "/v1/webhooks/{provider}",
        lambda d: WebhookResource(
            Webhooks(d.units, d.settings, d.now, d.statements),
            RateLimit(d.settings, d.redis),
            d.settings.max_body_bytes,
        ),
    ),
    ("/v1/orders/{order_id}", lambda d: OrderResource(Orders(d.units))),
    ("/v1/orders/{order_id}/cancel", lambda d: OrderCancelResource(Orders(d.units))),
    ("/v1/checkouts/{checkout_id}/order", lambda d: CheckoutOrderResource(Orders(d.units))),
    (
        "/v1/carts/{cart_id}",
        lambda d: CartResource(Carts(d.units, d.settings, d.now), d.settings.max_body_bytes),
    ),
    ("/v1/carts/{cart_id}/unsubscribe", lambda d: CartUnsubscribeResource(Carts(d.units, d.settings, d.now))),
    ("/v1/carts/unsubscribe", lambda d: UnsubscribeLinkResource(Carts(d.units, d.settings, d.now))),
    (
        "/v1/subscriptions/{subscription_id}",
        lambda d: SubscriptionResource(subscriptions(d), d.settings.max_body_bytes),
    ),
    ("/v1/subscriptions/{subscription_id}/cancel", lambda d: SubscriptionCancelResource(subscriptions(d))),
    (
        "/v1/admin/dead-letters",
        lambda d: DeadLetterListResource(DeadLetters(d.units), d.settings.max_body_bytes),
    ),
    (
        "/v1/admin/dead-letters/groups",
        lambda d: DeadLetterGroupsResource(DeadLetters(d.units), d.settings.max_body_bytes),
    ),
    (
        "/v1/admin/dead-letters/replay",
        lambda d: DeadLetterBulkResource(dead_letter_batches(d), d.settings.max_body_bytes, "replay"),
    ),
    (
        "/v1/admin/dead-letters/purge",
        lambda d: DeadLetterBulkResource(dead_letter_batches(d), d.settings.max_body_bytes, "purge"),
    ),
    (
        "/v1/admin/dead-letters/{dead_letter_id:int(min=1)}",
        lambda d: DeadLetterResource(DeadLetters(d.units), d.settings.max_body_bytes),
    ),
    (
        "/v1/admin/dead-letters/{dead_letter_id:int(min=1)}/replay",
        lambda d: DeadLetterReplayResource(DeadLetters(d.units), d.settings.max_body_bytes),
    ),
    ("/v1/admin/payments", lambda d: AdminPaymentsResource(PaymentIssues(d.units))),
    ("/v1/admin/subscriptions", lambda d: AdminSubscriptionsResource(SubscriptionIssues(d.units, d.now))),
    (
        "/v1/admin/subscriptions/{subscription_id}/retry",
        lambda d: AdminSubscriptionRetryResource(SubscriptionIssues(d.units, d.now)),
    ),
    ("/v1/admin/low-stock", lambda d: LowStockResource(LowStockAlerts(d.units, d.settings, d.now))),
    ("/v1/admin/queues", lambda d: QueuesResource(operations(d))),
    ("/v1/admin/schedules", lambda d: SchedulesResource(operations(d))),
    (
        "/v1/admin/schedules/{job}/pause",
        lambda d: ScheduleActionResource(
            schedule_controls(d), operations(d), d.settings.max_body_bytes, "pause"
        ),
    ),
    (
        "/v1/admin/schedules/{job}/resume",
        lambda d: ScheduleActionResource(
            schedule_controls(d), operations(d), d.settings.max_body_bytes, "resume"
        ),
    ),
]


def subscriptions(deps: Deps) -> Subscriptions:
    return Subscriptions(deps.units, deps.settings, deps.now)


def dead_letter_batches(deps: Deps) -> DeadLetterBatches:
    return DeadLetterBatches(DeadLetters(deps.units), deps.now)


def operations(deps: Deps) -> Operations:
    return Operations(deps.units, deps.broker, deps.settings, deps.now)


def schedule_controls(deps: Deps) -> ScheduleControls:
    return ScheduleControls(deps.units, deps.now, schedule_table(deps.settings))


def readiness(deps: Deps) -> Readiness:
    schedules = ScheduleHealth(deps.units, deps.now, schedule_table(deps.settings))
    return Readiness(deps.engine, deps.redis.ping, head_revision(), schedules)


def create_app(
    settings: Settings,
    *,
    engine: Engine | None = None,
    now: Callable[[], datetime] = utcnow,
    routes: Iterable[tuple[str, Callable[[Deps], object]]] | None = None,
) -> falcon.App:
    """Build the WSGI app; nothing connects until the first request needs it.

    `routes` defaults to ROUTES and the /admin page's. A route whose resource makes no
    auth decision stops the app here, naming the route.
    """
    redis_client = redis.Redis.from_url(settings.redis_url, socket_timeout=2, socket_connect_timeout=2)
    engine = engine or make_engine(settings)
    broker = build_broker(settings)
    units = UnitsOfWork(engine, BrokerSender(broker))
    deps = Deps(
        settings=settings,
        engine=engine,
        redis=redis_client,
        broker=broker,
        now=now,
        units=units,
        # The hottest writes (webhook intake, a new checkout's reservation): one statement each,
        # on the same database as `engine`.
        statements=SingleStatements(make_single_statement_engine(settings, engine.url), units),
    )
    # Order matters: the client's address first (behind TRUSTED_PROXIES), then the limiter,
    # then authentication, so wrong tokens are counted against the client too.
    middleware: list[Any] = [
        RequestContext(settings.trusted_proxy_networks()),
        RateLimit(settings, redis_client),
        BearerAuth(settings),
    ]
    app = falcon.App(middleware=middleware)
    app.req_options.strip_url_path_trailing_slash = True
    app.set_error_serializer(serialize_problem)
    app.add_error_handler(Exception, handle_unexpected)
    app.add_error_handler(BackroomError, handle_backroom_error)
    app.add_error_handler(DATABASE_UNAVAILABLE, handle_database_unavailable)
    for path, factory in [*ROUTES, *admin_routes()] if routes is None else routes:
        resource = factory(deps)
        check_declared(path, resource)
        app.add_route(path, resource)
    return app


def get_app() -> falcon.App:
    """Entry point for gunicorn (`gunicorn 'api.app:get_app()'`): settings from the environment."""
    settings = load_settings()
    configure_logging(settings)
    announce(settings, "web")
    configure_error_reporting(settings, "web")
    return create_app(settings)
