"""The storyboard through a real ``tale serve``: what the owner is asked to approve, with
media a browser loads from the signed URLs the server itself answers."""

from __future__ import annotations

import io
import json
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
from PIL import Image

from shared import bootstrap
from shared.cli.serve import serve
from shared.config import Settings
from tests.api.test_serve import free_port

STORY = {
    "text": "Mina walked to the sea. Mina met a fox. They became friends.",
    "shot_count": 2,
    "shot_seconds": 4,
    "options": {"approval_required": True},
}


@dataclass
class Served:
    base: str
    home: Path

    def token(self, user: str | None = None) -> str:
        signer = bootstrap.container().signer
        assert signer is not None
        return signer.mint(user or str(uuid.uuid4()), "reader@example.com")

    def call(
        self, path: str, token: str, body: dict[str, Any] | None = None
    ) -> tuple[int, dict[str, Any]]:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            self.base + path,
            data=data,
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read())

    def wait_for(self, tale_id: str, token: str, status: str) -> dict[str, Any]:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            _, tale = self.call(f"/v1/tales/{tale_id}", token)
            if tale["status"] == status:
                return tale
            assert tale["status"] not in ("failed", "cancelled"), tale
            time.sleep(0.1)
        raise AssertionError(f"{tale_id} never became {status}")


def fetch(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {})) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    home = tmp_path / "home"
    bootstrap.configure(
        Settings(
            home=home,
            offline_height=160,
            offline_fps=8,
            retry_min_backoff_s=0.01,
            retry_max_backoff_s=0.05,
        )
    )
    port, ready, stop = free_port(), threading.Event(), threading.Event()
    server = threading.Thread(target=serve, args=("127.0.0.1", port, ready, stop))
    server.start()
    try:
        assert ready.wait(10)
        yield Served(f"http://127.0.0.1:{port}", home)
    finally:
        stop.set()
        server.join(10)
        bootstrap.configure(Settings(home=tmp_path / "unused"))


def image(url: str) -> Image.Image:
    status, headers, body = fetch(url)
    assert status == 200 and headers["Content-Type"] == "image/png", (status, headers)
    picture = Image.open(io.BytesIO(body))
    picture.load()  # decodes the whole image
    return picture


def test_a_gated_tale_shows_its_storyboard_and_media_load_from_tale_serve(
    served: Served,
) -> None:
    me, other = served.token(), served.token()
    status, created = served.call("/v1/tales", me, STORY)
    assert status == 201
    tale_id = created["id"]
    served.wait_for(tale_id, me, "awaiting_approval")

    status, board = served.call(f"/v1/tales/{tale_id}/storyboard", me)
    assert status == 200, board
    assert board["status"] == "awaiting_approval" and board["version"] == 1
    assert board["expires_in"] == bootstrap.container().settings.video_url_ttl_s
    assert board["estimate"]["usd"] > 0 and board["title"]
    assert [c["name"] for c in board["characters"]] == ["Mina"]
    assert board["characters"][0]["description"]
    assert board["characters"][0]["image_url"] is None  # references are drawn on approval
    assert [s["index"] for s in board["shots"]] == [0, 1]
    for shot in board["shots"]:
        assert shot["status"] == "planned" and shot["attempt"] == 0
        assert shot["prompt"] and shot["narration"] and shot["duration_s"] == 4
        assert shot["clip_url"] is shot["thumbnail_url"] is shot["voice_url"] is None
    assert board["storyboard_url"] is board["poster_url"] is board["video_url"] is None

    for path in ("storyboard", "events"):
        status, problem = served.call(f"/v1/tales/{tale_id}/{path}", other)
        assert status == 404 and problem["type"].endswith("not-found")

    assert served.call(f"/v1/tales/{tale_id}/approve", me, {})[0] == 200
    served.wait_for(tale_id, me, "completed")
    _, board = served.call(f"/v1/tales/{tale_id}/storyboard", me)
    assert board["status"] == "completed" and board["estimate"] is None
    for character in board["characters"]:
        url = character["image_url"]
        assert url.startswith(f"{served.base}/media/tales/{tale_id}/characters/")
        assert str(served.home) not in url and "signature=" in url
        assert image(url).size[0] > 0
    for shot in board["shots"]:
        assert shot["status"] == "rendered" and shot["attempt"] == 1
        thumb = image(shot["thumbnail_url"])
        assert thumb.size[0] <= 320 and thumb.size[1] > thumb.size[0]  # 9:16
        status, headers, clip = fetch(shot["clip_url"])
        assert status == 200 and headers["Content-Type"] == "video/mp4"
        assert headers["Accept-Ranges"] == "bytes" and clip[4:8] == b"ftyp"
        status, headers, voice = fetch(shot["voice_url"])
        assert status == 200 and headers["Content-Type"] == "audio/wav"
        assert voice[:4] == b"RIFF" and voice[8:12] == b"WAVE"
    assert image(board["poster_url"]).size[0] > 0
    assert image(board["storyboard_url"]).size[0] > 0

    # Browsers seek with Range requests: 206 and exactly those bytes.
    video = board["video_url"]
    _, _, whole = fetch(video)
    status, headers, part = fetch(video, {"Range": "bytes=100-199"})
    assert status == 206 and part == whole[100:200]
    assert headers["Content-Range"] == f"bytes 100-199/{len(whole)}"
    status, _, tail = fetch(video, {"Range": "bytes=-10"})
    assert status == 206 and tail == whole[-10:]
    status, headers, body = fetch(video, {"Range": f"bytes={len(whole) + 5}-"})
    assert status == 416 and headers["Content-Range"] == f"bytes */{len(whole)}"
    assert json.loads(body)["status"] == 416

    tampered = video.replace("signature=", "signature=0")
    status, headers, body = fetch(tampered)
    assert status == 403 and headers["Content-Type"] == "application/problem+json"
    assert json.loads(body)["type"].endswith("media-url-refused")

    # The same thumbnails on a second read: made once, beside the clip.
    again = served.call(f"/v1/tales/{tale_id}/storyboard", me)[1]
    first_thumb = urlparse(board["shots"][0]["thumbnail_url"]).path
    assert urlparse(again["shots"][0]["thumbnail_url"]).path == first_thumb
    assert first_thumb.endswith("-a1.thumb.png")


def test_a_clip_that_cannot_be_read_has_no_thumbnail(tmp_path: Path) -> None:
    """The storyboard is shown without it; nothing is written."""
    from shared.adapters.local.blobs import FilesystemBlobStore
    from shared.api.reads import thumbnail

    blobs = FilesystemBlobStore(tmp_path / "blobs")
    blobs.put_bytes("tales/t/shots/00-a1.mp4", b"not a video", "video/mp4")
    assert thumbnail(blobs, "tales/t/shots/00-a1.mp4") is None
    assert thumbnail(blobs, "tales/t/shots/01-a1.mp4") is None  # missing
    assert blobs.list_paths("tales/t/") == ["tales/t/shots/00-a1.mp4"]
