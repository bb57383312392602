"""Tale records port: the user-facing copy of each tale that the frontend reads and watches.

On Supabase this is ``public.tales`` (row-level security: owners read their own; Realtime
publishes changes), written only by the backend. It carries the tale fields of the API's
progress events (``GET /v1/tales/{id}/events``: status, stage, progress, the shot count, how
many shots are rendered and voiced, the error), so a page follows a tale the same way with
either; per-shot detail is the API's (``GET /v1/tales/{id}``). The pipeline's own state
lives in the tale store; the store adapters call an ``on_change`` hook after every change of
a tale, and the composition root points it at ``TaleRecords.upsert(public_view(tale))`` —
stages never call it.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

from shared.domain.tale import TaleRecord


@dataclass(frozen=True)
class PublicTale:
    tale_id: str
    owner: str
    title: str
    status: str
    stage: str
    progress: int
    poster_path: str | None
    video_path: str | None
    error_reason: str | None
    created_at: float
    updated_at: float
    error_stage: str | None = None
    shot_count: int = 0
    shots_rendered: int = 0
    shots_voiced: int = 0


class TaleRecords(ABC):
    @abstractmethod
    def upsert(self, record: PublicTale) -> None:
        """Insert or replace the record (idempotent; the latest write wins)."""

    @abstractmethod
    def get(self, tale_id: str) -> PublicTale | None: ...


def public_view(tale: TaleRecord) -> PublicTale:
    """The user-facing fields of a tale (never the story text)."""
    return PublicTale(
        tale_id=tale.tale_id,
        owner=tale.owner,
        title=tale.title,
        status=tale.state.value,
        stage=tale.stage,
        progress=tale.progress,
        poster_path=tale.outputs.get("poster"),
        video_path=tale.outputs.get("video"),
        error_reason=tale.error_reason,
        created_at=tale.created_at,
        updated_at=tale.updated_at,
        error_stage=tale.error_stage,
        shot_count=tale.shot_count,
        shots_rendered=tale.rendered,
        shots_voiced=tale.voiced,
    )
