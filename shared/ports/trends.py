"""Trend store port: the trend scout's state — videos and their statistics over time, channel
baselines, the YouTube quota spent per call, analysed trends, digest followers, business API
keys and their metered calls.

One contract suite (``tests/trends/test_store_contract.py``) runs against every adapter:
SQLite (the embedded default) and Firestore (on GCP, tested on the emulator).

Idempotency lives in the keys: a snapshot is keyed by (region, video, time), so a collection
that runs again writes the same rows; an analysis is stored whole under its id, so a
redelivered analysis replaces itself, and each write-up is stored as it is produced
(``save_trend``); ``spend_quota`` and ``count_call`` are the read-modify-writes and are
atomic, so two collections at once can never overspend a day's budget between them, and no
metered call is lost.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable

from shared.trends.models import (
    ApiKey,
    ChannelBaseline,
    Follower,
    QuotaCall,
    QuotaState,
    Snapshot,
    Trend,
    VideoInfo,
)


class TrendStore(ABC):
    # --- videos and snapshots --------------------------------------------------------------
    @abstractmethod
    def save_videos(self, videos: Iterable[VideoInfo]) -> None:
        """Insert or replace each video (by id)."""

    @abstractmethod
    def videos(self, ids: Iterable[str]) -> dict[str, VideoInfo]:
        """The known ones among ``ids``."""

    @abstractmethod
    def add_snapshots(self, snapshots: Iterable[Snapshot]) -> None:
        """Store each; the same (region, video, time) replaces the earlier one."""

    @abstractmethod
    def snapshots(self, region: str, since: float, until: float | None = None) -> list[Snapshot]:
        """The region's snapshots taken in [since, until], ordered by video, then time."""

    @abstractmethod
    def prune_snapshots(self, region: str, before: float) -> int:
        """Delete the region's snapshots older than ``before``; how many went (retention)."""

    @abstractmethod
    def save_channel_baselines(self, baselines: Iterable[ChannelBaseline]) -> None:
        """Insert or replace each (by channel id)."""

    @abstractmethod
    def channel_baselines(self, ids: Iterable[str]) -> dict[str, ChannelBaseline]:
        """The known ones among ``ids``."""

    # --- quota -------------------------------------------------------------------------------
    @abstractmethod
    def spend_quota(self, call: QuotaCall, budget: int) -> int | None:
        """Atomically: when the day's spend plus ``call.units`` stays within ``budget``, record
        the call and return the new total; otherwise record nothing and return None."""

    @abstractmethod
    def quota(self, day: str) -> QuotaState: ...

    @abstractmethod
    def quota_calls(self, day: str) -> list[QuotaCall]:
        """The day's recorded calls, oldest first."""

    @abstractmethod
    def quota_exhausted(self, day: str, until: float, reason: str) -> None:
        """Record that the API refused further calls until ``until`` (its quota reset)."""

    # --- trends ------------------------------------------------------------------------------
    @abstractmethod
    def save_analysis(
        self,
        region: str,
        analysis_id: str,
        at: float,
        trends: list[Trend],
        *,
        publish: bool = True,
    ) -> None:
        """Store an analysis' trends, replacing any earlier version of the same analysis.
        With ``publish`` it becomes the region's latest unless a later analysis is already
        published, and the first published analysis of its UTC day (``daily``) if that day has
        none yet."""

    @abstractmethod
    def save_trend(self, trend: Trend) -> None:
        """Replace one stored trend (a write-up added), keeping its analysis and rank."""

    @abstractmethod
    def daily(self, region: str | None, day: str) -> list[Trend]:
        """The first analysis published on UTC day ``day`` (``YYYY-MM-DD``) of ``region`` (of
        every region when None), by rank."""

    @abstractmethod
    def analysis(self, analysis_id: str) -> list[Trend]:
        """An analysis' trends by rank (empty when it was never stored)."""

    @abstractmethod
    def latest(self, region: str | None = None, limit: int = 20) -> list[Trend]:
        """The latest analysis' trends of ``region`` (of every region when None), by rank."""

    @abstractmethod
    def trend(self, trend_id: str) -> Trend | None: ...

    # --- followers ---------------------------------------------------------------------------
    @abstractmethod
    def follow(self, follower: Follower) -> None:
        """Add or update (same email, kind and value: the language is replaced)."""

    @abstractmethod
    def unfollow(self, follower: Follower) -> bool:
        """Remove; False when it was not following."""

    @abstractmethod
    def followers(self) -> list[Follower]:
        """Everyone, ordered by email, kind and value."""

    @abstractmethod
    def follower(self, follower_id: str) -> Follower | None: ...

    # --- API keys ------------------------------------------------------------------------------
    @abstractmethod
    def add_key(self, key: ApiKey) -> None: ...

    @abstractmethod
    def key_by_hash(self, key_hash: str) -> ApiKey | None: ...

    @abstractmethod
    def revoke_key(self, key_id: str, at: float) -> bool:
        """Revoke; False for an unknown or already revoked key."""

    @abstractmethod
    def replace_key(self, key: ApiKey) -> bool:
        """Replace the key with the same ``key_id`` (expiry, rotation); False when unknown."""

    @abstractmethod
    def api_keys(self) -> list[ApiKey]:
        """Every key (revoked ones too), oldest first."""

    @abstractmethod
    def count_call(self, key_id: str, period: str) -> int:
        """Atomically add one to the key's calls in ``period`` (``YYYY-MM``); the new count."""

    @abstractmethod
    def calls(self, key_ids: Iterable[str], period: str) -> dict[str, int]:
        """Calls per key in ``period`` (0 for a key without any)."""
