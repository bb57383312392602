"""The work of one task for its tale: character references, shots and (scenario B) their
narration, each inference audited."""

from __future__ import annotations

import io
import logging
import tempfile
from collections.abc import Callable
from pathlib import Path

from PIL import Image

from schemas.events import NarrationRequested, ShotRendered
from schemas.plan import Shot, StoryPlan
from shared.bootstrap import Container
from shared.domain.errors import PermanentError
from shared.domain.tale import TaleState
from shared.media.encode import write_h264
from shared.ports.usage import Usage
from shared.providers.plan_drafts import reference_prompt
from shared.providers.selfhosted import tts_models
from shared.providers.voice_options import offered_voices
from shared.stages.narrate import narration_line
from worker.tale_worker.clips import (
    fit_frames,
    prompt_sha256,
    reference_path,
    seed_for,
    sized,
    video_prompt,
)
from worker.tale_worker.pipelines import ImagePipeline, VideoPipeline
from worker.tale_worker.speech import SpeechPipeline

log = logging.getLogger(__name__)

PROVIDER = "self-hosted"
ACTOR = "gpu-worker"
STAGE = "rendering"
REFERENCE_POLL_S = 5.0
#: A line may run this much longer than its shot: the mixer speeds narration up by at most
#: 1.25× to fit it (shared/stages/stitch.py), so longer speech would be refused there.
MAX_TEMPO = 1.25


class TaskWork:
    """What one task does for its tale: audit, character references, shots."""

    def __init__(
        self,
        container: Container,
        tale_id: str,
        video: VideoPipeline,
        images: ImagePipeline | None,
        fps: int,
        clock: Callable[[], float],
        reference_size: int,
    ) -> None:
        self.c = container
        self.tale_id = tale_id
        self.video = video
        self.images = images
        self.fps = fps
        self.clock = clock
        self.reference_size = reference_size
        self._plan: StoryPlan | None = None

    def state(self) -> TaleState:
        tale = self.c.store.find(self.tale_id)
        if tale is None:
            raise PermanentError(f"no tale {self.tale_id}")
        return tale.state

    @property
    def plan(self) -> StoryPlan:
        if self._plan is None:
            self._plan = self.c.store.plan(self.tale_id)
            if self._plan is None:
                raise PermanentError(f"tale {self.tale_id} has no plan")
        return self._plan

    def audit(self, model: str, prompt: str) -> None:
        audit = getattr(self.c, "audit", None)
        if audit is not None:
            audit.record(
                actor=ACTOR, tale_id=self.tale_id, model=model, prompt_sha256=prompt_sha256(prompt)
            )

    # --- character references -----------------------------------------------------------
    def draw_references(self, names: list[str]) -> list[str]:
        """Draw the references of ``names`` that have none yet; return those drawn."""
        assert self.images is not None
        done = self.c.store.characters(self.tale_id)
        drawn = []
        for number, character in enumerate(self.plan.characters):
            if character.name not in names or character.name in done:
                continue
            prompt = reference_prompt(character, self.plan)
            size = self.reference_size
            self.audit(self.images.name, prompt)
            image = self.images.render(
                prompt, size, size, seed_for(self.tale_id, "character", character.name)
            )
            out = io.BytesIO()
            image.save(out, format="PNG")
            path = reference_path(self.tale_id, number)
            self.c.blobs.put_bytes(path, out.getvalue(), "image/png")
            self.c.store.record_character(self.tale_id, character.name, path)
            self.c.store.log(self.tale_id, "characters", f"reference image for {character.name}")
            drawn.append(character.name)
        return drawn

    def wait_for_references(
        self, shot: Shot, sleep: Callable[[float], None], wait_s: float
    ) -> None:
        """Give task 0 time to draw the references this shot starts from; past ``wait_s``
        draw them here (same path and seed as task 0 would)."""
        if self.images is None or not shot.characters:
            return
        deadline = self.clock() + wait_s
        while set(shot.characters) - set(self.c.store.characters(self.tale_id)):
            if self.clock() >= deadline:
                self.draw_references(shot.characters)
                return
            sleep(REFERENCE_POLL_S)

    def first_frame(self, shot: Shot, prompt: str, width: int, height: int) -> Image.Image:
        """The first present character's reference, else a still of the shot's prompt."""
        references = self.c.store.characters(self.tale_id)
        cast = [n for n in shot.characters if n in references]
        if cast:
            return Image.open(io.BytesIO(self.c.blobs.get_bytes(references[cast[0]]))).convert(
                "RGB"
            )
        if self.images is None:
            raise PermanentError(
                f"shot {shot.index + 1}: the image-to-video model {self.video.name} needs a "
                "first frame, and there is no character reference nor image model "
                "(TALE_GPU_IMAGE_WEIGHTS) to draw one"
            )
        self.audit(self.images.name, prompt)
        return self.images.render(prompt, width, height, seed_for(self.tale_id, shot.index))

    # --- shots ----------------------------------------------------------------------------
    def render(self, shot: Shot, attempt: int, path: str) -> float:
        """Render, encode, upload, record and announce one shot; return its GPU seconds."""
        tale_id, index = self.tale_id, shot.index
        width, height = self.video.size_for(self.plan.aspect_ratio)
        count = self.fps * shot.duration_s
        prompt = video_prompt(self.plan, shot)
        first = self.first_frame(shot, prompt, width, height) if self.video.image_to_video else None
        self.audit(self.video.name, prompt)
        started = self.clock()
        frames = self.video.render(
            prompt,
            frames=count,
            width=width,
            height=height,
            fps=self.fps,
            first_frame=first,
            seed=seed_for(tale_id, index, attempt),
        )
        seconds = max(0.0, self.clock() - started)
        with tempfile.TemporaryDirectory(prefix="tale-clip-") as tmp:
            out = Path(tmp) / "clip.mp4"
            clip = (sized(f, width, height) for f in fit_frames(frames, count))
            write_h264(clip, out, fps=self.fps, width=width, height=height)
            self.c.blobs.put_file(path, out, "video/mp4")
        self.c.usage.record(
            Usage(
                tale_id,
                f"shot:{index}:{attempt}",
                PROVIDER,
                self.video.name,
                {"gpu_seconds": round(seconds, 3)},
                self.clock(),
            )
        )
        self.c.store.log(
            tale_id,
            STAGE,
            f"shot {index + 1}: rendered by the GPU worker ({len(frames)} model frames → "
            f"{count} at {self.fps} fps, {seconds:.1f} s)",
        )
        self.announce(index, attempt, path)
        return seconds

    # --- narration ------------------------------------------------------------------------
    def needs_voice(self, shot: Shot) -> bool:
        """Whether the shot's narration waits for this worker (it has a line, no voice yet)."""
        record = self.c.store.shot(self.tale_id, shot.index)
        if record is None or record.voice_path is not None:
            return False
        return narration_line(self.c.store, self.tale_id, shot.index, self.revision) is not None

    def voice(self, shot: Shot, speech: SpeechPipeline | None) -> float:
        """Voice the shot's narration where ``narrate_shot`` looks for it and ask for the shot
        again (``narration.requested``), which records and counts it; return GPU seconds.
        Without a speech model the shot is recorded as not voiced, and the tale's events say
        why (the tale still finishes, quiet where it would have been narrated)."""
        tale_id, index = self.tale_id, shot.index
        if not self.needs_voice(shot):
            return 0.0
        line = narration_line(self.c.store, tale_id, index, self.revision)
        assert line is not None
        if self.c.blobs.exists(line.path):  # voiced by an earlier run of this task
            self.ask_for_voice(index)
            return 0.0
        if speech is None:
            self.c.store.record_voice(tale_id, index, "")
            self.c.store.log(
                tale_id,
                STAGE,
                f"shot {index + 1}: narration not voiced: the GPU worker has no speech model "
                "(TALE_GPU_VOICE_WEIGHTS)",
            )
            self.ask_for_voice(index)
            return 0.0
        voice = line.voice or offered_voices(self.c.settings, line.language)[0]
        self.audit(speech.name, line.text)
        started = self.clock()
        spoken = speech.speak(
            line.text,
            tts_models.preset(voice),
            seed_for(tale_id, "voice", index, self.revision),
            max_seconds=shot.duration_s * MAX_TEMPO,
        )
        seconds = max(0.0, self.clock() - started)
        self.c.blobs.put_bytes(line.path, spoken.wav, "audio/wav")
        units = {
            "gpu_seconds": round(seconds, 3),
            "characters": float(len(line.text)),
            "audio_seconds": round(spoken.seconds, 3),
        }
        self.c.usage.record(
            Usage(tale_id, f"voice:{index}", PROVIDER, speech.name, units, self.clock())
        )
        self.c.store.log(
            tale_id,
            STAGE,
            f"shot {index + 1}: narration voiced by the GPU worker ({spoken.seconds:.1f} s of "
            f"speech, {seconds:.1f} s)",
        )
        self.ask_for_voice(index)
        return seconds

    @property
    def revision(self) -> int:
        tale = self.c.store.find(self.tale_id)
        return tale.revision if tale is not None else 0

    def ask_for_voice(self, index: int) -> None:
        self.c.bus.publish(
            NarrationRequested(tale_id=self.tale_id, shot_index=index, revision=self.revision)
        )

    def announce(self, index: int, attempt: int, path: str) -> None:
        # A no-op unless the shot stage claimed the attempt (then its poll finds it done).
        self.c.store.finish_shot(self.tale_id, index, attempt, path)
        self.c.bus.publish(
            ShotRendered(tale_id=self.tale_id, shot_index=index, attempt=attempt, clip_path=path)
        )
