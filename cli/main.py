"""`backroom` console script: secrets, run (the dev stack), migrate, jobs, webhooks sign.

Every command but `run` and `secrets` finds a running `make run`'s embedded servers by itself
(cli.devserver.use_running_servers) when DATABASE_URL / REDIS_URL are set nowhere.
"""

from __future__ import annotations

import argparse
import secrets
import sys

from cli.archive import add_parser as add_archive_parser
from cli.operations import add_parsers
from cli.schedules import add_parser as add_schedules_parser
from cli.stock import add_parser as add_stock_parser
from cli.subscriptions import add_parser as add_subscriptions_parser
from cli.webhooks import add_parser as add_webhooks_parser
from core.errors import BackroomError, Unavailable
from core.settings import load_settings
from services.jobs import Jobs
from worker.broker import build_broker
from worker.messages import BrokerSender

# Commands that must not pick up a running stack's servers: `run` starts its own.
NO_SERVERS = ("run", "secrets")


def cmd_secrets(args: argparse.Namespace) -> int:
    """Print fresh values for every secret, ready to paste into .env."""
    print(f"INTERNAL_API_SECRET={secrets.token_urlsafe(36)}")
    print(f"ADMIN_API_TOKEN={secrets.token_urlsafe(36)}")
    print(f"CRON_SECRET={secrets.token_urlsafe(24)}")
    print(f"STANDARD_WEBHOOK_SECRET=whsec_{secrets.token_urlsafe(32)}")
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from cli.devserver import run

    return run(port=args.port)


def cmd_migrate(args: argparse.Namespace) -> int:
    from core.settings import load_settings
    from db.engine import make_engine
    from db.migrate import upgrade

    upgrade(make_engine(load_settings(), direct=True))
    print("migrations at head")
    return 0


def cmd_jobs_run(args: argparse.Namespace) -> int:
    """An unknown name is the service's JobNotFound, mapped in main() like every error of ours."""
    print(Jobs(BrokerSender(build_broker(load_settings()))).run_job(args.name))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="backroom", description="The back room of an online store.")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("secrets", help="print fresh values for every secret").set_defaults(func=cmd_secrets)
    run = sub.add_parser("run", help="start web, workers and scheduler (embedded servers if no URLs)")
    run.add_argument("--port", type=int, default=None, help="web port (default $PORT or 8000)")
    run.set_defaults(func=cmd_run)
    sub.add_parser("migrate", help="apply database migrations").set_defaults(func=cmd_migrate)
    jobs = sub.add_parser("jobs", help="recurring jobs").add_subparsers(dest="jobs_command", required=True)
    job_run = jobs.add_parser("run", help="enqueue a recurring job now")
    job_run.add_argument("name")
    job_run.set_defaults(func=cmd_jobs_run)
    add_parsers(sub)
    add_webhooks_parser(sub)
    add_schedules_parser(sub)
    add_stock_parser(sub)
    add_archive_parser(sub)
    add_subscriptions_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command not in NO_SERVERS:
        from cli.devserver import use_running_servers

        use_running_servers()
    try:
        return int(args.func(args))
    except BackroomError as error:  # the one mapping from our error tree to the command line
        print(f"backroom: {error.detail}", file=sys.stderr)
        return error.exit_code
    except Exception as error:
        where = unreachable(error)
        if where is None:
            raise
        # One line, not a driver's chained tracebacks; the error's name says which failure.
        print(f"backroom: cannot reach {where} ({type(error).__name__})", file=sys.stderr)
        return Unavailable.exit_code


def unreachable(error: Exception) -> str | None:
    """Which server a command could not reach, from its error; None for any other error."""
    from redis.exceptions import ConnectionError as RedisConnectionError
    from sqlalchemy.exc import OperationalError

    if isinstance(error, OperationalError):
        return "PostgreSQL (DATABASE_URL)"
    if isinstance(error, RedisConnectionError):
        return "Redis (REDIS_URL)"
    if type(error).__module__.startswith("pika."):
        return "RabbitMQ (BROKER_URL)"
    return None


if __name__ == "__main__":
    raise SystemExit(main())
