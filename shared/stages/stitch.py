"""Stage ``stitch_video`` (trigger: ``stitch.requested``): final video, poster, storyboard.

Idempotent: the first message claims the work (duplicates drop themselves), outputs are
rewritten whole (atomic blob writes) and the tale moves stitching → completed by
compare-and-set; a redelivery after completion only re-announces ``tale.finished``.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from schemas.events import StitchRequested, TaleFinished
from shared.domain import markers
from shared.domain.errors import PermanentError
from shared.domain.tale import ShotStatus, TaleState
from shared.media.probe import frame_at, probe
from shared.media.sheets import StoryboardEntry, poster, storyboard_sheet
from shared.media.stitch import stitch
from shared.ports.blobs import BlobStore
from shared.ports.bus import EventBus
from shared.ports.store import TaleStore
from shared.pubsub_message import Envelope
from shared.stages.common import cut_prefix, require_plan, require_tale


def stitch_video(
    event: StitchRequested, store: TaleStore, blobs: BlobStore, bus: EventBus, envelope: Envelope
) -> None:
    tale_id = event.tale_id
    tale = require_tale(store, tale_id)
    if tale.state is TaleState.COMPLETED:
        bus.publish(TaleFinished(tale_id=tale_id, outcome="completed", revision=tale.revision))
        return
    if tale.state is not TaleState.STITCHING:
        return
    if (
        store.claim(event.tale_id, markers.handling(event.key), envelope.message_id)
        != envelope.message_id
    ):
        return  # a duplicate: the holder's delivery stitches (or is redelivered until it does)
    plan = require_plan(store, tale_id)
    shots = store.shots(tale_id)
    missing = [s.index + 1 for s in shots if s.status is not ShotStatus.RENDERED]
    if missing or len(shots) != len(plan.shots):
        raise PermanentError(f"cannot stitch: shots {missing} are not rendered")
    prefix = cut_prefix(tale_id, tale.revision)
    outputs = {
        "video": f"{prefix}/final.mp4",
        "poster": f"{prefix}/poster.png",
        "storyboard": f"{prefix}/storyboard.png",
    }
    with tempfile.TemporaryDirectory(prefix="tale-stitch-") as tmp:
        work = Path(tmp)
        clips = [blobs.download(s.clip_path or "", work / f"{s.index:02d}.mp4") for s in shots]
        report = stitch(clips, work / "final.mp4")
        frames = [frame_at(clip, probe(clip).duration / 2) for clip in clips]
        entries = [
            StoryboardEntry(
                number=shot.index + 1, image=frame, prompt=shot.prompt, narration=shot.narration
            )
            for shot, frame in zip(plan.shots, frames, strict=True)
        ]
        blobs.put_file(outputs["video"], work / "final.mp4", "video/mp4")
        blobs.put_bytes(
            outputs["poster"],
            poster(frames[0], plan.title, f"{len(clips)} shots · {report.duration:.0f} s"),
            "image/png",
        )
        blobs.put_bytes(outputs["storyboard"], storyboard_sheet(plan.title, entries), "image/png")
    store.update(tale_id, outputs=outputs)
    store.log(
        tale_id,
        "stitching",
        f"stitched {report.clips} clips by "
        f"{'stream copy' if report.method == 'copy' else 're-encoding'}: "
        f"{report.duration:.1f} s, {report.width}×{report.height}, {report.frames} frames",
    )
    moved = store.transition(tale_id, {TaleState.STITCHING}, TaleState.COMPLETED, stage="completed")
    state = TaleState.COMPLETED if moved else require_tale(store, tale_id).state
    if state is not TaleState.COMPLETED:
        # Cancelled or failed while stitching: that outcome was announced, not this one.
        store.log(tale_id, "stitching", f"stitched, but the tale was {state} meanwhile")
        return
    bus.publish(TaleFinished(tale_id=tale_id, outcome="completed", revision=tale.revision))
