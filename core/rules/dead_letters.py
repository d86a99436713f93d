"""Dead-letter rules: how failures are grouped, and what a replay may do. No IO."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from typing import Any

# Top-level packages that are "our code" for a fingerprint's origin frame.
OUR_PACKAGES = ("api", "cli", "worker", "jobs", "services", "schedules", "db", "core")
# Options that belong to one delivery, not to the job: a replay starts without them.
DELIVERY_OPTIONS = frozenset(
    {
        "retries",
        "traceback",
        "redis_message_id",
        "eta",
        "requeue_timestamp",
        "first_failed_at",
        "permanent_failure",
        "dead_letter_id",
        "replay_of",
    }
)


def origin_frame(frames: Iterable[tuple[str, str]], packages: Iterable[str] = OUR_PACKAGES) -> str:
    """`module/path.py:function` of the innermost frame in our code, or of the innermost frame at all.

    `frames` are (filename, function) pairs, outermost first, as traceback.extract_tb gives them.
    Line numbers are left out on purpose: an edit elsewhere in the file must not split a group.
    """
    frames = list(frames)
    marks = tuple(f"/{package}/" for package in packages)
    for filename, function in reversed(frames):
        normalized = filename.replace("\\", "/")
        for mark in marks:
            if mark in normalized and "/site-packages/" not in normalized:
                return f"{mark[1:]}{normalized.split(mark, 1)[1]}:{function}"
    if frames:
        filename, function = frames[-1]
        return f"{filename.rsplit('/', 1)[-1]}:{function}"
    return "unknown"


def fingerprint(exception_type: str, origin: str) -> str:
    """A short stable id for 'this exception from this place'."""
    return hashlib.sha256(f"{exception_type}|{origin}".encode()).hexdigest()[:12]


def may_replay(state: str, force: bool) -> bool:
    """A replayed entry is not replayed again by accident; `force` says it is on purpose."""
    return state == "dead" or force


def replay_options(options: Mapping[str, Any], dead_letter_id: int) -> dict[str, Any]:
    """The original message's own options (time limits, retry settings), a fresh retry budget,
    and a pointer back to the entry it replays."""
    kept = {key: value for key, value in options.items() if key not in DELIVERY_OPTIONS}
    return {**kept, "replay_of": dead_letter_id}


def canonical_queue(queue: str) -> str:
    """A message that failed from the delay queue belongs to its plain queue."""
    return queue.removesuffix(".DQ")
