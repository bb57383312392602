"""Set or remove a tale's background music: ``PUT``/``DELETE /v1/tales/{id}/music``,
``tale music`` and ``tale run --music``.

Setting:
1. the tale is the owner's (``TaleNotFound`` otherwise) and its music may change now
   (``MusicLocked``; checked before the file is decoded);
2. the file is read (``read_music``): sent as an audio type Tale takes
   (``UnsupportedMusicType``), at most ``MAX_MUSIC_BYTES``, a format recognised by its own
   bytes, decoded whole, from ``MIN_MUSIC_SECONDS`` to ``MAX_MUSIC_SECONDS`` long
   (``InvalidMusic``);
3. it is stored under its SHA-256 (``music_path``): the same file is the same object;
4. one unit of work records the track on the tale if the state still allows
   (``TaleStore.set_music``); if it does not, the object just written is removed again
   (unless it is the recorded track) and ``MusicLocked`` is raised;
5. the track it replaced, if another, is deleted.

Removing clears the record (the same state rule), then deletes the object. Every step may be
repeated: the same upload writes the same object and records the same track; removing what is
not there changes nothing, in any state.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

from shared.domain.errors import (
    InvalidMusic,
    MusicLocked,
    TaleNotFound,
    UnsupportedMusicType,
)
from shared.domain.music import CONTENT_TYPES, MAX_MUSIC_BYTES, MusicTrack, accepted_type
from shared.domain.tale import TaleRecord, music_may_change
from shared.ports.blobs import BlobStore
from shared.ports.store import TaleStore
from shared.stages.common import music_path

if TYPE_CHECKING:
    from shared.media.tracks import TrackInfo


@dataclass(frozen=True)
class MusicFile:
    """An upload that was read and found to be a track Tale can mix."""

    data: bytes
    info: TrackInfo
    sha256: str


@dataclass(frozen=True)
class MusicSet:
    track: MusicTrack
    created: bool
    """The tale had no music before."""


def check_type(content_type: str | None) -> None:
    """``UnsupportedMusicType`` unless ``content_type`` is one of the audio types taken."""
    if not accepted_type(content_type):
        raise UnsupportedMusicType(content_type or "", CONTENT_TYPES)


def read_music(data: bytes, content_type: str | None = None) -> MusicFile:
    """``data`` as a track (``content_type``: what it was sent as; None: not said, as for a
    file on disk). Decodes it whole: PyAV is loaded on first use."""
    if content_type is not None:
        check_type(content_type)
    if len(data) > MAX_MUSIC_BYTES:
        raise InvalidMusic(
            "too-large",
            f"the file has {len(data)} bytes; the limit is {MAX_MUSIC_BYTES} bytes",
            length=len(data),
            limit=MAX_MUSIC_BYTES,
        )
    from shared.media.tracks import inspect_track

    return MusicFile(data, inspect_track(data), hashlib.sha256(data).hexdigest())


def changeable_tale(store: TaleStore, tale_id: str, owner: str | None = None) -> TaleRecord:
    """The tale (``owner``'s, when given) if its music may change now; ``TaleNotFound`` or
    ``MusicLocked`` otherwise."""
    tale = store.find(tale_id)
    if tale is None or (owner is not None and tale.owner != owner):
        raise TaleNotFound(tale_id)
    if not music_may_change(tale.state, "video" in tale.outputs):
        raise MusicLocked(tale_id, tale.state.value)
    return tale


def set_music(
    tale_id: str,
    music: MusicFile,
    *,
    store: TaleStore,
    blobs: BlobStore,
    owner: str | None = None,
) -> MusicSet:
    changeable_tale(store, tale_id, owner)
    info = music.info
    path = music_path(tale_id, music.sha256)
    blobs.put_bytes(path, music.data, info.content_type)
    track = MusicTrack(
        path=path,
        sha256=music.sha256,
        content_type=info.content_type,
        bytes=len(music.data),
        seconds=info.seconds,
        channels=info.channels,
        sample_rate=info.sample_rate,
    )
    try:
        previous = store.set_music(tale_id, track)
    except MusicLocked:
        now = store.find(tale_id)
        if now is None or now.music is None or now.music.path != path:
            blobs.delete(path)
        raise
    if previous is not None and previous.path != path:
        blobs.delete(previous.path)
    return MusicSet(track, created=previous is None)


def remove_music(
    tale_id: str, *, store: TaleStore, blobs: BlobStore, owner: str | None = None
) -> MusicTrack | None:
    """Remove the tale's music; the track removed (None: it had none)."""
    tale = store.find(tale_id)
    if tale is None or (owner is not None and tale.owner != owner):
        raise TaleNotFound(tale_id)
    previous = store.set_music(tale_id, None)
    if previous is not None:
        blobs.delete(previous.path)
    return previous
