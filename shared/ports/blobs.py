"""Blob store port: media by path, with time-limited signed URLs."""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path


class BlobNotFound(KeyError):
    """No object at that path."""


class BlobStore(ABC):
    """Objects addressed by a relative path such as ``tales/<id>/final.mp4``.

    Writes replace the whole object atomically (readers see the old or the new object, never a
    partial one), so re-running a stage that rewrites its output is safe.
    """

    @abstractmethod
    def put_bytes(self, path: str, data: bytes, content_type: str) -> None: ...

    @abstractmethod
    def put_file(self, path: str, source: Path, content_type: str) -> None: ...

    @abstractmethod
    def get_bytes(self, path: str) -> bytes: ...

    @abstractmethod
    def download(self, path: str, dest: Path) -> Path:
        """Copy the object to ``dest`` (a local file) and return it."""

    @abstractmethod
    def exists(self, path: str) -> bool: ...

    @abstractmethod
    def delete(self, path: str) -> bool:
        """Remove the object; True when there was one (deleting nothing is no error, so a
        repeated delete is safe)."""

    def list_paths(self, prefix: str) -> list[str]:
        """The paths of the objects whose path starts with ``prefix``, sorted. Stores that
        cannot list say so (``NotImplementedError``); the filesystem and Cloud Storage can."""
        raise NotImplementedError(f"{type(self).__name__} cannot list objects")

    @abstractmethod
    def uri(self, path: str) -> str:
        """Where the object lives, for people (``file://…``, ``gs://…``)."""

    @abstractmethod
    def signed_url(self, path: str, expires_s: int = 3600) -> str:
        """A URL that grants read access to the object until it expires."""
