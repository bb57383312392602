"""What the API returns for a tale and its storyboard, and what ``tale status --json`` and
``tale storyboard --json`` print (the same views, so scripts and pages read the same fields).

Thumbnails are made when the storyboard is read, not when the shot is rendered: a PNG frame
from the middle of the clip, written once beside it (``…/00-a1.thumb.png`` for
``…/00-a1.mp4``) and only signed on later reads. That keeps the paid, claimed rendering path
as it is (a thumbnail that cannot be made never fails or delays a shot), works for clips that
the providers write themselves (Veo into the bucket, the GPU worker) and for tales rendered
before thumbnails existed, and gives every attempt and revision its own thumbnail because the
name follows the clip's. The cost is on the first read after a shot renders: one download and
one decoded frame per new clip.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable
from pathlib import Path, PurePosixPath

from schemas.plan import StoryPlan
from shared.api import budget
from shared.api.views import (
    CharacterView,
    MusicView,
    SceneView,
    StoryboardShot,
    StoryboardView,
    TaleView,
)
from shared.bootstrap import Container
from shared.domain.tale import ShotRecord, ShotStatus, TaleRecord
from shared.ports.blobs import BlobNotFound, BlobStore

log = logging.getLogger("tale.api")
THUMBNAIL_WIDTH = 320
PLANNED = "planned"
"""A shot's status before the storyboard is approved (no shot record exists yet)."""


def tale_view(container: Container, tale: TaleRecord) -> TaleView:
    """The tale with its shots and, before and during generation, its cost estimate (from
    the storyboard once there is one)."""
    view = TaleView.of(tale, container.store.shots(tale.tale_id))
    if not tale.state.terminal:
        view.estimate = budget.view(budget.estimate_of(container, tale))
    return view


def thumbnail_path(clip_path: str) -> str:
    clip = PurePosixPath(clip_path)
    return str(clip.with_name(f"{clip.stem}.thumb.png"))


def thumbnail(blobs: BlobStore, clip_path: str) -> str | None:
    """The blob path of the clip's thumbnail, made now if it does not exist yet; None when
    the clip cannot be read or decoded (the storyboard is shown without it)."""
    path = thumbnail_path(clip_path)
    if blobs.exists(path):
        return path
    from av.error import FFmpegError

    from shared.media.thumbnails import thumbnail_png

    try:
        with tempfile.TemporaryDirectory(prefix="tale-thumb-") as tmp:
            clip = blobs.download(clip_path, Path(tmp) / "clip.mp4")
            png = thumbnail_png(clip, THUMBNAIL_WIDTH)
    except (BlobNotFound, FFmpegError, ValueError, OSError) as exc:
        log.warning("no thumbnail for %s: %s", clip_path, exc)
        return None
    blobs.put_bytes(path, png, "image/png")  # atomic: a concurrent reader writes the same
    return path


def storyboard_view(container: Container, tale: TaleRecord, plan: StoryPlan) -> StoryboardView:
    """The storyboard of ``tale`` (planned as ``plan``) with signed URLs of what exists."""
    store, blobs = container.store, container.blobs
    ttl = container.settings.video_url_ttl_s

    def signed(path: str | None) -> str | None:
        return blobs.signed_url(path, ttl) if path else None

    images = store.characters(tale.tale_id)
    records = {s.index: s for s in store.shots(tale.tale_id)}
    shots = []
    for shot in plan.shots:
        record = records.get(shot.index)
        thumb, clip, voice = _shot_media(blobs, record, signed)
        shots.append(
            StoryboardShot(
                index=shot.index,
                scene_index=shot.scene_index,
                camera=shot.camera.value,
                duration_s=shot.duration_s,
                narration=shot.narration,
                prompt=shot.prompt,
                characters=list(shot.characters),
                status=record.status.value if record else PLANNED,
                attempt=record.attempt if record else 0,
                thumbnail_url=thumb,
                clip_url=clip,
                voice_url=voice,
            )
        )
    outputs = tale.outputs
    return StoryboardView(
        id=tale.tale_id,
        status=tale.state.value,
        version=tale.plan_version,
        title=plan.title,
        language=plan.language,
        style=plan.style.value,
        aspect_ratio=plan.aspect_ratio,
        characters=[
            CharacterView(
                name=c.name, description=c.description, image_url=signed(images.get(c.name))
            )
            for c in plan.characters
        ],
        scenes=[
            SceneView(index=s.index, setting=s.setting, summary=s.summary) for s in plan.scenes
        ],
        shots=shots,
        storyboard_url=signed(outputs.get("storyboard")),
        poster_url=signed(outputs.get("poster")),
        video_url=signed(outputs.get("video")),
        expires_in=ttl,
        estimate=None if tale.state.terminal else budget.view(budget.estimate_of(container, tale)),
        music=MusicView.of(tale.music),
    )


def _shot_media(
    blobs: BlobStore, record: ShotRecord | None, signed: Callable[[str | None], str | None]
) -> tuple[str | None, str | None, str | None]:
    """Signed URLs of the shot's thumbnail, clip and voice (None for what does not exist)."""
    if record is None:
        return None, None, None
    voice = signed(record.voice_path)  # "" (nothing to say) is no URL either
    if record.status is not ShotStatus.RENDERED or not record.clip_path:
        return None, None, voice
    return signed(thumbnail(blobs, record.clip_path)), signed(record.clip_path), voice
