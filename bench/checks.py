"""What every run must get right whatever its speed: checked after each round, printed at the end.

A failed check fails `make bench` (exit status 1) after the table is printed, so a figure
bought by losing an event or overselling a SKU is never mistaken for a result.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Checks:
    passed: dict[str, int] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)

    def expect(self, name: str, ok: bool, detail: str) -> None:
        """Record one check of `name`; `detail` says what was found (printed when it fails)."""
        if ok:
            self.passed[name] = self.passed.get(name, 0) + 1
        else:
            self.failures.append(f"{name}: {detail}")

    @property
    def ok(self) -> bool:
        return not self.failures

    def report(self) -> list[str]:
        lines = [f"  ok    {name} ({count} rounds)" for name, count in self.passed.items()]
        lines += [f"  FAIL  {failure}" for failure in self.failures]
        total = sum(self.passed.values())
        verdict = "all checks passed" if self.ok else f"{len(self.failures)} checks FAILED"
        return [f"checks: {verdict} ({total} passed)", *lines]
