"""Reading an uploaded music track: what format it is, and that it decodes to audio.

The format is recognised from the file's own leading bytes (after any ID3 tag), never
guessed by FFmpeg's probing, and the file is then opened with that demuxer only. Probing would
try every demuxer FFmpeg has, among them playlist formats (HLS, concat) that open the files and
URLs they name; a file that starts as an MP3, a WAV or an MP4 does is read as one, here and
when the stitch stage decodes it. The whole audio stream is decoded (not only its header's
duration, which a file may state wrongly), counting samples without keeping them, and decoding
stops as soon as the track is longer than allowed.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import av

from shared.domain.errors import InvalidMusic
from shared.domain.music import FORMATS, MAX_MUSIC_SECONDS, MIN_MUSIC_SECONDS

NAMES = {
    "mp3": "MP3",
    "aac": "AAC",
    "mp4": "MP4",
    "wav": "WAV",
    "ogg": "Ogg",
    "flac": "FLAC",
    "webm": "WebM",
}
_MP4_BOXES = {b"ftyp", b"moov", b"mdat", b"free", b"skip", b"wide"}
_MAX_ID3_TAGS = 4


@dataclass(frozen=True)
class TrackInfo:
    format: str
    """The FFmpeg demuxer it was read with (a key of ``shared.domain.music.FORMATS``)."""
    seconds: float
    channels: int
    sample_rate: int

    @property
    def content_type(self) -> str:
        return FORMATS[self.format]


def _after_id3(data: bytes) -> int:
    """Where the audio starts: after the ID3v2 tags an MP3, an AAC or a FLAC file may begin
    with (header of 10 bytes, a syncsafe size, a footer of 10 more when flagged)."""
    start = 0
    for _ in range(_MAX_ID3_TAGS):
        head = data[start : start + 10]
        if len(head) < 10 or head[:3] != b"ID3" or any(b & 0x80 for b in head[6:10]):
            break
        size = (head[6] << 21) | (head[7] << 14) | (head[8] << 7) | head[9]
        start += 10 + size + (10 if head[5] & 0x10 else 0)
    return start


def _frame_sync(head: bytes) -> str | None:
    """``aac`` for an ADTS header, ``mp3`` for an MPEG audio frame header, else None."""
    if len(head) < 3 or head[0] != 0xFF:
        return None
    if head[1] & 0xF6 == 0xF0:  # 12 sync bits, layer 00: ADTS
        return "aac"
    version, layer = (head[1] >> 3) & 3, (head[1] >> 1) & 3
    bitrate, rate = head[2] >> 4, (head[2] >> 2) & 3
    if head[1] & 0xE0 == 0xE0 and version != 1 and layer != 0 and bitrate != 15 and rate != 3:
        return "mp3"
    return None


def sniff(data: bytes) -> str | None:
    """The format of ``data`` by its leading bytes (a key of ``FORMATS``); None when it is
    none of them."""
    if data[:4] in (b"RIFF", b"RF64") and data[8:12] == b"WAVE":
        return "wav"
    if data[:4] == b"OggS":
        return "ogg"
    if data[:4] == b"\x1a\x45\xdf\xa3":  # EBML: WebM (or Matroska)
        return "webm"
    if data[4:8] in _MP4_BOXES:
        return "mp4"
    start = _after_id3(data)
    if data[start : start + 4] == b"fLaC":
        return "flac"
    return _frame_sync(data[start : start + 4])


def inspect_track(data: bytes, max_seconds: float = MAX_MUSIC_SECONDS) -> TrackInfo:
    """What ``data`` is as a track; ``InvalidMusic`` when it is no format Tale reads, has no
    audio stream, does not decode, or lasts less than ``MIN_MUSIC_SECONDS`` or more than
    ``max_seconds``."""
    found = sniff(data)
    if found is None:
        raise InvalidMusic(
            "unknown-format", "the file is not MP3, AAC, MP4/M4A, WAV, Ogg, FLAC or WebM audio"
        )
    name = NAMES[found]
    seconds = 0.0
    try:
        with av.open(io.BytesIO(data), mode="r", format=found) as box:
            if not box.streams.audio:
                raise InvalidMusic("no-audio", f"the {name} file has no audio stream", format=name)
            stream = box.streams.audio[0]
            channels = stream.codec_context.channels
            sample_rate = stream.codec_context.sample_rate
            for frame in box.decode(stream):
                if frame.sample_rate:
                    seconds += frame.samples / frame.sample_rate
                if seconds > max_seconds:
                    raise InvalidMusic(
                        "too-long",
                        f"the track is longer than {max_seconds:.0f} s, the most a track may last",
                        limit=f"{max_seconds:.0f}",
                    )
    except (av.error.FFmpegError, ValueError, OSError, EOFError) as exc:
        raise InvalidMusic(
            "undecodable",
            f"the {name} file cannot be decoded (it is damaged, or not what it seems): "
            f"{getattr(exc, 'strerror', None) or exc}",
            format=name,
        ) from exc
    if seconds < MIN_MUSIC_SECONDS:
        raise InvalidMusic(
            "too-short",
            f"the track lasts {seconds:.2f} s; a track must last at least {MIN_MUSIC_SECONDS:g} s",
            seconds=f"{seconds:.2f}",
            limit=f"{MIN_MUSIC_SECONDS:g}",
        )
    return TrackInfo(found, round(seconds, 3), channels or 1, sample_rate or 0)
