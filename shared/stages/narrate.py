"""Stage ``narrate_shot`` (trigger: ``narration.requested``): voice one shot's narration.

Requested for every shot when the shots are, it runs beside ``render_shot``: the picture and
the voice are independent (a re-rendered shot keeps its voice). The voice is a paid call in
scenario A, so it is claimed like any paid step and written to a location fixed by the shot
(``tales/<id>/voice/<index>.wav``): a redelivery that finds the file records it instead of
speaking again. Recording the voice and counting it for the fan-in are one unit of work each;
the completion that finds every shot rendered and voiced moves the tale to stitching and
publishes ``stitch.requested`` (as ``collect_shots`` does for the last rendered shot).

A shot without narration, or a tale whose voice is ``none``, records ``""``: nothing to
voice, and the shot keeps the video model's own sound or stays quiet.

A deferred narrator (scenario B: the GPU worker voices the narration in the tale's job) is
not called: until the worker's voice is at the shot's location the delivery returns without
claiming anything, and the worker asks for the shot again (``narration.requested``) once its
voice is there — that delivery records it and counts it.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import av

from schemas.events import NarrationRequested, StitchRequested
from shared.domain import markers
from shared.domain.tale import TaleState
from shared.media.narration import prepare
from shared.media.soundtrack import NarrationTooLong, NoAudio
from shared.ports.blobs import BlobStore
from shared.ports.bus import EventBus
from shared.ports.store import TaleStore
from shared.ports.usage import Usage, UsageRecorder
from shared.ports.voices import NO_VOICE, VoiceGenerator
from shared.pubsub_message import Envelope
from shared.stages.common import require_plan, require_tale, tale_prefix


def voice_path(tale_id: str, index: int, revision: int = 0) -> str:
    suffix = f"-v{revision}" if revision else ""
    return f"{tale_prefix(tale_id)}/voice/{index:02d}{suffix}.wav"


def prepared_path(voice: str) -> str:
    """Where the narration voiced at ``voice`` is kept prepared for the final cut."""
    return str(PurePosixPath(voice).with_suffix(".m4a"))


def narrate_shot(
    event: NarrationRequested,
    store: TaleStore,
    voices: VoiceGenerator,
    blobs: BlobStore,
    bus: EventBus,
    envelope: Envelope,
    usage: UsageRecorder,
) -> None:
    tale_id, index = event.tale_id, event.shot_index
    tale = require_tale(store, tale_id)
    state = tale.state
    if state.terminal or event.revision != tale.revision:
        return
    shot = store.shot(tale_id, index)
    if shot is None:
        return  # the shots are created before narration is requested; a stray event
    if shot.voice_path is None and state is TaleState.RENDERING:
        line = _line(event, store)
        if line is not None and voices.deferred and not blobs.exists(line.path):
            return  # the GPU worker voices it, then asks for this shot again
        me = envelope.message_id
        if store.claim(tale_id, markers.handling(event.key), me) != me:
            return  # a duplicate: the holder's delivery voices it
        spoken, wav = _speak(line, store, voices, blobs, usage) if line is not None else ("", None)
        if line is not None and spoken:
            _prepare(line, wav, store, blobs)
        store.record_voice(tale_id, index, spoken)
    result = store.fan_in(tale_id, index, 0, event.key)
    if result.fan_in_key == event.key:  # again on a redelivery, if the publish was lost
        bus.publish(StitchRequested(tale_id=tale_id, revision=tale.revision))


@dataclass(frozen=True)
class Line:
    """What one shot's narration is to be voiced as, and where its voice goes."""

    tale_id: str
    index: int
    text: str
    language: str
    voice: str
    path: str
    shot_seconds: int
    """The planned shot's length (the narration is prepared to fit it)."""


def narration_line(store: TaleStore, tale_id: str, index: int, revision: int) -> Line | None:
    """The shot's line to voice, or ``None`` when there is nothing to voice (no narration,
    or the tale's voice is ``none``)."""
    plan = require_plan(store, tale_id)
    text = plan.shots[index].narration.strip() if index < len(plan.shots) else ""
    voice = store.options(tale_id).voice  # not the sealed story: no key unwrap per shot
    if not text or voice == NO_VOICE:
        return None
    return Line(
        tale_id,
        index,
        text,
        plan.language,
        voice,
        voice_path(tale_id, index, revision),
        plan.shots[index].duration_s,
    )


def _line(event: NarrationRequested, store: TaleStore) -> Line | None:
    return narration_line(store, event.tale_id, event.shot_index, event.revision)


def _speak(
    line: Line,
    store: TaleStore,
    voices: VoiceGenerator,
    blobs: BlobStore,
    usage: UsageRecorder,
) -> tuple[str, bytes | None]:
    """The blob path of the shot's voiced narration, and its WAV when this call spoke it."""
    tale_id, index, path = line.tale_id, line.index, line.path
    if blobs.exists(path):  # spoken by an earlier delivery (or the GPU worker)
        return path, None
    speech = voices.synthesize(line.text, line.language, line.voice, tale_id=tale_id)
    blobs.put_bytes(path, speech.wav, "audio/wav")
    if speech.units:
        usage.record(
            Usage(
                tale_id, f"voice:{index}", voices.provider, voices.model, speech.units, time.time()
            )
        )
    store.log(tale_id, "rendering", f"shot {index + 1}: narration voiced ({speech.seconds:.1f} s)")
    return path, speech.wav


def _prepare(line: Line, wav: bytes | None, store: TaleStore, blobs: BlobStore) -> None:
    """Leave the shot's narration prepared for the final cut (``shared.media.narration``):
    levelled, fitted to the planned shot and encoded here, beside the other shots, rather
    than all at the end. ``wav``: the voice when this delivery spoke it (else it is read back
    from the line's path). A narration that cannot be prepared is mixed from its voice by the
    final cut instead, which reports what is wrong with it."""
    tale_id, index, spoken = line.tale_id, line.index, line.path
    target = prepared_path(spoken)
    if blobs.exists(target):  # an earlier delivery prepared it
        return
    with tempfile.TemporaryDirectory(prefix="tale-narrate-") as tmp:
        voice = Path(tmp) / "voice.wav"
        if wav is None:
            blobs.download(spoken, voice)
        else:
            voice.write_bytes(wav)
        try:
            prepared = prepare(voice, line.shot_seconds, index, Path(tmp) / "prepared.m4a")
        except (NarrationTooLong, NoAudio, av.FFmpegError) as exc:
            store.log(tale_id, "rendering", f"shot {index + 1}: narration not prepared: {exc}")
            return
        blobs.put_file(target, Path(tmp) / "prepared.m4a", "audio/mp4")
    if prepared.tempo > 1:
        store.log(
            tale_id, "rendering", f"shot {index + 1}: narration sped up {prepared.tempo:.2f}×"
        )
