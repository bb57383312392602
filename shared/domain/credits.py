"""What a tale costs and what each plan grants.

A tale costs one credit per started 8 seconds of video: ``ceil(shots × seconds / 8)``. The
default tale (8 shots × 8 s = 64 s) costs 8 credits; a 4-shot tale of 4-second shots costs 2.
Monthly grants are set in settings as a number of default tales (free: 2, pro: 20,
business: 100) so that "2 tales a month" stays true if the default length changes.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime

SECONDS_PER_CREDIT = 8


def tale_cost(shot_count: int, shot_seconds: int) -> int:
    return seconds_cost(shot_count * shot_seconds)


def seconds_cost(seconds: int) -> int:
    """The credits of that many seconds of video (a storyboard's: the sum of its shots'
    lengths, which an edit may change shot by shot); at least 1."""
    return max(1, math.ceil(seconds / SECONDS_PER_CREDIT))


def ledger_key(tale_id: str, revision: int = 0) -> str:
    """What the ledger reserves, settles and refunds under: the tale, or one revision of it
    (each revision is paid for, settled and refunded on its own)."""
    return tale_id if revision == 0 else f"{tale_id}.r{revision}"


_REVISION_KEY = re.compile(r"(?P<tale>.+)\.r(?P<revision>[1-9][0-9]*)")


def key_parts(key: str) -> tuple[str, int]:
    """The tale and revision a ledger key names (``ledger_key`` read back; tale ids have no
    dots, so the suffix is never part of one)."""
    found = _REVISION_KEY.fullmatch(key)
    return (found["tale"], int(found["revision"])) if found else (key, 0)


def orphaned(revision: int, started: int | None) -> bool:
    """Whether a reservation for ``revision`` of a tale (0: its first cut) pays for nothing
    that exists: the tale was never created (``started`` is None), or the latest revision it
    started (``started``) is an earlier one — the request that reserved died before starting
    it."""
    return started is None or started < revision


def period_of(ts: float) -> str:
    """The grant period (``YYYY-MM``, UTC) a moment falls in."""
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m")
