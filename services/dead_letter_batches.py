"""Dead letters by the batch: replay or purge every entry a filter matches, at a bounded rate.
Each entry is replayed or purged on its own (services/dead_letters.py). Old entries are archived
and purged by retention (services/retention.py)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from db.queries import dead_letters as q
from db.queries.dead_letters import Filter
from services.dead_letters import AlreadyReplayed, DeadLetterNotFound, DeadLetters

BATCH = 100


@dataclass(frozen=True)
class DeadLetterBatches:
    one: DeadLetters
    now: Callable[[], datetime]

    def replay_many(
        self,
        where: Filter,
        *,
        by: str,
        reason: str | None = None,
        force: bool = False,
        dry_run: bool = False,
        limit: int = 1000,
        per_second: float = 50.0,
    ) -> dict[str, Any]:
        """Dry run: how many match, and a sample. Otherwise replay in batches at a bounded rate."""
        if not force and where.state is None:
            where = Filter(**{**where.__dict__, "state": "dead"})
        if dry_run:
            return self._preview(where, limit)
        replayed: list[str] = []
        skipped, after = 0, 0
        while len(replayed) + skipped < limit:
            started = time.monotonic()
            batch = self._ids(where, min(BATCH, limit - len(replayed) - skipped), after=after)
            if not batch:
                break
            for dead_letter_id in batch:
                try:
                    replayed.append(self.one.replay(dead_letter_id, by=by, reason=reason, force=force))
                except (AlreadyReplayed, DeadLetterNotFound):
                    skipped += 1
            after = batch[-1]
            # Bounded rate: a flood of replays must not swamp the queues it feeds.
            time.sleep(max(0.0, len(batch) / per_second - (time.monotonic() - started)))
        return {"replayed": len(replayed), "skipped": skipped, "message_ids": replayed}

    def purge_many(
        self, where: Filter, *, by: str, reason: str | None = None, dry_run: bool = False, limit: int = 10_000
    ) -> dict[str, Any]:
        if dry_run:
            return self._preview(where, limit)
        purged = 0
        while purged < limit:
            batch = self._ids(where, min(BATCH, limit - purged))
            if not batch:
                break
            for dead_letter_id in batch:
                try:
                    self.one.purge(dead_letter_id, by=by, reason=reason)
                    purged += 1
                except DeadLetterNotFound:
                    pass
        return {"purged": purged}

    def _ids(self, where: Filter, limit: int, *, after: int = 0) -> list[int]:
        with self.one.units.begin() as uow:
            return q.ids(uow.session, where, limit, after=after)

    def _preview(self, where: Filter, limit: int) -> dict[str, Any]:
        with self.one.units.begin() as uow:
            matched = q.count(uow.session, where)
            sample = q.page(uow.session, where, limit=5, before=None)
        return {"dry_run": True, "matched": matched, "would_affect": min(matched, limit), "sample": sample}
