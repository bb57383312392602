"""``tale music ID FILE`` / ``tale music ID --remove``: a tale's background music, as an
operator on this home; ``read_track`` also checks ``tale run --music FILE``.

The same rules as ``PUT``/``DELETE /v1/tales/{id}/music`` (``shared.usecases.set_music``): a
file Tale can mix (MP3, AAC, MP4/M4A, WAV, Ogg, FLAC or WebM, recognised by its own bytes, at
most 20 MiB and 10 minutes), set while the tale has not been stitched or once it has a
finished video (for its next revision). Bad input — a missing file, one that is not such a
track, a tale that is stitching — gets one line on stderr and exit code 2, and nothing is
changed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from shared import bootstrap
from shared.cli.common import fail_input, out
from shared.domain.errors import InvalidMusic, MusicLocked, TaleNotFound
from shared.domain.music import MAX_MUSIC_BYTES, MusicTrack
from shared.usecases.set_music import MusicFile, read_music, remove_music, set_music


def read_track(path: Path) -> MusicFile:
    """The file at ``path`` as a track, or exit 2 saying why it is not one."""
    if not path.exists():
        fail_input(f"no such file: {path}")
    if not path.is_file():
        fail_input(f"not a file: {path}")
    size = path.stat().st_size
    if size > MAX_MUSIC_BYTES:
        fail_input(f"{path} has {size} bytes; a music track may have {MAX_MUSIC_BYTES} bytes")
    try:
        return read_music(path.read_bytes())
    except InvalidMusic as exc:
        fail_input(f"{path}: {exc}")


def described(track: MusicTrack) -> str:
    minutes, seconds = divmod(track.seconds, 60)
    layout = {1: "mono", 2: "stereo"}.get(track.channels, f"{track.channels} channels")
    return (
        f"{track.content_type}, {int(minutes)}:{seconds:04.1f}, {layout}, "
        f"{track.sample_rate} Hz, {track.bytes} bytes"
    )


def music(
    tale_id: Annotated[str, typer.Argument(help="The tale.")],
    file: Annotated[
        Path | None,
        typer.Argument(
            help="An audio file: MP3, AAC, MP4/M4A, WAV, Ogg, FLAC or WebM, at most 20 MiB "
            "and 10 minutes."
        ),
    ] = None,
    remove: Annotated[bool, typer.Option("--remove", help="Remove the tale's music.")] = False,
) -> None:
    """Set a tale's background music (looped under the whole video, ducked under the
    narration), or remove it with --remove: before the tale is stitched, or once it has a
    finished video (for its next revision)."""
    if (file is None) == (not remove):
        fail_input("give a FILE to set the music, or --remove (not both)")
    container = bootstrap.container()
    try:
        if file is None:
            removed = remove_music(tale_id, store=container.store, blobs=container.blobs)
            out.print(
                f"Removed the music of {tale_id}." if removed else f"{tale_id} had no music.",
                highlight=False,
            )
            return
        track = read_track(file)
        result = set_music(tale_id, track, store=container.store, blobs=container.blobs)
    except TaleNotFound:
        fail_input(f"no tale {tale_id}")
    except MusicLocked as exc:
        fail_input(str(exc))
    out.print(
        f"Music of {tale_id}: {described(result.track)}. It plays under the video when the "
        "tale is stitched.",
        highlight=False,
        soft_wrap=True,
    )


def register(app: typer.Typer) -> None:
    app.command("music")(music)
