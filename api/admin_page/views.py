"""The operator page's resources: login, dashboard, dead letters, replay and purge, pause, resume
and run of recurring jobs, and a retry of a stuck subscription, each with a confirmation."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import quote

import falcon
import jinja2
import redis

from api.admin_page.session import COOKIE, Session, Sessions, SessionStore
from api.deps import Deps
from api.validation import ID_PATTERN, read_form
from core.schedule_table import schedule_table
from db.queries.dead_letters import Filter
from services.dead_letter_batches import DeadLetterBatches
from services.dead_letters import AlreadyReplayed, DeadLetterNotFound, DeadLetters
from services.operations import Operations
from services.payments import PaymentIssues
from services.schedule_controls import ScheduleControls
from services.schedule_watch import ScheduleNotFound, find
from services.subscription_issues import NotRetryable, SubscriptionIssues
from services.subscriptions import SubscriptionNotFound

HERE = Path(__file__).parent
FINGERPRINT = re.compile(r"[0-9a-f]{1,16}")
PAYMENTS_SHOWN = 100  # the rest through GET /v1/admin/payments or `backroom payments list`
SUBSCRIPTIONS_SHOWN = 100  # the rest through GET /v1/admin/subscriptions or `backroom subscriptions list`
CSP = "default-src 'self'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'"


@cache
def templates() -> jinja2.Environment:
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"), autoescape=True, undefined=jinja2.StrictUndefined
    )
    environment.filters["utc"] = utc
    return environment


def utc(value: str | None) -> str:
    """An ISO 8601 time (as services.operations gives them) as `YYYY-MM-DD HH:MM:SS UTC`."""
    if not value:
        return "—"
    return datetime.fromisoformat(value).astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


@dataclass(frozen=True)
class Access:
    """How the page knows its operator: signed cookies whose sessions live in Redis, and forms of
    a bounded size. `always_secure` (production): the cookie is Secure even over plain http, as
    behind a TLS-terminating proxy."""

    sessions: Sessions
    store: SessionStore
    max_body_bytes: int
    always_secure: bool


class Page:
    """Base: a cookie session instead of a bearer token, the admin rate limit."""

    auth = "admin-session"
    rate_limit = "admin"

    def __init__(self, access: Access) -> None:
        self.access = access
        self.sessions = access.sessions
        self.store = access.store

    def render(self, resp: falcon.Response, name: str, status: str = falcon.HTTP_200, **context: Any) -> None:
        resp.status = status
        resp.content_type = falcon.MEDIA_HTML
        resp.set_header("Content-Security-Policy", CSP)
        resp.set_header("X-Frame-Options", "DENY")
        resp.set_header("Cache-Control", "no-store")
        resp.text = templates().get_template(name).render(**context)

    def session(self, req: falcon.Request) -> Session:
        """The operator's session, or a redirect to the login form."""
        session = self.sessions.open(req.cookies.get(COOKIE))
        if session is None or not self.store.alive(session.nonce):
            raise falcon.HTTPSeeOther("/admin/login")
        return session

    def form(self, req: falcon.Request) -> dict[str, str]:
        return read_form(req, self.access.max_body_bytes)

    def posted(self, req: falcon.Request) -> tuple[Session, dict[str, str]]:
        """A state-changing form post: a session and a valid CSRF token, or 403."""
        session = self.session(req)
        form = self.form(req)
        if not self.sessions.check_csrf(session.nonce, form.get("csrf")):
            raise falcon.HTTPForbidden(
                title="Forbidden", description="The form's CSRF token is missing or wrong."
            )
        return session, form

    @staticmethod
    def by(session: Session) -> str:
        """Who acts, for the audit: the name given at login, else the session."""
        return f"web:{session.operator or session.nonce[:8]}"


class Login(Page):
    """The login form: public, the way in. The session it starts is recorded in Redis."""

    auth = "public"

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        self.render(resp, "login.html", error=None)

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        form = self.form(req)
        if not self.sessions.check_token(form.get("token", "")):
            self.render(resp, "login.html", status=falcon.HTTP_401, error="That token is not valid.")
            return
        cookie = self.sessions.issue(form.get("operator", ""))
        try:
            self.store.start(cookie.split(".")[1])
        except redis.RedisError:
            self.render(
                resp, "login.html", status=falcon.HTTP_503, error="Sessions are unavailable: Redis is down."
            )
            return
        resp.set_cookie(
            COOKIE,
            cookie,
            max_age=self.sessions.lifetime,
            path="/admin",
            secure=req.scheme == "https" or self.access.always_secure,
            http_only=True,
            same_site="Strict",
        )
        raise falcon.HTTPSeeOther("/admin")


class Logout(Page):
    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        session, _form = self.posted(req)
        self.store.end(session.nonce)  # a copy of the cookie replayed later is refused
        resp.unset_cookie(COOKIE, path="/admin")
        raise falcon.HTTPSeeOther("/admin/login")


class Dashboard(Page):
    def __init__(
        self,
        access: Access,
        dead_letters: DeadLetters,
        operations: Operations,
        payments: PaymentIssues,
        subscriptions: SubscriptionIssues,
    ) -> None:
        super().__init__(access)
        self.dead_letters = dead_letters
        self.operations = operations
        self.payments = payments
        self.subscriptions = subscriptions

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        session = self.session(req)
        fingerprint = req.get_param("fingerprint")
        if fingerprint and not FINGERPRINT.fullmatch(fingerprint):
            fingerprint = None  # not a fingerprint: show everything rather than fail
        where = Filter(fingerprint=fingerprint)
        self.render(
            resp,
            "dashboard.html",
            csrf=self.sessions.csrf(session.nonce),
            payments=self.payments.payments_needing_attention(limit=PAYMENTS_SHOWN),
            payments_shown=PAYMENTS_SHOWN,
            subscriptions=self.subscriptions.needing_a_person(limit=SUBSCRIPTIONS_SHOWN),
            subscriptions_shown=SUBSCRIPTIONS_SHOWN,
            queues=self.operations.queue_table(),
            groups=self.dead_letters.groups(Filter()),
            schedules=self.operations.schedule_rows(),
            entries=self.dead_letters.page(where, limit=50)["items"],
            fingerprint=fingerprint,
            notice=req.get_param("notice"),
        )


class Entry(Page):
    def __init__(self, access: Access, dead_letters: DeadLetters) -> None:
        super().__init__(access)
        self.dead_letters = dead_letters

    def on_get(self, req: falcon.Request, resp: falcon.Response, dead_letter_id: int) -> None:
        session = self.session(req)
        try:
            entry = self.dead_letters.show(dead_letter_id)
        except DeadLetterNotFound:  # the page's own 404, not the API's problem+json
            raise falcon.HTTPNotFound(
                title="Not found", description=f"No dead letter {dead_letter_id}."
            ) from None
        self.render(
            resp,
            "entry.html",
            csrf=self.sessions.csrf(session.nonce),
            entry=entry,
            notice=req.get_param("notice"),
        )


class Action(Page):
    """An action from the page: the first post shows a confirmation, `confirm=yes` acts."""

    EXPLAIN = {
        "replay": "The original message is sent again with a fresh retry budget.",
        "purge": "The entry is deleted; an audit row keeps who did it and why.",
        "pause": "No scheduler fires it until it is resumed; a manual run still works. "
        "An audit row keeps who did it and why.",
        "resume": "Schedulers fire it again from their next tick; the slots missed while it was "
        "paused follow its misfire policy. An audit row keeps who did it and why.",
        "run": "The job is enqueued now, paused or not, as a run of its own outside its trigger's "
        "slots. An audit row keeps who did it and why.",
        "retry": "Its card is charged again now, by the renewal worker. A lapsed subscription becomes "
        "past due for this one attempt and lapses again if it is declined. The attempt's own row is "
        "the record; nothing else is kept.",
    }
    # Actions whose confirmation asks for a reason (the others keep no audit row to put it in).
    AUDITED = ("replay", "purge", "pause", "resume", "run")

    def __init__(self, access: Access, action: str) -> None:
        super().__init__(access)
        self.action = action

    def confirmation(
        self,
        req: falcon.Request,
        resp: falcon.Response,
        session: Session,
        form: dict[str, str],
        *,
        target: str,
        back: str,
    ) -> bool:
        """Render the confirmation page unless the form already confirms; True when it rendered."""
        if form.get("confirm") == "yes":
            return False
        self.render(
            resp,
            "confirm.html",
            csrf=self.sessions.csrf(session.nonce),
            action=self.action,
            explain=self.EXPLAIN[self.action],
            force=form.get("force") == "yes",
            ask_reason=self.action in self.AUDITED,
            target=target,
            url=req.path,
            back=back,
        )
        return True


class EntryAction(Action):
    """POST replay or purge of one entry."""

    def __init__(self, access: Access, dead_letters: DeadLetters, action: str) -> None:
        super().__init__(access, action)
        self.dead_letters = dead_letters

    def on_post(self, req: falcon.Request, resp: falcon.Response, dead_letter_id: int) -> None:
        session, form = self.posted(req)
        back = f"/admin/dead-letters/{dead_letter_id}"
        if self.confirmation(req, resp, session, form, target=f"dead letter {dead_letter_id}", back=back):
            return
        reason = form.get("reason") or None
        try:
            if self.action == "replay":
                self.dead_letters.replay(
                    dead_letter_id, by=self.by(session), reason=reason, force=form.get("force") == "yes"
                )
            else:
                self.dead_letters.purge(dead_letter_id, by=self.by(session), reason=reason)
                raise falcon.HTTPSeeOther("/admin?notice=" + quote(f"Dead letter {dead_letter_id} purged."))
        except DeadLetterNotFound:
            raise falcon.HTTPNotFound(
                title="Not found", description=f"No dead letter {dead_letter_id}."
            ) from None
        except AlreadyReplayed:
            raise falcon.HTTPSeeOther(
                f"{back}?notice=" + quote("Already replayed: tick 'replay again' to force it.")
            ) from None
        raise falcon.HTTPSeeOther(f"{back}?notice=" + quote("Replayed."))


class GroupAction(Action):
    """POST replay or purge of every dead entry in one fingerprint group."""

    def __init__(self, access: Access, batches: DeadLetterBatches, action: str) -> None:
        super().__init__(access, action)
        self.batches = batches

    def on_post(self, req: falcon.Request, resp: falcon.Response, fingerprint: str) -> None:
        session, form = self.posted(req)
        if not FINGERPRINT.fullmatch(fingerprint):
            raise falcon.HTTPNotFound(title="Not found", description="No such failure group.")
        where = Filter(fingerprint=fingerprint, state="dead")
        matched = self.batches.replay_many(where, by="", dry_run=True)["matched"]
        if self.confirmation(
            req, resp, session, form, target=f"{matched} dead letters in group {fingerprint}", back="/admin"
        ):
            return
        reason = form.get("reason") or None
        if self.action == "replay":
            done = self.batches.replay_many(where, by=self.by(session), reason=reason)
            notice = f"Replayed {done['replayed']} dead letters."
        else:
            done = self.batches.purge_many(where, by=self.by(session), reason=reason)
            notice = f"Purged {done['purged']} dead letters."
        raise falcon.HTTPSeeOther("/admin?notice=" + quote(notice))


class ScheduleAction(Action):
    """POST pause, resume or run of one recurring job."""

    def __init__(self, access: Access, controls: ScheduleControls, action: str) -> None:
        super().__init__(access, action)
        self.controls = controls

    def on_post(self, req: falcon.Request, resp: falcon.Response, job: str) -> None:
        session, form = self.posted(req)
        try:
            find(self.controls.table, job)
        except ScheduleNotFound:  # the page's own 404, not the API's problem+json
            raise falcon.HTTPNotFound(title="Not found", description="No such recurring job.") from None
        if self.confirmation(req, resp, session, form, target=f"schedule {job}", back="/admin#schedules"):
            return
        by, reason = self.by(session), form.get("reason") or None
        if self.action == "pause":
            self.controls.pause(job, by=by, reason=reason)
            notice = f"Paused {job}."
        elif self.action == "resume":
            self.controls.resume(job, by=by, reason=reason)
            notice = f"Resumed {job}."
        else:
            message_id = self.controls.run_now(job, by=by, reason=reason)
            notice = f"Enqueued {job} now (message {message_id})."
        raise falcon.HTTPSeeOther("/admin?notice=" + quote(notice))


class SubscriptionAction(Action):
    """POST retry of one past-due or lapsed subscription (services/subscription_issues.retry_now)."""

    def __init__(self, access: Access, subscriptions: SubscriptionIssues) -> None:
        super().__init__(access, "retry")
        self.subscriptions = subscriptions

    def on_post(self, req: falcon.Request, resp: falcon.Response, subscription_id: str) -> None:
        session, form = self.posted(req)
        if not ID_PATTERN.match(subscription_id):
            raise falcon.HTTPNotFound(title="Not found", description="No such subscription.")
        back = "/admin#subscriptions"
        if self.confirmation(req, resp, session, form, target=f"subscription {subscription_id}", back=back):
            return
        try:
            self.subscriptions.retry_now(subscription_id)
        except SubscriptionNotFound:  # the page's own 404, not the API's problem+json
            raise falcon.HTTPNotFound(title="Not found", description="No such subscription.") from None
        except NotRetryable as error:
            raise falcon.HTTPSeeOther("/admin?notice=" + quote(error.detail)) from None
        notice = f"Retrying subscription {subscription_id} now."
        raise falcon.HTTPSeeOther("/admin?notice=" + quote(notice))


class Static:
    """The page's stylesheet, served by the app itself."""

    auth = "public"
    rate_limit = "public"

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.content_type = "text/css; charset=utf-8"
        resp.set_header("Cache-Control", "max-age=3600")
        resp.data = (HERE / "static" / "admin.css").read_bytes()


def access(deps: Deps) -> Access:
    sessions = Sessions(deps.settings.admin_api_token.get_secret_value())
    return Access(
        sessions,
        SessionStore(deps.redis, deps.settings.redis_namespace, sessions.lifetime),
        deps.settings.max_body_bytes,
        always_secure=deps.settings.app_env == "production",
    )


def admin_routes() -> list[tuple[str, Callable[[Deps], object]]]:
    """The page's routes; each factory hands its view the services it calls."""

    def dead_letters(d: Deps) -> DeadLetters:
        return DeadLetters(d.units)

    def batches(d: Deps) -> DeadLetterBatches:
        return DeadLetterBatches(DeadLetters(d.units), d.now)

    def dashboard(d: Deps) -> Dashboard:
        operations = Operations(d.units, d.broker, d.settings, d.now)
        return Dashboard(access(d), dead_letters(d), operations, PaymentIssues(d.units), subscriptions(d))

    def subscriptions(d: Deps) -> SubscriptionIssues:
        return SubscriptionIssues(d.units, d.now)

    def controls(d: Deps) -> ScheduleControls:
        return ScheduleControls(d.units, d.now, schedule_table(d.settings))

    entry = "/admin/dead-letters/{dead_letter_id:int(min=1)}"
    schedule = "/admin/schedules/{job}"
    return [
        ("/admin", dashboard),
        ("/admin/login", lambda d: Login(access(d))),
        ("/admin/logout", lambda d: Logout(access(d))),
        ("/admin/static/admin.css", lambda d: Static()),
        (entry, lambda d: Entry(access(d), dead_letters(d))),
        (f"{entry}/replay", lambda d: EntryAction(access(d), dead_letters(d), "replay")),
        (f"{entry}/purge", lambda d: EntryAction(access(d), dead_letters(d), "purge")),
        ("/admin/groups/{fingerprint}/replay", lambda d: GroupAction(access(d), batches(d), "replay")),
        ("/admin/groups/{fingerprint}/purge", lambda d: GroupAction(access(d), batches(d), "purge")),
        (f"{schedule}/pause", lambda d: ScheduleAction(access(d), controls(d), "pause")),
        (f"{schedule}/resume", lambda d: ScheduleAction(access(d), controls(d), "resume")),
        (f"{schedule}/run", lambda d: ScheduleAction(access(d), controls(d), "run")),
        (
            "/admin/subscriptions/{subscription_id}/retry",
            lambda d: SubscriptionAction(access(d), subscriptions(d)),
        ),
    ]
