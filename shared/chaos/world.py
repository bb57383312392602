"""What a chaos run leaves behind, for the invariant checks."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from shared.adapters.local.blobs import FilesystemBlobStore
from shared.adapters.local.bus import SqliteEventBus
from shared.adapters.local.ledger import SqliteLedger
from shared.bootstrap import Container
from shared.chaos.faults import Chaos, ChaosVideos
from shared.config import Settings
from shared.ports.store import TaleStore


@dataclass(frozen=True)
class TaleSpec:
    """One tale as its owner asked for it."""

    tale_id: str
    owner: str
    shots: int
    seconds: int
    aspect_ratio: str
    cost: int
    submitted: bool = True
    """False when the tale was never created: its reservation was refused (402), or the API
    died at the submission (``lost``)."""
    lost: bool = False
    """The API died at the submission, just before or just after reserving the credits: no
    tale was created, and a reservation made is an orphan the sweep returns."""


@dataclass(frozen=True)
class RevisionSpec:
    """One revision the owner asked for (admitted: charged ``cost`` credits)."""

    revision: int
    cost: int


@dataclass
class ChaosWorld:
    """The home of a chaos run, its adapters (the fault-injecting ones) and what was asked."""

    home: Path
    settings: Settings
    container: Container
    chaos: Chaos
    store: TaleStore
    bus: SqliteEventBus
    ledger: SqliteLedger
    blobs: FilesystemBlobStore
    videos: ChaosVideos
    tales: list[TaleSpec] = field(default_factory=list)
    grants: dict[str, int] = field(default_factory=dict)
    """User → credits granted."""
    revisions: dict[str, list[RevisionSpec]] = field(default_factory=dict)
    """Tale id → the revisions its owner started."""
    deadline_s: float = 0.0
    deadline_hit: bool = False
    elapsed_s: float = 0.0
    runtimes: int = 0
    delivered: int = 0
    dead_lettered: int = 0

    @property
    def outbox(self) -> Path:
        return self.home / "outbox"

    def submitted(self) -> list[TaleSpec]:
        return [t for t in self.tales if t.submitted]

    def blob_path(self, path: str) -> Path:
        return self.blobs.root / path
