"""One contract for every BlobStore adapter (and the test fake)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

from shared.adapters.local.blobs import FilesystemBlobStore
from shared.ports.blobs import BlobNotFound, BlobStore
from tests.fakes import MemoryBlobs
from tests.gcs_emulator import gcs_store_for_contract

ADAPTERS: dict[str, Callable[[Path], BlobStore]] = {
    "memory": lambda _: MemoryBlobs(),
    "filesystem": lambda tmp: FilesystemBlobStore(tmp / "blobs"),
    "gcs": lambda _: gcs_store_for_contract(),  # against gcp-storage-emulator
}


@pytest.fixture(params=sorted(ADAPTERS))
def blobs(request: pytest.FixtureRequest, tmp_path: Path) -> BlobStore:
    return ADAPTERS[request.param](tmp_path)


def test_round_trip_and_replace(blobs: BlobStore, tmp_path: Path) -> None:
    blobs.put_bytes("tales/t/a.png", b"one", "image/png")
    blobs.put_bytes("tales/t/a.png", b"two", "image/png")
    assert blobs.get_bytes("tales/t/a.png") == b"two"
    src = tmp_path / "src.bin"
    src.write_bytes(b"file")
    blobs.put_file("tales/t/b.bin", src, "application/octet-stream")
    assert blobs.download("tales/t/b.bin", tmp_path / "out.bin").read_bytes() == b"file"
    assert blobs.exists("tales/t/b.bin") and not blobs.exists("tales/t/c")


def test_listing_by_prefix(blobs: BlobStore) -> None:
    """What recovery reads: the objects Veo wrote into one attempt's folder."""
    for path in (
        "tales/t/shots/00-a1/123/sample_0.mp4",
        "tales/t/shots/00-a1.mp4",
        "tales/t/shots/00-a10/9/sample_0.mp4",
        "tales/t/shots/01-a1/5/sample_0.mp4",
    ):
        blobs.put_bytes(path, b"v", "video/mp4")
    assert blobs.list_paths("tales/t/shots/00-a1/") == ["tales/t/shots/00-a1/123/sample_0.mp4"]
    assert blobs.list_paths("tales/t/shots/02-a1/") == []
    assert blobs.list_paths("tales/none/") == []


def test_delete_is_safe_to_repeat(blobs: BlobStore) -> None:
    blobs.put_bytes("tales/t/music/abc", b"track", "audio/mpeg")
    blobs.put_bytes("tales/t/music/abd", b"other", "audio/mpeg")
    assert blobs.delete("tales/t/music/abc") is True
    assert not blobs.exists("tales/t/music/abc") and blobs.exists("tales/t/music/abd")
    assert blobs.delete("tales/t/music/abc") is False
    assert blobs.list_paths("tales/t/music/") == ["tales/t/music/abd"]


def test_missing_object(blobs: BlobStore, tmp_path: Path) -> None:
    with pytest.raises(BlobNotFound):
        blobs.get_bytes("nope")
    with pytest.raises(BlobNotFound):
        blobs.download("nope", tmp_path / "x")


def test_filesystem_signed_urls_verify_and_expire(tmp_path: Path) -> None:
    store = FilesystemBlobStore(tmp_path / "blobs")
    store.put_bytes("tales/t/final.mp4", b"v", "video/mp4")
    query = parse_qs(urlparse(store.signed_url("tales/t/final.mp4", 60)).query)
    expires, sig = int(query["expires"][0]), query["signature"][0]
    assert store.verify("tales/t/final.mp4", expires, sig)
    assert not store.verify("tales/t/other.mp4", expires, sig)
    assert not store.verify("tales/t/final.mp4", expires - 3600, sig)


def test_filesystem_refuses_paths_outside_the_store(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        FilesystemBlobStore(tmp_path / "blobs").put_bytes("../escape", b"x", "text/plain")
