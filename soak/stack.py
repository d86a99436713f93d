"""The Procfile's processes on the soak's servers, started as a platform would start them.

Each process is its Procfile line through the shell, in a process group of its own, so a
SIGKILL takes the whole family (a dramatiq master and its worker processes) as a crashed dyno
would; `restart` starts the same line again, as the platform does.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WORKERS = (
    "worker-stock",
    "worker-webhooks",
    "worker-email",
    "worker-maintenance",
    "worker-alerts",
    "worker-carts",
    "worker-subscriptions",
)
SCHEDULERS = ("scheduler", "scheduler")


def procfile_command(name: str) -> str:
    for line in (ROOT / "Procfile").read_text().splitlines():
        if line.startswith(f"{name}:"):
            return line.split(":", 1)[1].strip()
    raise KeyError(name)


@dataclass
class Process:
    label: str  # `scheduler-1`: the Procfile name plus which copy
    name: str
    popen: subprocess.Popen[bytes]


@dataclass
class Stack:
    env: dict[str, str]
    logs: Path
    processes: dict[str, Process] = field(default_factory=dict)

    def migrate(self) -> None:
        subprocess.run(
            [sys.executable, "-m", "cli.main", "migrate"],
            env=self.env,
            cwd=ROOT,
            check=True,
            capture_output=True,
        )

    def start(self, label: str, name: str) -> Process:
        with (self.logs / f"{label}.log").open("ab") as log:
            popen = subprocess.Popen(  # noqa: S602  (the Procfile line, as a platform runs it)
                f"exec {procfile_command(name)}",
                shell=True,
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.processes[label] = Process(label, name, popen)
        return self.processes[label]

    def start_all(self) -> None:
        self.start("web", "web")
        for name in WORKERS:
            self.start(name, name)
        for number, name in enumerate(SCHEDULERS, 1):
            self.start(f"{name}-{number}", name)

    def kill(self, label: str) -> None:
        """SIGKILL the process's whole group: no graceful shutdown, no chance to ack or requeue."""
        process = self.processes[label]
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.popen.pid, signal.SIGKILL)
        process.popen.wait()

    def restart(self, label: str) -> None:
        self.start(label, self.processes[label].name)

    def dead(self) -> list[str]:
        """Processes that exited on their own (a crash the run did not cause)."""
        return [p.label for p in self.processes.values() if p.popen.poll() is not None]

    def stop_all(self) -> None:
        for process in self.processes.values():
            if process.popen.poll() is None:
                os.killpg(process.popen.pid, signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.popen.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.popen.pid, signal.SIGKILL)
                process.popen.wait()
