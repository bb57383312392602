"""Verifying Supabase access tokens.

``TokenVerifier.verify`` takes the raw ``Authorization`` header value and returns the caller's
``Identity`` or raises ``AuthError``. Accepted tokens:

- asymmetric (RS256, ES256), verified with the key that the token's ``kid`` names in the
  project's JWKS; the algorithm is the one the *key* dictates, and a header ``alg`` that
  differs is rejected;
- legacy HS256, verified with the project's shared JWT secret, only when one is configured.
  An HS256 token is never checked against a public key (no algorithm confusion).

``alg: none`` is never accepted. Claims checked: ``exp`` (required), ``nbf`` and ``iat`` (when
present), ``aud``, ``iss``, ``sub`` and ``role == "authenticated"`` (403 otherwise).
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import jwt
from jwt.types import Options

from shared.auth.errors import AuthError
from shared.auth.jwks import JwksSource

__all__ = ["ASYMMETRIC_ALGORITHMS", "AuthError", "Identity", "TokenVerifier"]

ASYMMETRIC_ALGORITHMS = frozenset({"RS256", "ES256"})
SYMMETRIC_ALGORITHM = "HS256"
USER_ROLE = "authenticated"
MAX_TOKEN_CHARS = 16_384
MIN_HS256_SECRET_BYTES = 32

_COMPACT_JWS = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")

# Claims are checked here, against the injected clock, rather than by PyJWT.
_SIGNATURE_ONLY: Options = {
    "verify_signature": True,
    "verify_exp": False,
    "verify_nbf": False,
    "verify_iat": False,
    "verify_aud": False,
    "verify_iss": False,
    "verify_sub": False,
    "verify_jti": False,
    "enforce_minimum_key_length": True,
}


@dataclass(frozen=True)
class Identity:
    """The authenticated caller."""

    user_id: str  # the "sub" claim (a uuid string for Supabase users)
    email: str | None
    role: str  # always "authenticated"
    claims: Mapping[str, Any] = field(repr=False, compare=False, hash=False)

    @property
    def is_anonymous(self) -> bool:
        """True for Supabase anonymous sign-ins (they also carry role "authenticated")."""
        return self.claims.get("is_anonymous") is True


def _unauthorized(reason: str) -> AuthError:
    return AuthError(401, reason)


def _bearer_token(authorization_header: str | None) -> str:
    if authorization_header is None or not isinstance(authorization_header, str):
        raise _unauthorized("missing authorization header")
    value = authorization_header.strip()
    if not value:
        raise _unauthorized("missing authorization header")
    scheme, _, token = value.partition(" ")
    if scheme.lower() != "bearer":
        raise _unauthorized("authorization scheme must be Bearer")
    token = token.strip(" ")
    if not token:
        raise _unauthorized("missing bearer token")
    if len(token) > MAX_TOKEN_CHARS:
        raise _unauthorized("token too large")
    if not _COMPACT_JWS.fullmatch(token):
        raise _unauthorized("malformed token")
    return token


def _number(claims: Mapping[str, Any], name: str) -> int | float | None:
    """A NumericDate claim; NaN and infinities (which Python's JSON accepts) are rejected."""
    value = claims.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _unauthorized(f"invalid {name} claim")
    if isinstance(value, float) and not math.isfinite(value):
        raise _unauthorized(f"invalid {name} claim")
    return value


class TokenVerifier:
    """Checks ``Authorization: Bearer <jwt>`` headers against one Supabase project."""

    def __init__(
        self,
        *,
        issuer: str,
        audience: str = USER_ROLE,
        jwks: JwksSource | None = None,
        hs256_secret: str | None = None,
        leeway_s: int = 30,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not issuer:
            raise ValueError("issuer is required")
        if jwks is None and hs256_secret is None:
            raise ValueError("configure jwks, hs256_secret or both")
        if hs256_secret is not None and len(hs256_secret.encode()) < MIN_HS256_SECRET_BYTES:
            raise ValueError(f"hs256_secret must be at least {MIN_HS256_SECRET_BYTES} bytes")
        if leeway_s < 0:
            raise ValueError("leeway_s must not be negative")
        self.issuer = issuer
        self.audience = audience
        self._jwks = jwks
        self._hs256_secret = hs256_secret
        self._leeway_s = leeway_s
        self._clock = clock

    def verify(self, authorization_header: str | None) -> Identity:
        token = _bearer_token(authorization_header)
        header, unverified = self._peek(token)
        # Rejecting a foreign issuer before any key lookup keeps other projects' tokens from
        # causing JWKS refreshes; nothing is *accepted* on unverified data.
        if unverified.get("iss") != self.issuer:
            raise _unauthorized("wrong issuer")
        claims = self._verified_claims(token, header)
        return self._identity(claims)

    def _peek(self, token: str) -> tuple[dict[str, Any], dict[str, Any]]:
        try:
            header = jwt.get_unverified_header(token)
            payload = jwt.decode(token, options={"verify_signature": False})
        except (jwt.PyJWTError, ValueError, TypeError, RecursionError):  # deep JSON too
            raise _unauthorized("malformed token") from None
        if not isinstance(payload, dict):
            raise _unauthorized("malformed token")
        return header, payload

    def _key_for(self, header: Mapping[str, Any]) -> tuple[jwt.PyJWK | str, str]:
        """The verification key and the one algorithm it allows."""
        alg = header.get("alg")
        if not isinstance(alg, str) or not alg:
            raise _unauthorized("token has no algorithm")
        if alg.lower() == "none":
            raise _unauthorized("unsigned tokens are not accepted")
        if alg == SYMMETRIC_ALGORITHM:
            if self._hs256_secret is None:
                raise _unauthorized("HS256 tokens are not accepted")
            return self._hs256_secret, SYMMETRIC_ALGORITHM
        if alg not in ASYMMETRIC_ALGORITHMS:
            raise _unauthorized("unsupported algorithm")
        if self._jwks is None:
            raise _unauthorized("asymmetric tokens are not accepted")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise _unauthorized("token has no key id")
        key = self._jwks.get(kid)
        # The key dictates the algorithm; the header only has to agree with it.
        if key.algorithm_name not in ASYMMETRIC_ALGORITHMS:
            raise _unauthorized("unsupported signing key")
        if key.algorithm_name != alg:
            raise _unauthorized("algorithm does not match signing key")
        return key, key.algorithm_name

    def _verified_claims(self, token: str, header: Mapping[str, Any]) -> dict[str, Any]:
        key, algorithm = self._key_for(header)
        try:
            claims = jwt.decode(token, key, algorithms=[algorithm], options=_SIGNATURE_ONLY)
        except jwt.InvalidSignatureError:
            raise _unauthorized("invalid signature") from None
        except jwt.InvalidAlgorithmError:
            raise _unauthorized("algorithm does not match signing key") from None
        except jwt.InvalidKeyError:
            raise _unauthorized("unusable signing key") from None
        except (jwt.PyJWTError, ValueError, TypeError, RecursionError):
            raise _unauthorized("malformed token") from None
        if not isinstance(claims, dict):
            raise _unauthorized("malformed token")
        self._check_times(claims)
        self._check_audience_and_issuer(claims)
        return claims

    def _check_times(self, claims: Mapping[str, Any]) -> None:
        now = self._clock()
        leeway = self._leeway_s
        exp = _number(claims, "exp")
        if exp is None:
            raise _unauthorized("token has no expiry")
        if exp <= now - leeway:
            raise _unauthorized("token expired")
        nbf = _number(claims, "nbf")
        if nbf is not None and nbf > now + leeway:
            raise _unauthorized("token not yet valid")
        iat = _number(claims, "iat")
        if iat is not None and iat > now + leeway:
            raise _unauthorized("token issued in the future")

    def _check_audience_and_issuer(self, claims: Mapping[str, Any]) -> None:
        aud = claims.get("aud")
        if aud is None:
            raise _unauthorized("missing audience")
        audiences = [aud] if isinstance(aud, str) else aud
        if not isinstance(audiences, list) or self.audience not in audiences:
            raise _unauthorized("wrong audience")
        if claims.get("iss") != self.issuer:
            raise _unauthorized("wrong issuer")

    def _identity(self, claims: dict[str, Any]) -> Identity:
        sub = claims.get("sub")
        if not isinstance(sub, str) or not sub:
            raise _unauthorized("missing subject")
        role = claims.get("role")
        if role != USER_ROLE:
            raise AuthError(403, "role not allowed")
        email = claims.get("email")
        return Identity(
            user_id=sub,
            email=email if isinstance(email, str) and email else None,
            role=USER_ROLE,
            claims=MappingProxyType(claims),
        )
