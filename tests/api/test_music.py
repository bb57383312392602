"""``PUT``/``DELETE /v1/tales/{id}/music`` through functions-framework's app, with the local
runtime planning, rendering and stitching behind it: real tracks (a WAV, an MP3 and an AAC
written here) are checked, stored, shown on the tale and its storyboard, and mixed under the
decoded video; what is refused is refused before the body is read where it can be."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from shared import bootstrap
from shared.domain.music import MAX_MUSIC_BYTES
from shared.runtime.local import LocalRuntime
from tests.api.test_hardening import Counting
from tests.tones import encoded_tone, wav_tone

Tokens = Callable[..., dict[str, str]]
STORY = {
    "text": "A small fox sat on a hill. The moon rose over the sea.",
    "shot_count": 2,
    "shot_seconds": 4,
    "options": {"approval_required": True, "voice": "none", "captions": "off"},
}


def problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, (response.status_code, response.data[:300])
    assert response.mimetype == "application/problem+json"
    doc: dict[str, Any] = json.loads(response.data)
    assert doc["status"] == status and doc["detail"]
    return doc


def put(client: Any, tale_id: str, me: dict[str, str], data: bytes, kind: str) -> Any:
    return client.put(f"/v1/tales/{tale_id}/music", headers=me, data=data, content_type=kind)


def created(client: Any, me: dict[str, str], **options: Any) -> str:
    story = {**STORY, "options": {**STORY["options"], **options}}  # type: ignore[dict-item]
    answer = client.post("/v1/tales", headers=me, json=story)
    assert answer.status_code == 201, answer.data
    return str(answer.json["id"])


def run() -> None:
    with LocalRuntime(bootstrap.container()) as runtime:
        runtime.run(timeout=120)


def stored_tracks(tale_id: str) -> list[str]:
    return bootstrap.container().blobs.list_paths(f"tales/{tale_id}/music/")


def test_a_track_is_set_shown_replaced_and_removed(client: Any, token: Tokens) -> None:
    me = token()
    tale_id = created(client, me)
    wav = wav_tone(2.0)
    first = put(client, tale_id, me, wav, "audio/wav")
    assert first.status_code == 201, first.data
    track = first.json
    assert {k: track[k] for k in ("content_type", "bytes", "channels", "sample_rate")} == {
        "content_type": "audio/wav",
        "bytes": len(wav),
        "channels": 1,
        "sample_rate": 22_050,
    }
    assert track["seconds"] == 2.0 and len(track["sha256"]) == 64
    again = put(client, tale_id, me, wav, "audio/x-wav")  # the same file again
    assert again.status_code == 200 and again.json == track
    assert client.get(f"/v1/tales/{tale_id}", headers=me).json["music"] == track
    run()  # planned: awaiting approval, with its storyboard
    assert client.get(f"/v1/tales/{tale_id}/storyboard", headers=me).json["music"] == track

    aac = put(client, tale_id, me, encoded_tone("aac", 1.5), "audio/aac")
    assert aac.status_code == 200, aac.data
    assert aac.json["content_type"] == "audio/aac" and aac.json["channels"] == 2
    assert stored_tracks(tale_id) == [f"tales/{tale_id}/music/{aac.json['sha256']}"]

    for _ in range(2):  # removing is safe to repeat
        removed = client.delete(f"/v1/tales/{tale_id}/music", headers=me)
        assert removed.status_code == 204 and removed.data == b""
    assert client.get(f"/v1/tales/{tale_id}/storyboard", headers=me).json["music"] is None
    assert stored_tracks(tale_id) == []


def test_refusals_before_the_body_is_read(client: Any, token: Tokens) -> None:
    me, stranger = token(), token()
    tale_id = created(client, me)
    path = f"/v1/tales/{tale_id}/music"

    def send(headers: dict[str, str], size: int, kind: str = "audio/mpeg") -> tuple[Any, int]:
        body = Counting(size)
        length = {"Content-Type": kind, "Content-Length": str(size)}
        answer = client.put(path, input_stream=body, headers={**headers, **length})
        return answer, body.read_bytes

    too_big, read = send(me, MAX_MUSIC_BYTES + 1)
    assert problem(too_big, 413)["detail"].endswith(f"the limit is {MAX_MUSIC_BYTES} bytes")
    assert read == 0
    anonymous, read = send({}, MAX_MUSIC_BYTES + 1)
    assert problem(anonymous, 413) and read == 0  # before authentication
    json_body, read = send(me, 1000, "application/json")
    assert "audio/mpeg" in problem(json_body, 415)["detail"] and read == 0
    nothing, read = send(me, 1000, "")
    assert problem(nothing, 415) and read == 0
    not_yours, read = send(stranger, 1000)
    assert problem(not_yours, 404) and read == 0
    problem(client.delete(path, headers=stranger), 404)
    assert client.post(f"/v1/tales/{tale_id}/cancel", headers=me).status_code == 200
    cancelled, read = send(me, 1000)
    assert "cancelled" in problem(cancelled, 409)["detail"] and read == 0
    assert client.delete(path, headers=me).status_code == 204  # nothing to remove: no conflict


def test_what_is_not_a_track_is_422_in_the_readers_language(client: Any, token: Tokens) -> None:
    me = token()
    tale_id = created(client, me)
    garbage = problem(put(client, tale_id, me, b"\x00garbage" * 500, "audio/mpeg"), 422)
    assert garbage["type"].endswith("/invalid-music") and garbage["reason"] == "unknown-format"
    broken = put(client, tale_id, me, encoded_tone("mp3", 1.5)[:600], "audio/mpeg")
    assert problem(broken, 422)["reason"] == "undecodable"
    short = problem(put(client, tale_id, me, wav_tone(0.4), "audio/wav"), 422)
    assert short["reason"] == "too-short" and "0.40 s" in short["detail"]
    eleven_minutes = wav_tone(660, rate=4_000, width=1)  # 2.6 MB of 8-bit PCM
    long = problem(put(client, tale_id, me, eleven_minutes, "audio/wav"), 422)
    assert long["reason"] == "too-long" and "600 s" in long["detail"]
    korean = client.put(
        f"/v1/tales/{tale_id}/music",
        headers={**me, "Accept-Language": "ko"},
        data=b"\x00garbage" * 500,
        content_type="audio/mpeg",
    )
    assert problem(korean, 422)["title"] == "사용할 수 없는 음악 파일"
    assert korean.headers["Content-Language"] == "ko"
    assert client.get(f"/v1/tales/{tale_id}", headers=me).json["music"] is None
    assert stored_tracks(tale_id) == []


def test_the_track_plays_under_the_stitched_video(client: Any, token: Tokens) -> None:
    """Two unnarrated tales, one with an MP3 track: its video sounds the track's tone (looped
    past its 1.5 s), the other's is silent; the tale's events say the music was mixed."""
    from shared.media.audio import RATE, decode_audio

    me = token()
    with_music, without = created(client, me), created(client, me)
    answer = put(client, with_music, me, encoded_tone("mp3", 1.5, hz=440.0), "audio/mpeg")
    assert answer.status_code == 201, answer.data
    run()
    for tale_id in (with_music, without):
        assert client.post(f"/v1/tales/{tale_id}/approve", headers=me).status_code == 200
    run()
    container = bootstrap.container()
    audio = {}
    for tale_id in (with_music, without):
        tale = container.store.find(tale_id)
        assert tale is not None and tale.state == "completed", tale
        video = container.blobs.download(tale.outputs["video"], Path(container.home) / "v.mp4")
        decoded = decode_audio(video)
        assert decoded is not None
        audio[tale_id] = decoded.mean(axis=0)
    assert float(np.abs(audio[without]).max()) < 1e-3  # nobody speaks, no music: silence
    middle = audio[with_music][round(5.0 * RATE) : round(6.0 * RATE)]  # shot 2, looped track
    assert float(np.sqrt(np.mean(middle**2))) > 0.01
    spectrum = np.abs(np.fft.rfft(middle * np.hanning(middle.size)))
    assert abs(np.fft.rfftfreq(middle.size, 1 / RATE)[int(np.argmax(spectrum))] - 440) < 5
    log = " ".join(e.message for e in container.store.events(with_music))
    assert "music set (audio/mpeg, 1.5 s)" in log and "clips with their own sound, music;" in log

    # finished: the track may still change, for the next revision (which re-stitches)
    assert put(client, with_music, me, wav_tone(2.0), "audio/wav").status_code == 200


def test_the_stitcher_fetches_the_voices_only_to_mix_under_music(
    client: Any, token: Tokens, monkeypatch: Any
) -> None:
    """Two narrated tales: the stitch of the one without music splices the narrations
    ``narrate_shot`` prepared and never downloads a voice (nor does ``narrate_shot`` read
    back the voice it has just spoken); the one with music has its voices fetched to mix."""
    from shared.adapters.local.blobs import FilesystemBlobStore

    fetched: list[str] = []
    download = FilesystemBlobStore.download

    def counting(self: FilesystemBlobStore, path: str, dest: Path) -> Path:
        fetched.append(path)
        return download(self, path, dest)

    monkeypatch.setattr(FilesystemBlobStore, "download", counting)
    me = token()
    narrated = {"voice": "", "captions": "soft"}
    spliced, mixed = created(client, me, **narrated), created(client, me, **narrated)
    assert put(client, mixed, me, wav_tone(1.5), "audio/wav").status_code == 201
    run()
    for tale_id in (spliced, mixed):
        assert client.post(f"/v1/tales/{tale_id}/approve", headers=me).status_code == 200
    run()
    container = bootstrap.container()
    for tale_id in (spliced, mixed):
        tale = container.store.find(tale_id)
        assert tale is not None and tale.state == "completed", tale
    voices = [p for p in fetched if "/voice/" in p]
    assert [p for p in voices if spliced in p] == [
        f"tales/{spliced}/voice/00.m4a",
        f"tales/{spliced}/voice/01.m4a",
    ]
    assert sorted(p for p in voices if mixed in p and p.endswith(".wav")) == [
        f"tales/{mixed}/voice/00.wav",
        f"tales/{mixed}/voice/01.wav",
    ]
    log = " ".join(e.message for e in container.store.events(spliced))
    assert "spliced as prepared" in log
