"""`python -m soak [--seconds N] [--faults redis,postgres,workers,scheduler|none]`: the soak run
and its audit; exits 1 with a table of what failed, 0 when every promise held."""

from __future__ import annotations

import argparse
import os
import sys

from soak.faults import KINDS
from soak.report import report
from soak.run import soak


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m soak", description=__doc__)
    parser.add_argument("--seconds", type=float, default=float(os.environ.get("SOAK_SECONDS", "600")))
    parser.add_argument("--faults", default=",".join(KINDS), help="comma-separated, or `none`")
    parser.add_argument("--threads", type=int, default=3)
    parser.add_argument("--rate", type=float, default=2.0, help="actions per second per thread")
    args = parser.parse_args()
    kinds = set() if args.faults == "none" else {k.strip() for k in args.faults.split(",") if k.strip()}
    unknown = kinds - set(KINDS)
    if unknown:
        parser.error(f"unknown faults: {', '.join(sorted(unknown))} (known: {', '.join(KINDS)})")
    outcome = soak(args.seconds, kinds, threads=args.threads, rate=args.rate)
    print(report(outcome))
    return 0 if all(check.ok for check in outcome.checks) else 1


if __name__ == "__main__":
    sys.exit(main())
