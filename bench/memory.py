"""Resident memory of the processes under test, sampled after every round.

A leak shows as RSS that keeps rising from round to round while the work stays the same, so
each sample is kept per process role, and `growth` compares the last measured round with the
first (the warm-up's sample is left out: imports, pools and caches fill up there).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

# More than this between the first and last measured round is flagged as growth.
GROWTH_MB, GROWTH_SHARE = 8.0, 0.10


def children(pid: int) -> list[int]:
    """Direct children of `pid` (Linux /proc; every thread's list, the main one first)."""
    found: list[int] = []
    for task in sorted(Path(f"/proc/{pid}/task").glob("*")):
        try:
            found += [int(child) for child in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


def rss_mb(pid: int) -> float:
    """Resident set size of `pid` in MB (0 once it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


@dataclass
class Memory:
    """RSS samples per role ("web worker", "job worker"): the largest process of the role."""

    samples: dict[str, list[float]] = field(default_factory=dict)

    def sample(self, role: str, pids: list[int]) -> None:
        self.samples.setdefault(role, []).append(max((rss_mb(pid) for pid in pids), default=0.0))

    def growth(self, role: str) -> float:
        taken = self.samples.get(role, [])[1:]  # the first one follows the warm-up
        return taken[-1] - taken[0] if len(taken) >= 2 else 0.0

    def flagged(self, role: str) -> bool:
        taken = self.samples.get(role, [])[1:]
        return bool(taken) and self.growth(role) > max(GROWTH_MB, GROWTH_SHARE * taken[0])

    def report(self) -> list[str]:
        lines = []
        for role, taken in self.samples.items():
            rounds = ", ".join(f"{mb:.0f}" for mb in taken)
            verdict = "GROWING" if self.flagged(role) else "flat"
            lines.append(
                f"  {role:<12} RSS MB after each round [{rounds}]: {verdict} ({self.growth(role):+.1f} MB)"
            )
        return lines
