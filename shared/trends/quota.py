"""The YouTube Data API quota: documented unit costs, the quota day, and the planner that keeps
every day inside the budget.

YouTube gives a project 10,000 units a day by default. A call costs a fixed number of units
whatever it returns — ``search.list`` 100, ``videos.list`` 1 and ``channels.list`` 1 (up to 50
ids each) — and the quota resets at midnight Pacific Time (America/Los_Angeles).

The planner records each call's units in the trend store *before* the request is sent, in
the same atomic step that checks the budget, and refuses a call that would take the day over
it (``QuotaRefused``): the collector stops before the quota, never after, even with several
collections running at once. When the API itself answers ``quotaExceeded`` (someone else
spent the project's quota, or the budget setting is higher than the real quota), the day is
marked exhausted until the next reset and every collection before then does nothing
(``QuotaExhausted``).

Arithmetic (see ``collection_cost``): one collection of a region with T topics and P search
pages costs 100·T·P units for the searches plus one unit per 50 videos and per 50 channels.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from functools import cache

from shared.ports.trends import TrendStore
from shared.trends.models import QuotaCall

#: Units per call, as the YouTube Data API documents them.
UNIT_COSTS: dict[str, int] = {"search.list": 100, "videos.list": 1, "channels.list": 1}
DEFAULT_DAILY_QUOTA = 10_000
#: Ids per ``videos.list`` / ``channels.list`` call, and results per ``search.list`` page.
MAX_IDS_PER_CALL = 50
SEARCH_PAGE_SIZE = 50
#: Known videos re-measured per region and collection (at most 4 ``videos.list`` calls).
TRACKED_LIMIT = 200
QUOTA_TIME_ZONE = "America/Los_Angeles"


class QuotaRefused(RuntimeError):
    """The call would take the day's spend over the budget; nothing was sent or recorded."""

    def __init__(self, method: str, units: int, spent: int, budget: int) -> None:
        super().__init__(f"{method} ({units} units) refused: {spent} of {budget} units spent today")
        self.method = method
        self.units = units


class QuotaExhausted(RuntimeError):
    """The API refused further calls today; nothing is sent until ``until``."""

    def __init__(self, until: float, reason: str = "quotaExceeded") -> None:
        when = datetime.fromtimestamp(until, UTC).strftime("%Y-%m-%d %H:%M UTC")
        super().__init__(f"YouTube quota exhausted ({reason}) until {when}")
        self.until = until
        self.reason = reason


# --- the quota day ----------------------------------------------------------------------------


@cache
def _zone() -> tzinfo | None:
    try:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError
    except ImportError:  # pragma: no cover - Python 3.9+ always has it
        return None
    try:
        return ZoneInfo(QUOTA_TIME_ZONE)
    except ZoneInfoNotFoundError:
        return None


def _nth_sunday(year: int, month: int, n: int) -> date:
    first = date(year, month, 1)
    return first + timedelta(days=(6 - first.weekday()) % 7 + 7 * (n - 1))


def pacific_offset(at: float) -> timedelta:
    """UTC offset of Pacific Time at ``at`` by the US rule (since 2007): daylight time from
    the second Sunday of March, 10:00 UTC, to the first Sunday of November, 09:00 UTC. Used
    where the system has no time zone database."""
    utc = datetime.fromtimestamp(at, UTC)
    start = datetime.combine(_nth_sunday(utc.year, 3, 2), datetime.min.time(), UTC)
    end = datetime.combine(_nth_sunday(utc.year, 11, 1), datetime.min.time(), UTC)
    daylight = start + timedelta(hours=10) <= utc < end + timedelta(hours=9)
    return timedelta(hours=-7 if daylight else -8)


def _local(at: float) -> datetime:
    zone = _zone()
    if zone is not None:
        return datetime.fromtimestamp(at, zone)
    return (datetime.fromtimestamp(at, UTC) + pacific_offset(at)).replace(tzinfo=None)


def quota_day(at: float) -> str:
    """The Pacific date of ``at`` (the API's quota day), ``YYYY-MM-DD``."""
    return _local(at).date().isoformat()


def next_reset(at: float) -> float:
    """The next midnight Pacific Time after ``at`` (Unix seconds): when the quota resets."""
    local = _local(at)
    midnight = datetime.combine(local.date() + timedelta(days=1), datetime.min.time())
    zone = _zone()
    if zone is not None:
        return midnight.replace(tzinfo=zone).timestamp()
    guess = midnight.replace(tzinfo=UTC).timestamp() + 8 * 3600
    return guess - (pacific_offset(guess) + timedelta(hours=8)).total_seconds()


# --- the arithmetic -----------------------------------------------------------------------------


def collection_cost(topics: int, pages: int, videos: int, channels: int) -> int:
    """Units one collection of one region spends: the search pages, then ``videos.list`` and
    ``channels.list`` in batches of 50."""
    return (
        topics * pages * UNIT_COSTS["search.list"]
        + math.ceil(videos / MAX_IDS_PER_CALL) * UNIT_COSTS["videos.list"]
        + math.ceil(channels / MAX_IDS_PER_CALL) * UNIT_COSTS["channels.list"]
    )


def worst_case_cost(topics: int, pages: int, tracked: int = TRACKED_LIMIT) -> int:
    """The most one collection of a region can spend: every search result a new video on a
    new channel, plus ``tracked`` known videos re-measured (on channels not seen yet)."""
    videos = topics * pages * SEARCH_PAGE_SIZE + tracked
    return collection_cost(topics, pages, videos, videos)


def collections_per_day(
    regions: int, topics: int, pages: int, budget: int = DEFAULT_DAILY_QUOTA
) -> int:
    """How many scheduled runs (each collecting every region) fit in a day, at worst."""
    return budget // (regions * worst_case_cost(topics, pages))


# --- the planner --------------------------------------------------------------------------------


@dataclass
class QuotaPlanner:
    """Charges each call against the day's budget before it is sent (see the module doc)."""

    store: TrendStore
    budget: int = DEFAULT_DAILY_QUOTA
    account: str = "youtube"
    """Separates ledgers: the live API key's, or a sample replay's own."""

    def day(self, at: float) -> str:
        return f"{self.account}:{quota_day(at)}"

    def blocked_until(self, at: float) -> float | None:
        """The reset time while the day is marked exhausted, else None."""
        until = self.store.quota(self.day(at)).exhausted_until
        return until if until is not None and at < until else None

    def charge(
        self, method: str, *, at: float, region: str = "", collection_id: str = ""
    ) -> QuotaCall:
        """Record the call's units, or raise ``QuotaExhausted`` / ``QuotaRefused``."""
        blocked = self.blocked_until(at)
        if blocked is not None:
            raise QuotaExhausted(blocked, self.store.quota(self.day(at)).reason or "quotaExceeded")
        units = UNIT_COSTS[method]
        call = QuotaCall(self.day(at), at, method, units, region, collection_id)
        if self.store.spend_quota(call, self.budget) is None:
            raise QuotaRefused(method, units, self.spent(at), self.budget)
        return call

    def exhausted(self, at: float, reason: str) -> float:
        """Mark the day exhausted (the API said so); returns the reset time."""
        until = next_reset(at)
        self.store.quota_exhausted(self.day(at), until, reason)
        return until

    def spent(self, at: float) -> int:
        return self.store.quota(self.day(at)).spent

    def remaining(self, at: float) -> int:
        return max(0, self.budget - self.spent(at))
