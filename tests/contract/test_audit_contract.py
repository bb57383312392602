"""One contract for every AuditLog adapter: append-only records of inferences, with the
prompt's SHA-256 and never the prompt."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from shared.adapters.local.audit import SqliteAudit
from shared.ports.audit import AuditLog, prompt_hash
from tests.emulators import firestore_client, firestore_emulator, fresh_root  # noqa: F401

PROMPT = (
    "You are the story planner of Tale. The story, between the markers:\n"
    "<<<STORY\n보름달이 뜬 밤, 서연이는 창가에 앉아 달을 보았다. A secret-story-7f3a.\nSTORY>>>\n"
)


@dataclass
class Subject:
    audit: AuditLog
    stored_bytes: Callable[[], bytes]
    """Everything the adapter has stored, as raw as the backend allows."""


def sqlite_subject(request: pytest.FixtureRequest, tmp: Path) -> Subject:
    path = tmp / "audit.db"
    audit = SqliteAudit(path)

    def stored() -> bytes:
        files = [path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")]
        return b"".join(f.read_bytes() for f in files if f.exists())

    return Subject(audit, stored)


def firestore_subject(request: pytest.FixtureRequest, tmp: Path) -> Subject:
    from shared.adapters.gcp.firestore_audit import FirestoreAudit

    client: Any = request.getfixturevalue("firestore_client")
    root = fresh_root()
    audit = FirestoreAudit(client, root=root)

    def stored() -> bytes:
        docs = client.collection(f"{root}_audit").stream()
        return "\n".join(f"{d.id} {d.to_dict()!r}" for d in docs).encode()

    return Subject(audit, stored)


ADAPTERS: dict[str, Callable[[pytest.FixtureRequest, Path], Subject]] = {
    "sqlite": sqlite_subject,
    "firestore": firestore_subject,
}


@pytest.fixture(params=sorted(ADAPTERS))
def subject(request: pytest.FixtureRequest, tmp_path: Path) -> Subject:
    return ADAPTERS[request.param](request, tmp_path)


def test_prompt_hash_is_sha256_hex() -> None:
    assert prompt_hash("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert prompt_hash(PROMPT) == prompt_hash(PROMPT) != prompt_hash(PROMPT + " ")
    assert len(prompt_hash(PROMPT)) == 64


def test_records_are_per_tale_in_order(subject: Subject) -> None:
    audit = subject.audit
    audit.record(
        actor="planner", tale_id="tale-000001", model="qwen", prompt_sha256=prompt_hash("a")
    )
    audit.record(
        actor="planner", tale_id="tale-000002", model="qwen", prompt_sha256=prompt_hash("b")
    )
    audit.record(
        actor="videos",
        tale_id="tale-000001",
        model="wan",
        prompt_sha256=prompt_hash("c"),
        kind="render",
    )
    records = audit.for_tale("tale-000001")
    assert [(r.actor, r.model, r.prompt_sha256, r.kind) for r in records] == [
        ("planner", "qwen", prompt_hash("a"), "inference"),
        ("videos", "wan", prompt_hash("c"), "render"),
    ]
    assert all(r.tale_id == "tale-000001" for r in records)
    assert records[0].at <= records[1].at
    assert audit.for_tale("tale-nothing") == []


def test_the_same_inference_twice_is_two_records(subject: Subject) -> None:
    """Append-only: a second identical record does not replace the first."""
    for _ in range(2):
        subject.audit.record(
            actor="planner", tale_id="tale-000003", model="qwen", prompt_sha256=prompt_hash("x")
        )
    assert len(subject.audit.for_tale("tale-000003")) == 2


@pytest.mark.parametrize("bad", [PROMPT, "abc", prompt_hash("x").upper(), prompt_hash("x") + "0"])
def test_anything_but_a_sha256_is_refused(subject: Subject, bad: str) -> None:
    with pytest.raises(ValueError, match="prompt_sha256"):
        subject.audit.record(
            actor="planner", tale_id="tale-000004", model="qwen", prompt_sha256=bad
        )
    assert subject.audit.for_tale("tale-000004") == []


def test_the_stored_record_has_no_prompt_text(subject: Subject) -> None:
    subject.audit.record(
        actor="planner", tale_id="tale-000005", model="qwen", prompt_sha256=prompt_hash(PROMPT)
    )
    stored = subject.stored_bytes()
    assert prompt_hash(PROMPT).encode() in stored  # the dump does show what is stored
    for fragment in (PROMPT, "secret-story-7f3a", "보름달이 뜬 밤", "STORY>>>"):
        assert fragment.encode("utf-8") not in stored
    [record] = subject.audit.for_tale("tale-000005")
    assert PROMPT not in repr(record)


def test_sqlite_refuses_update_and_delete(tmp_path: Path) -> None:
    path = tmp_path / "audit.db"
    audit = SqliteAudit(path)
    audit.record(
        actor="planner", tale_id="tale-000006", model="qwen", prompt_sha256=prompt_hash("a")
    )
    conn = sqlite3.connect(path)
    try:
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            conn.execute("UPDATE audit SET model='other'")
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            conn.execute("DELETE FROM audit")
        with pytest.raises(sqlite3.IntegrityError):
            conn.execute(
                "INSERT INTO audit (at, actor, tale_id, model, prompt_sha256, kind) "
                "VALUES (0, 'x', 't', 'm', ?, 'inference')",
                (PROMPT,),
            )
    finally:
        conn.close()
    [record] = audit.for_tale("tale-000006")
    assert record.model == "qwen"
