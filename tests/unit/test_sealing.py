"""Envelope encryption of story text, with the local key-file KEK."""

from __future__ import annotations

import base64
import dataclasses
import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest

from shared.adapters.local.keys import InsecureKeyFileError, KeyFileError, LocalKeyFile
from shared.crypto.sealing import (
    DecryptionError,
    Sealed,
    SealedFormatError,
    open_sealed,
    seal,
)
from shared.ports.keys import KeyUnwrapError

posix_only = pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")

KOREAN = "옛날 옛적에 바닷가 마을에 미나라는 소녀가 살았어요. 어느 날 미나는 여우를 만났어요."
ENGLISH = "Mina walked to the sea. Mina saw a fox. The fox and Mina became friends."
TALE = "tale-000001"
OWNER = "user-42"


@pytest.fixture
def keys(tmp_path: Path) -> LocalKeyFile:
    return LocalKeyFile(tmp_path / "keys")


def _flip(data: bytes, index: int) -> bytes:
    return data[:index] + bytes([data[index] ^ 0x01]) + data[index + 1 :]


def _assert_no_secrets(err: DecryptionError, *secrets: bytes | str) -> None:
    message = str(err)
    assert err.reason == message and message
    _assert_not_in(message, *secrets)


def _assert_not_in(message: str, *secrets: bytes | str) -> None:
    for secret in secrets:
        if isinstance(secret, bytes):
            assert secret.hex() not in message
            assert base64.b64encode(secret).decode() not in message
            assert repr(secret) not in message
        else:
            assert secret not in message


# --- round trip ----------------------------------------------------------------------------


@pytest.mark.parametrize("text", [KOREAN, ENGLISH, "", "🦊" * 3])
def test_round_trip(keys: LocalKeyFile, text: str) -> None:
    sealed = seal(text, tale_id=TALE, owner=OWNER, keys=keys)
    assert sealed.version == 1
    assert sealed.key_id == keys.key_id
    assert sealed.key_id.startswith("local:")
    assert len(sealed.nonce) == 12
    assert open_sealed(sealed, tale_id=TALE, owner=OWNER, keys=keys) == text


def test_round_trip_through_json(keys: LocalKeyFile) -> None:
    sealed = seal(KOREAN, tale_id=TALE, owner=OWNER, keys=keys)
    text = sealed.to_json()
    assert " " not in text and "\n" not in text
    raw = json.loads(text)
    assert raw["v"] == 1 and raw["kid"] == keys.key_id
    assert set(raw) == {"v", "kid", "wk", "n", "ct"}
    again = Sealed.from_json(text)
    assert again == sealed
    assert open_sealed(again, tale_id=TALE, owner=OWNER, keys=keys) == KOREAN


def test_large_text_round_trip(keys: LocalKeyFile) -> None:
    text = (KOREAN + "\n" + ENGLISH + "\n") * 1000
    assert len(text.encode()) > 100_000
    sealed = seal(text, tale_id=TALE, owner=OWNER, keys=keys)
    assert open_sealed(Sealed.from_json(sealed.to_json()), tale_id=TALE, owner=OWNER, keys=keys)
    assert open_sealed(sealed, tale_id=TALE, owner=OWNER, keys=keys) == text


def test_a_new_wrapper_on_the_same_folder_opens_it(tmp_path: Path) -> None:
    sealed = seal(ENGLISH, tale_id=TALE, owner=OWNER, keys=LocalKeyFile(tmp_path / "k"))
    assert open_sealed(sealed, tale_id=TALE, owner=OWNER, keys=LocalKeyFile(tmp_path / "k")) == (
        ENGLISH
    )


# --- confidentiality and freshness ---------------------------------------------------------


@pytest.mark.parametrize("text", [KOREAN, ENGLISH])
def test_ciphertext_does_not_contain_the_plaintext(keys: LocalKeyFile, text: str) -> None:
    sealed = seal(text, tale_id=TALE, owner=OWNER, keys=keys)
    data = text.encode()
    stored = sealed.to_json().encode()
    for blob in (sealed.ciphertext, sealed.wrapped_key, stored):
        assert data not in blob
        # nor any sizeable piece of it
        for start in range(0, len(data) - 8, 8):
            assert data[start : start + 8] not in blob
    assert text not in sealed.to_json()
    assert text not in repr(sealed)


def test_each_seal_uses_a_fresh_data_key_and_nonce(keys: LocalKeyFile) -> None:
    a = seal(ENGLISH, tale_id=TALE, owner=OWNER, keys=keys)
    b = seal(ENGLISH, tale_id=TALE, owner=OWNER, keys=keys)
    assert a.nonce != b.nonce
    assert a.wrapped_key != b.wrapped_key
    assert a.ciphertext != b.ciphertext
    assert a.to_json() != b.to_json()
    # different data keys (unwrapped here only to check: never done outside the envelope)
    key_a = keys.unwrap(a.wrapped_key, _wrap_aad(a))
    key_b = keys.unwrap(b.wrapped_key, _wrap_aad(b))
    assert len(key_a) == len(key_b) == 32
    assert key_a != key_b
    nonces = {seal("x", tale_id=TALE, owner=OWNER, keys=keys).nonce for _ in range(50)}
    assert len(nonces) == 50


def _wrap_aad(sealed: Sealed) -> bytes:
    from shared.crypto import sealing

    return sealing._associated(b"data-key", tale_id=TALE, owner=OWNER, key_id=sealed.key_id)


# --- binding to tale and owner ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("tale_id", "owner"),
    [
        ("tale-000002", OWNER),
        (TALE, "user-43"),
        ("tale-000002", "user-43"),
        ("tale-000001u", "ser-42"),  # same concatenation, different split
        ("tale-00000", "1user-42"),
    ],
)
def test_swapping_tale_or_owner_fails(keys: LocalKeyFile, tale_id: str, owner: str) -> None:
    sealed = seal(KOREAN, tale_id=TALE, owner=OWNER, keys=keys)
    with pytest.raises(DecryptionError) as info:
        open_sealed(sealed, tale_id=tale_id, owner=owner, keys=keys)
    _assert_no_secrets(info.value, KOREAN)


def test_moving_ciphertext_between_tales_fails(keys: LocalKeyFile) -> None:
    """A tale's ciphertext spliced with another tale's wrapped key and nonce does not open."""
    mine = seal(KOREAN, tale_id=TALE, owner=OWNER, keys=keys)
    theirs = seal(ENGLISH, tale_id="tale-000002", owner="user-7", keys=keys)
    spliced = dataclasses.replace(theirs, ciphertext=mine.ciphertext)
    with pytest.raises(DecryptionError):
        open_sealed(spliced, tale_id="tale-000002", owner="user-7", keys=keys)
    with pytest.raises(DecryptionError):
        open_sealed(spliced, tale_id=TALE, owner=OWNER, keys=keys)


def test_empty_context_is_rejected(keys: LocalKeyFile) -> None:
    with pytest.raises(ValueError, match="tale_id"):
        seal(ENGLISH, tale_id="", owner=OWNER, keys=keys)
    with pytest.raises(ValueError, match="owner"):
        seal(ENGLISH, tale_id=TALE, owner="", keys=keys)


def test_unencodable_text_is_refused_without_echoing_it(keys: LocalKeyFile) -> None:
    text = "secret story \ud800 tail"
    with pytest.raises(ValueError) as info:
        seal(text, tale_id=TALE, owner=OWNER, keys=keys)
    assert "secret story" not in str(info.value)
    assert info.value.__context__ is None and info.value.__cause__ is None


# --- tampering -------------------------------------------------------------------------------


@pytest.mark.parametrize("field", ["ciphertext", "nonce", "wrapped_key"])
def test_flipping_any_byte_fails(keys: LocalKeyFile, field: str) -> None:
    text = "A short story about a fox."
    sealed = seal(text, tale_id=TALE, owner=OWNER, keys=keys)
    original: bytes = getattr(sealed, field)
    for index in range(len(original)):
        changes: dict[str, Any] = {field: _flip(original, index)}
        tampered = dataclasses.replace(sealed, **changes)
        with pytest.raises(DecryptionError) as info:
            open_sealed(tampered, tale_id=TALE, owner=OWNER, keys=keys)
        _assert_no_secrets(info.value, text)
    assert open_sealed(sealed, tale_id=TALE, owner=OWNER, keys=keys) == text


def test_truncated_or_extended_bytes_fail(keys: LocalKeyFile) -> None:
    sealed = seal(ENGLISH, tale_id=TALE, owner=OWNER, keys=keys)
    for tampered in (
        dataclasses.replace(sealed, ciphertext=sealed.ciphertext[:-1]),
        dataclasses.replace(sealed, ciphertext=sealed.ciphertext + b"\x00"),
        dataclasses.replace(sealed, wrapped_key=sealed.wrapped_key[:-1]),
        dataclasses.replace(sealed, wrapped_key=sealed.wrapped_key + b"\x00"),
        dataclasses.replace(sealed, wrapped_key=sealed.wrapped_key[:10]),
    ):
        with pytest.raises(DecryptionError):
            open_sealed(tampered, tale_id=TALE, owner=OWNER, keys=keys)


def test_editing_the_key_id_fails(keys: LocalKeyFile) -> None:
    sealed = seal(ENGLISH, tale_id=TALE, owner=OWNER, keys=keys)
    keys.rotate()
    with pytest.raises(DecryptionError):
        open_sealed(
            dataclasses.replace(sealed, key_id=keys.key_id), tale_id=TALE, owner=OWNER, keys=keys
        )


def test_flipping_bytes_in_stored_json_fails(keys: LocalKeyFile) -> None:
    sealed = seal(ENGLISH, tale_id=TALE, owner=OWNER, keys=keys)
    stored = sealed.to_json()
    raw = json.loads(stored)
    for name in ("wk", "n", "ct"):
        data = base64.b64decode(raw[name])
        for index in (0, len(data) // 2, len(data) - 1):
            edited = dict(raw, **{name: base64.b64encode(_flip(data, index)).decode()})
            with pytest.raises(DecryptionError):
                open_sealed(
                    Sealed.from_json(json.dumps(edited)), tale_id=TALE, owner=OWNER, keys=keys
                )


def test_wrong_kek_fails(tmp_path: Path) -> None:
    sealed = seal(KOREAN, tale_id=TALE, owner=OWNER, keys=LocalKeyFile(tmp_path / "a"))
    other = LocalKeyFile(tmp_path / "b")
    with pytest.raises(DecryptionError, match="did not unwrap") as info:
        open_sealed(sealed, tale_id=TALE, owner=OWNER, keys=other)
    _assert_no_secrets(info.value, KOREAN, (tmp_path / "a" / "kek-1.key").read_bytes())
    assert isinstance(info.value.__cause__, KeyUnwrapError)


def test_decryption_errors_never_carry_key_bytes(tmp_path: Path) -> None:
    keys = LocalKeyFile(tmp_path / "k")
    kek = (tmp_path / "k" / "kek-1.key").read_bytes()
    sealed = seal(KOREAN, tale_id=TALE, owner=OWNER, keys=keys)
    data_key = keys.unwrap(sealed.wrapped_key, _wrap_aad(sealed))
    for tampered, tale in (
        (sealed, "tale-x"),
        (dataclasses.replace(sealed, ciphertext=_flip(sealed.ciphertext, 0)), TALE),
        (dataclasses.replace(sealed, wrapped_key=_flip(sealed.wrapped_key, 30)), TALE),
    ):
        with pytest.raises(DecryptionError) as info:
            open_sealed(tampered, tale_id=tale, owner=OWNER, keys=keys)
        _assert_no_secrets(info.value, KOREAN, kek, data_key)
        chained = info.value.__cause__ or info.value.__context__
        if chained is not None:
            _assert_not_in(repr(chained), KOREAN, kek, data_key)


# --- from_json on junk -------------------------------------------------------------------------


def _valid(keys: LocalKeyFile) -> dict[str, object]:
    raw: dict[str, object] = json.loads(seal("x", tale_id=TALE, owner=OWNER, keys=keys).to_json())
    return raw


@pytest.mark.parametrize(
    ("junk", "match"),
    [
        ("", "not valid JSON"),
        ("not json at all", "not valid JSON"),
        ("Once upon a time there was a fox.", "not valid JSON"),
        ('{"v":1', "not valid JSON"),
        ("[1, 2, 3]", "must be a JSON object"),
        ('"a string"', "must be a JSON object"),
        ("null", "must be a JSON object"),
        ("{}", "missing v, kid, wk, n, ct"),
        ('{"v": NaN}', "NaN"),
        ("[" * 100_000, "JSON"),
        ('{"v": ' + "9" * 5000 + "}", "number is too long"),
    ],
)
def test_from_json_on_junk_fails_clearly(junk: str, match: str) -> None:
    with pytest.raises(SealedFormatError, match=match) as info:
        Sealed.from_json(junk)
    assert isinstance(info.value, DecryptionError) and isinstance(info.value, ValueError)
    assert info.value.__context__ is None  # a JSONDecodeError would keep the whole input
    if len(junk) > 12:
        assert junk not in str(info.value)


@pytest.mark.parametrize(
    ("edit", "match"),
    [
        ({"v": 2}, "unsupported sealed story version 2"),
        ({"v": "1"}, "'v' must be an integer"),
        ({"v": True}, "'v' must be an integer"),
        ({"v": 1.0}, "'v' must be an integer"),
        ({"kid": 5}, "'kid' must be a string"),
        ({"kid": ""}, "key id"),
        ({"kid": "bad\nid"}, "key id"),
        ({"wk": 5}, "'wk' must be a base64 string"),
        ({"wk": ""}, "wrapped key is too short"),
        ({"n": "not base64!"}, "'n' is not valid base64"),
        ({"n": "AAAA"}, "nonce is too short"),
        ({"n": "AAAAAAAAAAAAAAAA" + "AAAA"}, "nonce must be 12 bytes"),
        ({"ct": "AAA"}, "'ct' is not valid base64"),
        ({"ct": "AAAAAA=="}, "ciphertext is too short"),
        ({"ct": "ü"}, "non-ASCII"),
        ({"extra": 1}, "unexpected 'extra'"),
    ],
)
def test_from_json_on_bad_fields_fails_clearly(
    keys: LocalKeyFile, edit: dict[str, object], match: str
) -> None:
    raw = _valid(keys)
    raw.update(edit)
    with pytest.raises(SealedFormatError, match=match):
        Sealed.from_json(json.dumps(raw))


def test_from_json_rejects_missing_and_duplicate_fields(keys: LocalKeyFile) -> None:
    raw = _valid(keys)
    del raw["ct"]
    with pytest.raises(SealedFormatError, match="missing ct"):
        Sealed.from_json(json.dumps(raw))
    text = _valid(keys)
    dup = json.dumps(text)[:-1] + ',"v":1}'
    with pytest.raises(SealedFormatError, match="repeats the field 'v'"):
        Sealed.from_json(dup)


def test_from_json_rejects_non_canonical_base64(keys: LocalKeyFile) -> None:
    raw = _valid(keys)
    ct = str(raw["ct"])  # 17 bytes: 22 characters and "="
    body, padding = ct.rstrip("="), len(ct) - len(ct.rstrip("="))
    assert padding == 1
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    last = alphabet.index(body[-1])
    unused_bits_set = body[:-1] + alphabet[last | 0b11] + "="  # decodes to the same bytes
    assert unused_bits_set != ct
    assert base64.b64decode(unused_bits_set) == base64.b64decode(ct)
    for variant in (ct.rstrip("="), ct + "\n", " " + ct, ct + "==", unused_bits_set):
        if variant == ct:
            continue
        raw["ct"] = variant
        with pytest.raises(SealedFormatError, match="base64"):
            Sealed.from_json(json.dumps(raw))


def test_from_json_rejects_non_text() -> None:
    with pytest.raises(SealedFormatError, match="JSON text"):
        Sealed.from_json(b'{"v":1}')  # type: ignore[arg-type]


# --- key files --------------------------------------------------------------------------------


@posix_only
def test_key_file_is_created_owner_only(tmp_path: Path) -> None:
    folder = tmp_path / "deep" / "keys"
    old = os.umask(0o000)  # even with a permissive umask
    try:
        keys = LocalKeyFile(folder)
    finally:
        os.umask(old)
    key_file = folder / "kek-1.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert len(key_file.read_bytes()) == 32
    assert sorted(p.name for p in folder.iterdir()) == ["kek-1.key"]  # no temp files left
    assert keys.key_id.startswith("local:") and len(keys.key_id) == len("local:") + 16
    assert key_file.read_bytes().hex() not in keys.key_id


@posix_only
@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660, 0o606])
def test_key_file_readable_by_others_is_refused(tmp_path: Path, mode: int) -> None:
    folder = tmp_path / "keys"
    keys = LocalKeyFile(folder)
    sealed = seal(ENGLISH, tale_id=TALE, owner=OWNER, keys=keys)
    key_file = folder / "kek-1.key"
    key_file.chmod(mode)
    with pytest.raises(InsecureKeyFileError, match=f"refusing.*{mode:04o}.*chmod 600"):
        LocalKeyFile(folder)
    key_file.chmod(0o600)
    assert open_sealed(sealed, tale_id=TALE, owner=OWNER, keys=LocalKeyFile(folder)) == ENGLISH


def test_key_file_of_wrong_size_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "keys"
    LocalKeyFile(folder)
    key_file = folder / "kek-1.key"
    key_file.write_bytes(b"short")
    with pytest.raises(KeyFileError, match="exactly 32 bytes"):
        LocalKeyFile(folder)


@posix_only
def test_symlinked_key_file_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "keys"
    folder.mkdir(mode=0o700)
    target = tmp_path / "elsewhere.key"
    target.write_bytes(os.urandom(32))
    target.chmod(0o600)
    (folder / "kek-1.key").symlink_to(target)
    with pytest.raises(KeyFileError):
        LocalKeyFile(folder)


def test_existing_key_is_never_replaced(tmp_path: Path) -> None:
    folder = tmp_path / "keys"
    first = LocalKeyFile(folder)
    before = (folder / "kek-1.key").read_bytes()
    second = LocalKeyFile(folder)
    assert (folder / "kek-1.key").read_bytes() == before
    assert first.key_id == second.key_id


# --- rotation -----------------------------------------------------------------------------------


def test_rotate_keeps_old_stories_readable(tmp_path: Path) -> None:
    folder = tmp_path / "keys"
    keys = LocalKeyFile(folder)
    old_id = keys.key_id
    old = seal(KOREAN, tale_id=TALE, owner=OWNER, keys=keys)

    new_id = keys.rotate()
    assert new_id == keys.key_id != old_id
    assert sorted(p.name for p in folder.iterdir()) == ["kek-1.key", "kek-2.key"]
    new = seal(ENGLISH, tale_id="tale-000002", owner=OWNER, keys=keys)
    assert new.key_id == new_id
    assert old.key_id == old_id

    assert open_sealed(old, tale_id=TALE, owner=OWNER, keys=keys) == KOREAN
    assert open_sealed(new, tale_id="tale-000002", owner=OWNER, keys=keys) == ENGLISH
    # and from a fresh process, which wraps with the newest key
    fresh = LocalKeyFile(folder)
    assert fresh.key_id == new_id
    assert fresh.key_ids == [old_id, new_id]
    assert open_sealed(old, tale_id=TALE, owner=OWNER, keys=fresh) == KOREAN
    assert open_sealed(new, tale_id="tale-000002", owner=OWNER, keys=fresh) == ENGLISH

    third = keys.rotate()
    assert third not in (old_id, new_id)
    assert open_sealed(old, tale_id=TALE, owner=OWNER, keys=keys) == KOREAN
    if os.name == "posix":
        assert stat.S_IMODE((folder / "kek-3.key").stat().st_mode) == 0o600


def test_rotation_elsewhere_is_picked_up(tmp_path: Path) -> None:
    folder = tmp_path / "keys"
    here = LocalKeyFile(folder)
    there = LocalKeyFile(folder)
    there.rotate()
    sealed = seal(ENGLISH, tale_id=TALE, owner=OWNER, keys=there)
    assert here.key_id != there.key_id
    assert open_sealed(sealed, tale_id=TALE, owner=OWNER, keys=here) == ENGLISH  # unwrap rescans
    assert here.reload() == there.key_id


def test_deleted_old_key_makes_its_stories_unreadable(tmp_path: Path) -> None:
    folder = tmp_path / "keys"
    keys = LocalKeyFile(folder)
    old = seal(ENGLISH, tale_id=TALE, owner=OWNER, keys=keys)
    keys.rotate()
    (folder / "kek-1.key").unlink()
    with pytest.raises(DecryptionError, match="no key local:"):
        open_sealed(old, tale_id=TALE, owner=OWNER, keys=LocalKeyFile(folder))
