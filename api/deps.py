"""What the web process is wired from, built once by create_app; route factories build each
resource's services from it (resources get their services, never this)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import dramatiq
import redis
from sqlalchemy import Engine

from core.settings import Settings
from db.intake import SingleStatements
from db.unit_of_work import UnitsOfWork


@dataclass(frozen=True)
class Deps:
    settings: Settings
    engine: Engine
    redis: redis.Redis
    broker: dramatiq.Broker
    now: Callable[[], datetime]
    units: UnitsOfWork  # transactions whose messages are sent after commit
    statements: SingleStatements  # one-statement units (autocommit, no pre-ping) for hot writes
