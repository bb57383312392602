"""The local home's backup: consistent SQLite snapshots, checksums, and restores that refuse
damaged archives, paths outside the home, busy homes and non-empty homes."""

from __future__ import annotations

import fcntl
import io
import json
import sqlite3
import tarfile
from pathlib import Path

import pytest

from shared.runtime.backup import (
    LOCK,
    BackupError,
    export_home,
    read_manifest,
    restore_home,
)


def make_home(home: Path) -> None:
    (home / "keys").mkdir(parents=True)
    (home / "keys" / "kek-1.key").write_bytes(b"k" * 32)
    (home / "keys" / "kek-1.key").chmod(0o600)
    (home / "blobs" / "tales" / "t1").mkdir(parents=True)
    (home / "blobs" / "tales" / "t1" / "final.mp4").write_bytes(b"\x00video" * 1000)
    db = sqlite3.connect(home / "state.db")
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("CREATE TABLE tales (id TEXT)")
    db.executemany("INSERT INTO tales VALUES (?)", [("t1",), ("t2",)])
    db.commit()
    db.close()
    (home / LOCK).write_text("123")


def test_an_export_restores_byte_for_byte_into_an_empty_home(tmp_path: Path) -> None:
    home, archive, other = tmp_path / "home", tmp_path / "b.tar.gz", tmp_path / "restored"
    make_home(home)
    manifest = export_home(home, archive)
    assert {e.path for e in manifest.files} == {
        "keys/kek-1.key",
        "blobs/tales/t1/final.mp4",
        "state.db",
    }
    assert [e.sqlite for e in manifest.files if e.path == "state.db"] == [True]
    assert archive.stat().st_mode & 0o777 == 0o600  # it holds the keys
    assert read_manifest(archive) == manifest

    restore_home(archive, other)
    rows = sqlite3.connect(other / "state.db").execute("SELECT id FROM tales").fetchall()
    assert rows == [("t1",), ("t2",)]
    assert (other / "blobs/tales/t1/final.mp4").read_bytes() == b"\x00video" * 1000
    assert (other / "keys/kek-1.key").stat().st_mode & 0o777 == 0o600
    assert (other / "keys").stat().st_mode & 0o777 == 0o700


def test_a_non_empty_home_needs_force(tmp_path: Path) -> None:
    home, archive = tmp_path / "home", tmp_path / "b.tar.gz"
    make_home(home)
    export_home(home, archive)
    (home / "blobs" / "extra.txt").write_text("later")
    with pytest.raises(BackupError, match="not empty"):
        restore_home(archive, home)
    restore_home(archive, home, force=True)
    assert not (home / "blobs" / "extra.txt").exists()
    assert (home / "state.db").exists()


def test_a_busy_home_is_refused(tmp_path: Path) -> None:
    home = tmp_path / "home"
    make_home(home)
    with open(home / LOCK, "a+") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        with pytest.raises(BackupError, match="using"):
            export_home(home, tmp_path / "b.tar.gz")
    assert not (tmp_path / "b.tar.gz").exists()


def _rewrite(archive: Path, target: Path, change: dict[str, bytes]) -> None:
    """Copy ``archive`` to ``target``, replacing (or adding) members."""
    with tarfile.open(archive, "r:gz") as src, tarfile.open(target, "w:gz") as dst:
        names = []
        for member in src:
            names.append(member.name)
            f = src.extractfile(member)
            data = change.get(member.name, f.read() if f else b"")
            member.size = len(data)
            dst.addfile(member, io.BytesIO(data))
        for name, data in change.items():
            if name not in names:
                info = tarfile.TarInfo(name)
                info.size = len(data)
                dst.addfile(info, io.BytesIO(data))


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"home/blobs/tales/t1/final.mp4": b"tampered"}, "checksum mismatch"),
        ({"home/../../evil.txt": b"x"}, "unexpected member"),
        ({"manifest.json": b"{not json"}, "unreadable manifest"),
    ],
)
def test_a_damaged_archive_changes_nothing(
    tmp_path: Path, change: dict[str, bytes], error: str
) -> None:
    home, archive, bad = tmp_path / "home", tmp_path / "b.tar.gz", tmp_path / "bad.tar.gz"
    make_home(home)
    export_home(home, archive)
    _rewrite(archive, bad, change)
    target = tmp_path / "target"
    with pytest.raises(BackupError, match=error):
        restore_home(bad, target)
    assert not target.exists() or [p.name for p in target.iterdir()] in ([], [LOCK])
    assert not (tmp_path / "evil.txt").exists()


def test_a_manifest_path_outside_the_home_is_refused(tmp_path: Path) -> None:
    home, archive, bad = tmp_path / "home", tmp_path / "b.tar.gz", tmp_path / "bad.tar.gz"
    make_home(home)
    export_home(home, archive)
    manifest = json.loads(read_manifest(archive).to_json())
    manifest["files"][0]["path"] = "../outside"
    _rewrite(archive, bad, {"manifest.json": json.dumps(manifest).encode()})
    with pytest.raises(BackupError, match="outside the home"):
        restore_home(bad, tmp_path / "target")


def test_nothing_to_export_and_archives_inside_the_home_are_refused(tmp_path: Path) -> None:
    with pytest.raises(BackupError, match="no tale home"):
        export_home(tmp_path / "missing", tmp_path / "b.tar.gz")
    make_home(tmp_path / "home")
    with pytest.raises(BackupError, match="outside the home"):
        export_home(tmp_path / "home", tmp_path / "home" / "b.tar.gz")


def test_a_truncated_archive_is_refused(tmp_path: Path) -> None:
    home, archive = tmp_path / "home", tmp_path / "b.tar.gz"
    make_home(home)
    export_home(home, archive)
    cut = tmp_path / "cut.tar.gz"
    cut.write_bytes(archive.read_bytes()[:-100])
    with pytest.raises(BackupError, match=r"damaged|cannot read"):
        restore_home(cut, tmp_path / "target")
