"""The load generators, each in its own process: wrk for HTTP, pgbench for the raw-SQL baselines.

Both run `connections` clients for `seconds` and hand back a `Load`: the `Run` (successful
operations, wall seconds, p50/p99 latency) and what failed. wrk's script is one of bench/lua/*.lua
with bench/lua/common.lua appended (thread numbering, a JSON summary line).
"""

from __future__ import annotations

import json
import shutil
import statistics
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from bench.harness import Run

LUA = Path(__file__).resolve().parent / "lua"
WRK_THREADS = 2


@dataclass(frozen=True)
class Load:
    run: Run
    failed: int  # non-2xx answers, socket errors and timeouts (wrk); failed transactions (pgbench)

    @property
    def ok(self) -> int:
        return self.run.ops


def require(tool: str) -> str:
    found = shutil.which(tool)
    if found is None:
        raise SystemExit(f"{tool} is not installed: `make bench` installs it (apt-get install -y {tool})")
    return found


def wrk(url: str, script: str, args: list[str], *, seconds: float, connections: int) -> Load:
    """`wrk` with bench/lua/<script>.lua against `url`; non-2xx answers count as failed."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as lua:
        lua.write((LUA / f"{script}.lua").read_text() + "\n" + (LUA / "common.lua").read_text())
    command = [require("wrk"), f"-t{min(WRK_THREADS, connections)}", f"-c{connections}"]
    command += [f"-d{max(1, round(seconds))}s", "--timeout", "10s", "-s", lua.name, url, "--", *args]
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60, check=False)
    Path(lua.name).unlink()
    line = next((ln for ln in done.stdout.splitlines() if ln.startswith("BENCH ")), None)
    if done.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr[-2000:]} {done.stdout[-2000:]}")
    found = json.loads(line.removeprefix("BENCH "))
    failed = sum(found[k] for k in ("connect", "read", "write", "status", "timeout"))
    ok = found["requests"] - found["status"]
    run = Run(ok, found["duration_us"] / 1e6, 0.0, found["p50_us"] / 1000, found["p99_us"] / 1000)
    return Load(run, failed)


def pgbench(database_url: str, script: str, *, seconds: float, connections: int) -> Load:
    """`pgbench -f` with the given script text; latencies from its per-transaction log."""
    directory = Path(tempfile.mkdtemp(prefix="backroom-pgbench-"))
    (directory / "script.sql").write_text(script)
    command = [require("pgbench"), "-n", "-M", "prepared", f"-c{connections}", f"-j{WRK_THREADS}"]
    command += [f"-T{max(1, round(seconds))}", "-f", str(directory / "script.sql"), "-l"]
    command += ["--log-prefix", str(directory / "tx"), database_url]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"pgbench failed ({done.returncode}): {done.stderr[-2000:]}")
        latencies: list[float] = []
        for log in directory.glob("tx*"):
            # client, transaction number, latency µs, script, epoch s, µs (a failure is "failed")
            latencies += [
                int(f[2]) / 1000 for f in map(str.split, log.read_text().splitlines()) if f[2].isdigit()
            ]
        seconds_run = _duration(done.stdout) or seconds
        failed = _field(done.stdout, "number of failed transactions:")
        cuts = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [0.0] * 99
        return Load(Run(len(latencies), seconds_run, 0.0, cuts[49], cuts[98]), failed)
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def _field(output: str, label: str) -> int:
    for line in output.splitlines():
        if line.strip().startswith(label):
            return int(line.split(":", 1)[1].split()[0])
    return 0


def _duration(output: str) -> float | None:
    """pgbench's own elapsed time ("duration: 8 s" is requested; tps lines give the real one)."""
    for line in output.splitlines():
        if line.startswith("number of transactions actually processed:"):
            processed = int(line.split(":", 1)[1].split("/")[0])
        if line.startswith("tps = "):
            tps = float(line.split()[2])
            return processed / tps if tps else None
    return None
