"""The YouTube Data API quota as Google documents it (checked 2026-12-01), the quota day, and
the planner that keeps every day inside it.

Google's quota page (https://developers.google.com/youtube/v3/determine_quota_cost) gives a
project **100 ``search.list`` calls, 100 ``videos.insert`` calls and 10,000 units a day for
every other endpoint**: ``search.list`` and ``videos.insert`` have buckets of their own, at a
cost of 1 per call (each further page is another call); ``videos.list``, ``channels.list``
and ``playlistItems.list`` cost 1 unit of the pool each. Every request is charged, an
invalid one too, and the quotas reset at midnight Pacific Time (America/Los_Angeles).

The planner records each call in its bucket's ledger *before* the request is sent, in the
same atomic step that checks that bucket's budget, and refuses a call that would take the
day over it (``QuotaRefused``): the collector stops before a quota, never after, even with
several collections at once. When the API itself answers ``quotaExceeded`` (someone else
spent the project's quota, or a budget setting is above the real one), that call's bucket is
marked exhausted until the reset (``QuotaExhausted``): an exhausted search bucket stops
searching only — the region charts and re-measuring (``videos.list``) go on from the pool.

Arithmetic: ``run_cost`` gives what one scheduled run can spend at most (see docs/trends.md).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from functools import cache

from shared.ports.trends import TrendStore
from shared.trends.models import QuotaCall

POOL = "units"
SEARCH = "search"


@dataclass(frozen=True)
class Cost:
    bucket: str
    units: int


#: What each call costs and from which bucket (Google's quota page, checked 2026-12-01).
COSTS: dict[str, Cost] = {
    "search.list": Cost(SEARCH, 1),
    "videos.list": Cost(POOL, 1),
    "channels.list": Cost(POOL, 1),
    "playlistItems.list": Cost(POOL, 1),
}
DEFAULT_DAILY_QUOTA = 10_000
DEFAULT_DAILY_SEARCHES = 100
#: Ids per ``videos.list`` / ``channels.list`` call; results per page of a list or search.
MAX_IDS_PER_CALL = 50
PAGE_SIZE = 50
QUOTA_TIME_ZONE = "America/Los_Angeles"


class QuotaRefused(RuntimeError):
    """The call would take its bucket's day over the budget; nothing was sent or recorded."""

    def __init__(self, method: str, bucket: str, spent: int, budget: int) -> None:
        super().__init__(f"{method} refused: {spent} of {budget} {_unit(bucket)} spent today")
        self.method = method
        self.bucket = bucket


class QuotaExhausted(RuntimeError):
    """The API refused further calls of a bucket today; none is sent until ``until``."""

    def __init__(self, until: float, reason: str = "quotaExceeded", bucket: str = POOL) -> None:
        when = datetime.fromtimestamp(until, UTC).strftime("%Y-%m-%d %H:%M UTC")
        what = "search quota" if bucket == SEARCH else "YouTube quota"
        super().__init__(f"{what} exhausted ({reason}) until {when}")
        self.until = until
        self.reason = reason
        self.bucket = bucket


def _unit(bucket: str) -> str:
    return "searches" if bucket == SEARCH else "units"


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


@dataclass(frozen=True)
class RunShape:
    """What one scheduled run asks for, per region."""

    categories: int
    """Regional charts (each category, and "" for all of them)."""
    chart_pages: int
    queries: int
    """Seed queries over all niches."""
    search_pages: int
    tracked: int
    """Known videos re-measured at most."""
    baselines: int
    """Channels whose recent Shorts are sized at most (2 calls each)."""


@dataclass(frozen=True)
class RunCost:
    units: int
    searches: int


def region_cost(shape: RunShape) -> RunCost:
    """The most one collection of one region spends: every chart page (1 unit each), every
    search page (1 call of the search bucket each) and ``videos.list`` for its up to 50
    results, the re-measured videos in batches of 50, ``channels.list`` for every video on a
    new channel, and ``playlistItems.list`` + ``videos.list`` per channel baseline."""
    pages = shape.categories * shape.chart_pages
    searched = shape.queries * shape.search_pages
    tracked = math.ceil(shape.tracked / MAX_IDS_PER_CALL)
    channels = pages + searched + tracked  # every video on a channel of its own
    return RunCost(pages + searched + tracked + channels + 2 * shape.baselines, searched)


def run_cost(regions: int, shape: RunShape) -> RunCost:
    one = region_cost(shape)
    return RunCost(regions * one.units, regions * one.searches)


def runs_per_day(
    regions: int,
    shape: RunShape,
    budget: int = DEFAULT_DAILY_QUOTA,
    searches: int = DEFAULT_DAILY_SEARCHES,
) -> int:
    """How many scheduled runs (each collecting every region) fit in a day, at worst: the
    fewer of what the pool and the search bucket allow."""
    cost = run_cost(regions, shape)
    by_units = budget // cost.units if cost.units else math.inf
    by_searches = searches // cost.searches if cost.searches else math.inf
    fit = min(by_units, by_searches)
    return int(fit) if fit != math.inf else 10**6


# --- the planner --------------------------------------------------------------------------------


@dataclass
class QuotaPlanner:
    """Charges each call to its bucket before it is sent (see the module doc)."""

    store: TrendStore
    budget: int = DEFAULT_DAILY_QUOTA
    """Units of the pool a day."""
    searches: int = DEFAULT_DAILY_SEARCHES
    """``search.list`` calls a day."""
    account: str = "youtube"
    """Separates ledgers: the live API key's, or a sample replay's own."""

    def day(self, at: float, bucket: str = POOL) -> str:
        if bucket == POOL:
            return f"{self.account}:{quota_day(at)}"
        return f"{self.account}:{bucket}:{quota_day(at)}"

    def limit(self, bucket: str) -> int:
        return self.searches if bucket == SEARCH else self.budget

    def blocked_until(self, at: float, bucket: str = POOL) -> float | None:
        """The reset time while the bucket's day is marked exhausted, else None."""
        until = self.store.quota(self.day(at, bucket)).exhausted_until
        return until if until is not None and at < until else None

    def charge(
        self, method: str, *, at: float, region: str = "", collection_id: str = ""
    ) -> QuotaCall:
        """Record the call, or raise ``QuotaExhausted`` / ``QuotaRefused``."""
        cost = COSTS[method]
        day = self.day(at, cost.bucket)
        blocked = self.blocked_until(at, cost.bucket)
        if blocked is not None:
            reason = self.store.quota(day).reason or "quotaExceeded"
            raise QuotaExhausted(blocked, reason, cost.bucket)
        call = QuotaCall(day, at, method, cost.units, region, collection_id, cost.bucket)
        if self.store.spend_quota(call, self.limit(cost.bucket)) is None:
            raise QuotaRefused(
                method, cost.bucket, self.spent(at, cost.bucket), self.limit(cost.bucket)
            )
        return call

    def exhausted(self, at: float, reason: str, method: str) -> QuotaExhausted:
        """Mark the bucket of ``method`` exhausted (the API said so) until the reset."""
        bucket = COSTS[method].bucket
        until = next_reset(at)
        self.store.quota_exhausted(self.day(at, bucket), until, reason)
        return QuotaExhausted(until, reason, bucket)

    def spent(self, at: float, bucket: str = POOL) -> int:
        return self.store.quota(self.day(at, bucket)).spent

    def remaining(self, at: float, bucket: str = POOL) -> int:
        return max(0, self.limit(bucket) - self.spent(at, bucket))
