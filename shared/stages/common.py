"""Small helpers shared by the stage handlers."""

from __future__ import annotations

from schemas.plan import StoryPlan
from shared.domain.errors import PermanentError
from shared.domain.tale import TaleRecord
from shared.ports.store import TaleStore


def require_tale(store: TaleStore, tale_id: str) -> TaleRecord:
    tale = store.find(tale_id)
    if tale is None:
        raise PermanentError(f"no tale {tale_id}")
    return tale


def require_plan(store: TaleStore, tale_id: str) -> StoryPlan:
    plan = store.plan(tale_id)
    if plan is None:
        raise PermanentError(f"tale {tale_id} has no plan yet")
    return plan


def tale_prefix(tale_id: str) -> str:
    """Blob path prefix of one tale's media."""
    return f"tales/{tale_id}"


def cut_prefix(tale_id: str, revision: int) -> str:
    """Blob path prefix of one cut's media (the final video, poster, storyboard, captions):
    the tale's own for the first cut, ``revisions/<n>`` under it for the n-th revision, so
    every earlier cut stays where it was."""
    base = tale_prefix(tale_id)
    return base if revision == 0 else f"{base}/revisions/{revision}"


def music_path(tale_id: str, sha256: str) -> str:
    """Blob path of a tale's uploaded background music, named by its content: an upload that
    replaces the track is a new object, so a stitch never reads a track changing under it."""
    return f"{tale_prefix(tale_id)}/music/{sha256}"
