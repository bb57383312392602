"""Stage ``stitch_video`` (trigger: ``stitch.requested``): final video with its soundtrack and
captions, the captions as SRT and WebVTT, poster, storyboard.

The clips are stitched (stream copy when they allow), each shot's voiced narration is placed
at its start (sped up by at most 1.25× to fit; a narration that still does not fit fails
the tale naming the shot), the clips' own sound is kept under the voice, the owner's music
(``TaleRecord.music``, uploaded with ``PUT …/music``) is looped under the whole cut and ducked
under the voice, the soundtrack is normalised to -14 LUFS and the captions follow the tale's
``captions`` option (a subtitle track, burned in, or only the files).

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
from shared.i18n import message
from shared.media.captions import to_srt, to_vtt
from shared.media.final_cut import FinalCut, ShotInput, final_cut
from shared.media.probe import frame_at, probe
from shared.media.sheets import StoryboardEntry, poster, storyboard_sheet
from shared.media.soundtrack import NarrationTooLong, NoAudio, Placement
from shared.ports.blobs import BlobNotFound, BlobStore
from shared.ports.bus import EventBus
from shared.ports.store import TaleStore
from shared.pubsub_message import Envelope
from shared.stages.common import cut_prefix, require_plan, require_tale
from shared.stages.narrate import prepared_path


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
        "captions_srt": f"{prefix}/captions.srt",
        "captions_vtt": f"{prefix}/captions.vtt",
    }
    captions = store.options(tale_id).captions
    with tempfile.TemporaryDirectory(prefix="tale-stitch-") as tmp:
        work = Path(tmp)
        inputs = [
            ShotInput(
                clip=blobs.download(s.clip_path or "", work / f"{s.index:02d}.mp4"),
                narration=planned.narration,
                # downloaded only if the soundtrack is mixed from the voices (fetch_voices)
                voice=work / f"{s.index:02d}.wav" if s.voice_path else None,
                prepared=_prepared(blobs, s.voice_path, work / f"{s.index:02d}.m4a"),
            )
            for s, planned in zip(shots, plan.shots, strict=True)
        ]

        def fetch_voices() -> None:
            for shot in shots:
                if shot.voice_path:
                    blobs.download(shot.voice_path, work / f"{shot.index:02d}.wav")

        # the owner's track, as recorded when the tale moved to stitching (it cannot change
        # while the tale stitches: ``TaleAggregate.set_music``)
        track = blobs.download(tale.music.path, work / "music") if tale.music else None
        try:
            cut = final_cut(
                inputs,
                work / "final.mp4",
                work,
                language=plan.language,
                captions=captions,
                music=track,
                fetch_voices=fetch_voices,
            )
        except (NarrationTooLong, NoAudio) as exc:
            raise PermanentError(f"cannot mix the soundtrack: {exc}") from exc
        frames = [frame_at(i.clip, probe(i.clip).duration / 2) for i in inputs]
        entries = [
            StoryboardEntry(
                number=shot.index + 1,
                image=frame,
                prompt=shot.prompt,
                narration=shot.narration,
                timing=_timing(placed),
            )
            for shot, frame, placed in zip(
                plan.shots, frames, cut.soundtrack.narration, strict=True
            )
        ]
        blobs.put_file(outputs["video"], work / "final.mp4", "video/mp4")
        blobs.put_bytes(outputs["captions_srt"], to_srt(cut.cues).encode(), "application/x-subrip")
        blobs.put_bytes(outputs["captions_vtt"], to_vtt(cut.cues).encode(), "text/vtt")
        blobs.put_bytes(
            outputs["poster"],
            poster(
                frames[0],
                plan.title,
                message(
                    plan.language,
                    "media.poster.subtitle",
                    shots=len(inputs),
                    seconds=f"{cut.video.duration:.0f}",
                ),
            ),
            "image/png",
        )
        blobs.put_bytes(outputs["storyboard"], storyboard_sheet(plan.title, entries), "image/png")
    store.update(tale_id, outputs=outputs)
    for line in _report(cut):
        store.log(tale_id, "stitching", line)
    moved = store.transition(tale_id, {TaleState.STITCHING}, TaleState.COMPLETED, stage="completed")
    state = TaleState.COMPLETED if moved else require_tale(store, tale_id).state
    if state is not TaleState.COMPLETED:
        # Cancelled or failed while stitching: that outcome was announced, not this one.
        store.log(tale_id, "stitching", f"stitched, but the tale was {state} meanwhile")
        return
    bus.publish(TaleFinished(tale_id=tale_id, outcome="completed", revision=tale.revision))


def _prepared(blobs: BlobStore, voice: str | None, dest: Path) -> Path | None:
    """The shot's narration as ``narrate_shot`` prepared it, when it did."""
    if not voice:
        return None
    try:
        return blobs.download(prepared_path(voice), dest)
    except BlobNotFound:
        return None


def _timing(placed: Placement | None) -> str:
    if placed is None:
        return "not voiced"
    speed = f" · {placed.tempo:.2f}×" if placed.tempo > 1 else ""
    return f"{_clock(placed.start)}–{_clock(placed.end)}{speed}"


def _clock(seconds: float) -> str:
    minutes, rest = divmod(seconds, 60)
    return f"{int(minutes)}:{rest:04.1f}"


def _report(cut: FinalCut) -> list[str]:
    video, sound = cut.video, cut.soundtrack
    voiced = [p for p in sound.narration if p is not None]
    faster = [p.tempo for p in voiced if p.tempo > 1]
    burned = cut.captions == "burned" and cut.cues
    return [
        f"stitched {video.clips} clips by "
        f"{'stream copy' if video.method == 'copy' else 're-encoding'}: "
        f"{video.duration:.1f} s, {video.width}×{video.height}, {video.frames} frames",
        f"soundtrack: {len(voiced)} narrations"
        + (" (spliced as prepared)" if sound.samples is None else "")
        + (f" ({len(faster)} sped up, at most {max(faster):.2f}×)" if faster else "")
        + f", {sound.clips_with_audio} clips with their own sound"
        + (", music" if sound.music else "")
        + f"; {sound.loudness.integrated:.1f} LUFS, true peak {sound.loudness.true_peak:.1f} dBTP"
        + (" (limited)" if sound.limited else ""),
        f"captions: {len(cut.cues)} cues, "
        + {"off": "files only", "soft": "a subtitle track", "burned": "burned in"}[cut.captions]
        + (" (the video re-encoded)" if burned else ""),
    ]
