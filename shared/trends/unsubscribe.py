"""Unsubscribe tokens for the trend digest: the follower's id and an HMAC-SHA256 of it.

A token is ``<follower id>.<signature>`` (the signature 43 URL-safe characters); it names no
email address, and without the secret nobody can make one for someone else. It goes into the
digest's ``List-Unsubscribe`` header (RFC 8058 one-click: a mail client POSTs
``List-Unsubscribe=One-Click`` to ``/v1/trends/unsubscribe?token=…``) and into the link at
the foot of the mail (the frontend's page, which asks before it POSTs the same).

The secret: ``TALE_TRENDS_UNSUBSCRIBE_SECRET`` (Secret Manager on GCP, where it is
required); in the embedded default, a random key kept in ``<home>/keys/trends-unsubscribe.key``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import secrets
from pathlib import Path

from shared.config import Settings
from shared.domain.errors import PermanentError

_TOKEN = re.compile(r"^([0-9a-f]{16})\.([A-Za-z0-9_-]{43})$")


class InvalidToken(ValueError):
    """Malformed, or not signed with this deployment's secret."""


def secret(settings: Settings, home: Path) -> bytes:
    if settings.trends_unsubscribe_secret:
        return settings.trends_unsubscribe_secret.encode()
    if settings.gcp_project is not None:
        raise PermanentError(
            "TALE_TRENDS_UNSUBSCRIBE_SECRET is not set: digests need it for their unsubscribe "
            "links (Secret Manager: tale-trends-unsubscribe-key)"
        )
    path = home / "keys" / "trends-unsubscribe.key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
        tmp.write_bytes(secrets.token_bytes(32))
        tmp.chmod(0o600)
        try:
            os.link(tmp, path)  # first writer wins; a concurrent one reads the winner's key
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    return path.read_bytes()


def _signature(follower_id: str, key: bytes) -> str:
    mac = hmac.new(key, f"tale-unsubscribe|{follower_id}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).decode().rstrip("=")


def token(follower_id: str, key: bytes) -> str:
    return f"{follower_id}.{_signature(follower_id, key)}"


def follower_of(presented: str, key: bytes) -> str:
    """The follower id a valid token names; ``InvalidToken`` otherwise."""
    found = _TOKEN.match(presented or "")
    if not found or not hmac.compare_digest(found[2], _signature(found[1], key)):
        raise InvalidToken("not a valid unsubscribe token")
    return found[1]
