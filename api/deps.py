"""What resources need from the outside world, built once by create_app."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import dramatiq
import redis
from sqlalchemy import Engine

from core.settings import Settings


@dataclass(frozen=True)
class Deps:
    settings: Settings
    engine: Engine
    redis: redis.Redis
    broker: dramatiq.Broker
    now: Callable[[], datetime]
