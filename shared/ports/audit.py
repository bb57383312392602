"""Audit port: which model saw which prompt, for whom and when — never the prompt itself.

Scenario B promises that a story never leaves our cloud project. The audit log is the
evidence: every inference on a story (a planning request, a character image, a shot) appends
one ``AuditRecord`` naming the actor (the component that asked), the tale, the model and the
SHA-256 of the exact prompt sent. Whoever holds the story can recompute the hash and match it
to a record; the log alone reveals nothing of the story. Records are append-only: adapters
never update or delete one.
"""

from __future__ import annotations

import hashlib
import re
from abc import ABC, abstractmethod
from dataclasses import dataclass

__all__ = ["AuditLog", "AuditRecord", "check_record", "prompt_hash"]

_SHA256_HEX = re.compile(r"[0-9a-f]{64}")


def prompt_hash(text: str) -> str:
    """The SHA-256 of ``text`` (UTF-8) as 64 lowercase hex digits."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class AuditRecord:
    at: float
    """Seconds since the epoch when it was recorded."""
    actor: str
    """The component that ran the inference (``planner``, ``images``, ``videos``)."""
    tale_id: str
    model: str
    prompt_sha256: str
    """``prompt_hash`` of the prompt sent; the prompt itself is never stored."""
    kind: str = "inference"


def check_record(*, actor: str, model: str, prompt_sha256: str, kind: str) -> None:
    """What every adapter checks before storing: a real hash (so a prompt passed by mistake
    is refused, not stored) and the naming fields present."""
    if not _SHA256_HEX.fullmatch(prompt_sha256):
        raise ValueError("prompt_sha256 must be 64 lowercase hex digits (use prompt_hash)")
    for name, value in (("actor", actor), ("model", model), ("kind", kind)):
        if not value or len(value) > 200:
            raise ValueError(f"audit {name} must be 1 to 200 characters")


class AuditLog(ABC):
    @abstractmethod
    def record(
        self,
        *,
        actor: str,
        tale_id: str,
        model: str,
        prompt_sha256: str,
        kind: str = "inference",
    ) -> None:
        """Append one record (raises ``ValueError`` when ``prompt_sha256`` is not a SHA-256
        hex digest)."""

    @abstractmethod
    def for_tale(self, tale_id: str) -> list[AuditRecord]:
        """The tale's records, oldest first."""
