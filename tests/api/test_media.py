"""``GET /media/<path>`` on ``tale serve``'s app: signed URLs of the filesystem blob store are
answered with the object (ranges included), refused with a 403 problem when tampered with or
expired, and never reach outside the blob root."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlparse

import pytest

from shared import bootstrap
from shared.adapters.local.blobs import FilesystemBlobStore
from shared.cli.serve import build_app, served_url
from shared.config import Settings

CLIP = bytes(range(256)) * 40  # 10,240 bytes


@pytest.fixture
def blobs(tmp_path: Path) -> Iterator[FilesystemBlobStore]:
    container = bootstrap.configure(Settings(home=tmp_path / "home"))
    store = container.blobs
    assert isinstance(store, FilesystemBlobStore)
    store.put_bytes("tales/t/shots/00-a1.mp4", CLIP, "video/mp4")
    store.put_bytes("tales/t/poster.png", b"\x89PNG\r\n\x1a\n", "image/png")
    store.put_bytes("tales/t/voice/00.wav", b"RIFF....WAVE", "audio/wav")
    yield store
    bootstrap.configure(Settings(home=tmp_path / "unused"))


class Client:
    """``tale serve``'s app; every response is read and closed (the file it streams too)."""

    def __init__(self) -> None:
        self.app = build_app().test_client()

    def _call(self, method: str, url: str, **kw: Any) -> Any:
        response = self.app.open(url, method=method, **kw)
        response.get_data()
        response.close()
        return response

    def get(self, url: str, **kw: Any) -> Any:
        return self._call("GET", url, **kw)

    def head(self, url: str, **kw: Any) -> Any:
        return self._call("HEAD", url, **kw)

    def post(self, url: str, **kw: Any) -> Any:
        return self._call("POST", url, **kw)


@pytest.fixture
def client(blobs: FilesystemBlobStore) -> Client:
    return Client()


def local(url: str) -> str:
    """The path and query of a signed URL (what a browser sends to the server)."""
    parts = urlparse(url)
    assert parts.scheme == "http" and parts.netloc == "127.0.0.1:8080"
    return f"{parts.path}?{parts.query}"


def problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.data
    assert response.mimetype == "application/problem+json"
    doc: dict[str, Any] = json.loads(response.data)
    assert doc["status"] == status
    return doc


def test_signed_urls_are_http_urls_that_hide_the_home(blobs: FilesystemBlobStore) -> None:
    url = blobs.signed_url("tales/t/shots/00-a1.mp4", 60)
    assert url.startswith("http://127.0.0.1:8080/media/tales/t/shots/00-a1.mp4?")
    assert str(blobs.root) not in url and "file:" not in url
    query = parse_qs(urlparse(url).query)
    assert set(query) == {"expires", "signature"}
    assert int(query["expires"][0]) - time.time() == pytest.approx(60, abs=2)
    with pytest.raises(ValueError):
        blobs.signed_url("../signing.key", 60)


def test_the_object_with_its_content_type(client: Client, blobs: FilesystemBlobStore) -> None:
    for path, kind in (
        ("tales/t/shots/00-a1.mp4", "video/mp4"),
        ("tales/t/poster.png", "image/png"),
        ("tales/t/voice/00.wav", "audio/wav"),
    ):
        response = client.get(local(blobs.signed_url(path, 60)))
        assert response.status_code == 200 and response.mimetype == kind
        assert response.data == blobs.get_bytes(path)
        assert response.headers["Accept-Ranges"] == "bytes"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Cache-Control"].startswith("private, max-age=")
    head = client.head(local(blobs.signed_url("tales/t/shots/00-a1.mp4", 60)))
    assert head.status_code == 200 and head.headers["Content-Length"] == str(len(CLIP))


def test_range_requests_get_206_and_exactly_those_bytes(
    client: Client, blobs: FilesystemBlobStore
) -> None:
    url = local(blobs.signed_url("tales/t/shots/00-a1.mp4", 60))
    for header, want in (
        ("bytes=0-0", CLIP[:1]),
        ("bytes=1000-1999", CLIP[1000:2000]),
        ("bytes=10000-", CLIP[10000:]),
        ("bytes=-24", CLIP[-24:]),
        ("bytes=10200-99999", CLIP[10200:]),  # clipped to the end
    ):
        response = client.get(url, headers={"Range": header})
        assert response.status_code == 206, header
        assert response.data == want, header
        first = (
            len(CLIP) - len(want) if header.startswith("bytes=-") else int(header[6:].split("-")[0])
        )
        assert response.headers["Content-Range"] == (
            f"bytes {first}-{first + len(want) - 1}/{len(CLIP)}"
        )
    refused = client.get(url, headers={"Range": f"bytes={len(CLIP)}-"})
    assert problem(refused, 416)["type"].endswith("range-not-satisfiable")
    assert refused.headers["Content-Range"] == f"bytes */{len(CLIP)}"


def test_tampered_expired_or_unsigned_urls_get_403(
    client: Client, blobs: FilesystemBlobStore
) -> None:
    url = local(blobs.signed_url("tales/t/shots/00-a1.mp4", 60))
    path, query = url.split("?")
    params = parse_qs(query)
    expires, signature = params["expires"][0], params["signature"][0]
    flipped = ("0" if signature[0] != "0" else "1") + signature[1:]
    for bad in (
        f"{path}?expires={expires}&signature={flipped}",  # tampered signature
        f"{path}?expires={int(expires) + 1}&signature={signature}",  # longer life
        f"/media/tales/t/poster.png?expires={expires}&signature={signature}",  # other object
        f"{path}?expires={expires}",
        path,
        f"{path}?expires=soon&signature={signature}",
        f"{path}?expires={expires}&signature=%C3%A9",  # not even hex
    ):
        doc = problem(client.get(bad), 403)
        assert doc["type"].endswith("media-url-refused") and "instance" in doc
    past = int(time.time()) - 5
    expired = f"{path}?expires={past}&signature={blobs._signature('tales/t/shots/00-a1.mp4', past)}"
    assert "expired" in problem(client.get(expired), 403)["detail"]


def test_never_outside_the_blob_root(
    client: Client, blobs: FilesystemBlobStore, tmp_path: Path
) -> None:
    """Even with a valid signature for it (the key is beside the root), a path that leaves
    the root — by dots, encoded dots or a symbolic link — is not found."""
    secret = tmp_path / "home" / "secret.txt"
    secret.write_text("not media")
    os.symlink(secret, blobs.root / "tales" / "t" / "link.txt")
    expires = int(time.time()) + 60
    for path in ("../signing.key", "../secret.txt", "tales/../../secret.txt", "tales/t/link.txt"):
        signature = blobs._signature(path, expires)
        for sent in (path, quote(path, safe=""), path.replace(".", "%2e")):
            response = client.get(f"/media/{sent}?expires={expires}&signature={signature}")
            assert response.status_code in (403, 404), sent
            assert b"not media" not in response.data and blobs._key() not in response.data
    hidden = "tales/t/.00-a1.mp4.1234.tmp"
    (blobs.root / hidden).write_bytes(b"partial")
    response = client.get(
        f"/media/{hidden}?expires={expires}&signature={blobs._signature(hidden, expires)}"
    )
    problem(response, 404)
    missing = blobs.signed_url("tales/t/none.mp4", 60)
    problem(client.get(local(missing)), 404)
    problem(client.post(local(blobs.signed_url("tales/t/poster.png", 60))), 405)


def test_tale_serve_names_itself_unless_a_public_url_is_set(tmp_path: Path) -> None:
    assert served_url("0.0.0.0", 9000) == "http://127.0.0.1:9000"
    assert served_url("::1", 9000) == "http://[::1]:9000"
    container = bootstrap.configure(
        Settings(home=tmp_path / "home", public_url="https://tale.example.com/dev")
    )
    url = container.blobs.signed_url("tales/t/poster.png", 60)
    assert url.startswith("https://tale.example.com/dev/media/tales/t/poster.png?")
    bootstrap.configure(Settings(home=tmp_path / "unused"))


def test_the_signing_key_is_made_once_whoever_asks_first(tmp_path: Path) -> None:
    stores = [FilesystemBlobStore(tmp_path / "blobs") for _ in range(8)]
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(8) as pool:
        keys = set(pool.map(lambda s: s._key(), stores))
    assert len(keys) == 1 and len(next(iter(keys))) == 32
    assert (tmp_path / "signing.key").stat().st_mode & 0o777 == 0o600
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
