"""Offline shot renderer: real H.264 clips whose frames show the shot (a placeholder for
Veo / CogVideoX, not a model).

It behaves like an operation API so the stage code is the same as for paid providers:
``start`` renders synchronously and stores the clip, returning an operation id that encodes
the output path; ``poll`` reports it done once the clip exists. It costs nothing, so it is
not ``paid``: a dead worker's claim may be taken over.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from shared.ports.blobs import BlobNotFound, BlobStore
from shared.ports.generators import VideoGenerator, VideoPoll, VideoRequest
from shared.providers.offline.images import seed_of

_ASPECT = {"9:16": (9, 16), "16:9": (16, 9), "1:1": (1, 1)}
_OP_PREFIX = "offline/"


def frame_size(aspect_ratio: str, height: int) -> tuple[int, int]:
    """(width, height), both even, for the aspect ratio at about ``height`` pixels tall."""
    w, h = _ASPECT[aspect_ratio]
    width = round(height * w / h / 2) * 2
    return width, height - height % 2


class OfflineVideoGenerator(VideoGenerator):
    paid = False
    provider = "offline"
    model = "offline-clip-renderer"

    def __init__(
        self,
        blobs: BlobStore,
        *,
        height: int = 640,
        fps: int = 24,
        delay_s: float = 0.0,
        font: Path | None = None,
    ) -> None:
        self.blobs = blobs
        self.height = height
        self.fps = fps
        self.delay_s = delay_s
        self.font = font

    def start(self, request: VideoRequest) -> str:
        from shared.media.clips import ClipSpec, render_clip

        if self.delay_s:
            time.sleep(self.delay_s)
        shot, plan = request.shot, request.plan
        width, height = frame_size(plan.aspect_ratio, self.height)
        with tempfile.TemporaryDirectory(prefix="tale-shot-") as tmp:
            work = Path(tmp)
            refs: list[tuple[str, Path | None]] = []
            for name in shot.characters:
                path = request.reference_images.get(name)
                local = None
                if path is not None:
                    try:
                        local = self.blobs.download(path, work / f"ref-{len(refs)}.png")
                    except BlobNotFound:
                        local = None
                refs.append((name, local))
            spec = ClipSpec(
                width=width,
                height=height,
                fps=self.fps,
                seconds=float(shot.duration_s),
                shot_number=shot.index + 1,
                shot_total=len(plan.shots),
                title=plan.title,
                camera=shot.camera.value,
                prompt=shot.prompt,
                narration=shot.narration,
                characters=tuple(refs),
                seed=seed_of(f"{plan.title}/{shot.index}"),
                font=self.font,
                language=plan.language,
            )
            out = work / "clip.mp4"
            render_clip(spec, out)
            self.blobs.put_file(request.output_path, out, "video/mp4")
        return _OP_PREFIX + request.output_path

    def poll(self, operation_id: str) -> VideoPoll:
        if not operation_id.startswith(_OP_PREFIX):
            return VideoPoll(done=True, error=f"unknown operation {operation_id!r}")
        path = operation_id.removeprefix(_OP_PREFIX)
        if self.blobs.exists(path):
            return VideoPoll(done=True, clip_path=path)
        return VideoPoll(done=True, error="the offline renderer's clip is missing")
