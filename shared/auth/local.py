"""Local development tokens, shaped exactly like Supabase's.

``LocalSigner`` keeps an ES256 (P-256) private key in ``<folder>/local-jwt-es256.pem``, created
on first use with permissions 0600. It mints access tokens carrying the claims Supabase Auth
puts in its own (``iss``, ``aud``, ``role``, ``sub``, ``email``, ``exp``, ``iat``, ``aal``,
``session_id``, ...) with a ``kid`` header, publishes the matching JWKS, and builds a
``TokenVerifier`` whose ``JwksSource`` fetches that JWKS over an ``httpx.MockTransport`` — the
same verification code path as production, only the transport differs.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import httpx
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm

from shared.auth.jwks import JwksSource, jwks_url
from shared.auth.tokens import USER_ROLE, TokenVerifier

LOCAL_ISSUER = "http://localhost/auth/v1"
KEY_FILE_NAME = "local-jwt-es256.pem"
ALGORITHM = "ES256"


def _thumbprint(public_jwk: Mapping[str, Any]) -> str:
    """RFC 7638 JWK thumbprint of an EC public key, used as the ``kid``."""
    members = {name: public_jwk[name] for name in ("crv", "kty", "x", "y")}
    canonical = json.dumps(members, separators=(",", ":"), sort_keys=True).encode()
    digest = hashlib.sha256(canonical).digest()
    return jwt.utils.base64url_encode(digest).decode()


def _write_new_key(path: Path) -> None:
    """Create the key file atomically with 0600; if another process won the race, keep theirs."""
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, pem)
        os.fsync(fd)
    finally:
        os.close(fd)
    try:
        os.link(tmp, path)  # atomic, and never replaces an existing key
    except FileExistsError:
        pass
    except OSError:  # a file system without hard links
        if not path.exists():
            os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _load_or_create_key(folder: Path) -> ec.EllipticCurvePrivateKey:
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = folder / KEY_FILE_NAME
    if not path.exists():
        _write_new_key(path)
    if path.stat().st_mode & 0o077:
        os.chmod(path, 0o600)
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
        raise ValueError(f"{path} does not hold a P-256 private key")
    return key


class LocalSigner:
    """Mints and verifies Supabase-shaped ES256 access tokens for local development."""

    def __init__(
        self,
        folder: str | os.PathLike[str],
        *,
        issuer: str = LOCAL_ISSUER,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.folder = Path(folder)
        self.issuer = issuer
        self._clock = clock
        self._private_key = _load_or_create_key(self.folder)
        public_jwk = ECAlgorithm.to_jwk(self._private_key.public_key(), as_dict=True)
        self.kid = _thumbprint(public_jwk)
        self._public_jwk: dict[str, Any] = {
            **public_jwk,
            "kid": self.kid,
            "alg": ALGORITHM,
            "use": "sig",
        }

    @property
    def key_path(self) -> Path:
        return self.folder / KEY_FILE_NAME

    def mint(
        self,
        user_id: str,
        email: str | None,
        ttl_s: int = 3600,
        *,
        role: str = USER_ROLE,
        extra_claims: Mapping[str, Any] | None = None,
    ) -> str:
        """A signed access token for ``user_id``, valid for ``ttl_s`` seconds from now."""
        now = int(self._clock())
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "aud": USER_ROLE,
            "sub": user_id,
            "email": email or "",
            "phone": "",
            "role": role,
            "aal": "aal1",
            "amr": [{"method": "password", "timestamp": now}],
            "session_id": str(uuid.uuid4()),
            "is_anonymous": False,
            "app_metadata": {"provider": "email", "providers": ["email"]},
            "user_metadata": {},
            "iat": now,
            "exp": now + ttl_s,
        }
        if extra_claims:
            claims.update(extra_claims)
        return jwt.encode(
            claims,
            self._private_key,
            algorithm=ALGORITHM,
            headers={"kid": self.kid, "typ": "JWT"},
        )

    def jwks(self) -> dict[str, Any]:
        """The public JWKS document, as ``<issuer>/.well-known/jwks.json`` would serve it."""
        return {"keys": [dict(self._public_jwk)]}

    def verifier(self, issuer: str | None = None, *, leeway_s: int = 30) -> TokenVerifier:
        """A production ``TokenVerifier`` whose JWKS is served from this signer's key."""
        issuer = issuer or self.issuer
        url = jwks_url(issuer)

        def serve(request: httpx.Request) -> httpx.Response:
            if str(request.url) != url:
                return httpx.Response(404)
            return httpx.Response(200, json=self.jwks())

        client = httpx.Client(transport=httpx.MockTransport(serve))
        return TokenVerifier(
            issuer=issuer,
            jwks=JwksSource(url, client),
            leeway_s=leeway_s,
            clock=self._clock,
        )
