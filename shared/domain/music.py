"""A tale's background music: the owner's uploaded track, what is accepted, and when it may
change.

The track is the per-tale option ``music`` (an uploaded file, optional). It is recorded on the
tale (``TaleRecord.music``) by the same unit of work that checks the tale's state, so an
upload cannot slip in while the cut that would use it is being stitched; the file itself is a
blob named by its SHA-256 (``shared.stages.common.music_path``), so a replaced or removed
track never changes under a stitch that is reading it, and the same upload twice is the same
track.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

MAX_MUSIC_BYTES = 20 * 1024 * 1024
"""The largest upload (20 MiB: about 20 minutes of MP3 at 128 kb/s, two minutes of CD-quality
WAV); a declared ``Content-Length`` over it is refused before the body is read."""
MAX_MUSIC_SECONDS = 600
"""The longest track (10 minutes): a tale lasts about a minute and the track is looped under
it, so a longer one would only cost memory when it is mixed."""
MIN_MUSIC_SECONDS = 1.0
"""The shortest track: it is looped under the whole cut, so a blip would be a buzz."""

#: The formats Tale reads a track in: FFmpeg demuxer → the media type a track of it is stored
#: with. The format is recognised from the file's own leading bytes (``shared.media.tracks``).
FORMATS: dict[str, str] = {
    "mp3": "audio/mpeg",
    "aac": "audio/aac",
    "mp4": "audio/mp4",
    "wav": "audio/wav",
    "ogg": "audio/ogg",
    "flac": "audio/flac",
    "webm": "audio/webm",
}
#: The ``Content-Type`` an upload may be sent with (what browsers and ``curl`` say for these
#: files); anything else is refused before the body is read (415).
CONTENT_TYPES: tuple[str, ...] = (
    "audio/mpeg",
    "audio/mp3",
    "audio/mp4",
    "audio/x-m4a",
    "audio/aac",
    "audio/wav",
    "audio/x-wav",
    "audio/wave",
    "audio/vnd.wave",
    "audio/ogg",
    "audio/flac",
    "audio/x-flac",
    "audio/webm",
)


@dataclass(frozen=True)
class MusicTrack:
    """An uploaded track as the tale records it."""

    path: str
    """The blob it is kept in (named by its SHA-256)."""
    sha256: str
    content_type: str
    """The media type of the format it was read as (``FORMATS``), whatever it was sent as."""
    bytes: int
    seconds: float
    channels: int
    sample_rate: int

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> MusicTrack:
        return cls(
            path=str(data["path"]),
            sha256=str(data["sha256"]),
            content_type=str(data["content_type"]),
            bytes=int(data["bytes"]),
            seconds=float(data["seconds"]),
            channels=int(data["channels"]),
            sample_rate=int(data["sample_rate"]),
        )


def accepted_type(content_type: str | None) -> bool:
    """Whether an upload sent as ``content_type`` (parameters ignored) may be read."""
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    return media_type in CONTENT_TYPES
