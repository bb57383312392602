"""Supabase access-token verification: signatures, algorithm confusion, claims, JWKS caching."""

from __future__ import annotations

import base64
import hmac
import json
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from hypothesis import given, settings
from hypothesis import strategies as st
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from shared.auth.jwks import JwksSource, jwks_url
from shared.auth.local import KEY_FILE_NAME, LOCAL_ISSUER, LocalSigner
from shared.auth.tokens import AuthError, Identity, TokenVerifier

ISSUER = "https://abcdefghijklmnop.supabase.co/auth/v1"
OTHER_ISSUER = "https://qrstuvwxyzabcdef.supabase.co/auth/v1"
NOW = 1_750_000_000.0
USER_ID = "6a1f0c2e-3b4d-4e5f-8a9b-0c1d2e3f4a5b"
HS_SECRET = "super-secret-jwt-token-with-at-least-32-characters-long"

RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
EC_KEY = ec.generate_private_key(ec.SECP256R1())
OTHER_RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def public_jwk(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey, kid: str) -> dict[str, Any]:
    if isinstance(key, rsa.RSAPrivateKey):
        data = RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
        alg = "RS256"
    else:
        data = ECAlgorithm.to_jwk(key.public_key(), as_dict=True)
        alg = "ES256"
    return {**data, "kid": kid, "alg": alg, "use": "sig"}


def claims(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "iss": ISSUER,
        "aud": "authenticated",
        "sub": USER_ID,
        "email": "mina@example.com",
        "phone": "",
        "role": "authenticated",
        "aal": "aal1",
        "session_id": "0b5cfb5e-8a3c-4e47-9a3a-6f1b9e3c2d10",
        "is_anonymous": False,
        "iat": int(NOW) - 10,
        "exp": int(NOW) + 3600,
    }
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def hand_made(header: dict[str, Any], payload: dict[str, Any], key: bytes | None) -> str:
    """A token built without PyJWT (which refuses to make the dangerous ones)."""
    signing_input = b64url(json.dumps(header).encode()) + "." + b64url(json.dumps(payload).encode())
    signature = b"" if key is None else hmac.new(key, signing_input.encode(), "sha256").digest()
    return signing_input + "." + b64url(signature)


class JwksServer:
    """A JWKS endpoint behind httpx.MockTransport that counts its requests."""

    def __init__(self, keys: list[dict[str, Any]]) -> None:
        self.keys = keys
        self.requests = 0
        self.fail_with: int | None = None
        self.raise_error = False

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        assert str(request.url) == jwks_url(ISSUER)
        if self.raise_error:
            raise httpx.ConnectError("connection refused", request=request)
        if self.fail_with is not None:
            return httpx.Response(self.fail_with)
        return httpx.Response(200, json={"keys": self.keys})


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class Setup:
    def __init__(self, *, hs256_secret: str | None = None) -> None:
        self.server = JwksServer([public_jwk(RSA_KEY, "rsa-1"), public_jwk(EC_KEY, "ec-1")])
        self.mono = Clock(1000.0)
        self.wall = Clock(NOW)
        client = httpx.Client(transport=httpx.MockTransport(self.server.handler))
        self.jwks = JwksSource(jwks_url(ISSUER), client, clock=self.mono)
        self.verifier = TokenVerifier(
            issuer=ISSUER, jwks=self.jwks, hs256_secret=hs256_secret, clock=self.wall
        )

    def verify(self, token: str) -> Identity:
        return self.verifier.verify(f"Bearer {token}")


@pytest.fixture
def env() -> Setup:
    return Setup()


def rs256(payload: dict[str, Any], kid: str = "rsa-1", key: Any = RSA_KEY) -> str:
    return jwt.encode(payload, key, algorithm="RS256", headers={"kid": kid})


def es256(payload: dict[str, Any], kid: str = "ec-1", key: Any = EC_KEY) -> str:
    return jwt.encode(payload, key, algorithm="ES256", headers={"kid": kid})


def rejected(call: Callable[[], object], reason: str, status: int = 401) -> AuthError:
    with pytest.raises(AuthError) as caught:
        call()
    assert caught.value.reason == reason
    assert caught.value.status == status
    return caught.value


# --- valid tokens -------------------------------------------------------------------------


def test_valid_rs256_token_passes(env: Setup) -> None:
    identity = env.verify(rs256(claims()))
    assert identity == Identity(
        user_id=USER_ID, email="mina@example.com", role="authenticated", claims={}
    )
    assert identity.claims["session_id"] == "0b5cfb5e-8a3c-4e47-9a3a-6f1b9e3c2d10"
    assert not identity.is_anonymous


def test_valid_es256_token_passes(env: Setup) -> None:
    identity = env.verify(es256(claims(email="")))
    assert identity.user_id == USER_ID
    assert identity.email is None  # phone-only users carry an empty email


def test_scheme_is_case_insensitive_and_audience_may_be_a_list(env: Setup) -> None:
    token = rs256(claims(aud=["authenticated", "other"]))
    assert env.verifier.verify(f"bearer {token}").user_id == USER_ID


# --- signatures and algorithms ------------------------------------------------------------


def test_alg_none_rejected(env: Setup) -> None:
    token = hand_made({"alg": "none", "typ": "JWT", "kid": "rsa-1"}, claims(), None)
    token = token + "AAAA"  # a non-empty signature segment so it looks well-formed
    rejected(lambda: env.verify(token), "unsigned tokens are not accepted")
    for alg in ("None", "NONE"):
        forged = hand_made({"alg": alg, "kid": "rsa-1"}, claims(), b"x")
        rejected(lambda t=forged: env.verify(t), "unsigned tokens are not accepted")  # type: ignore[misc]


def test_token_signed_with_wrong_key_rejected(env: Setup) -> None:
    rejected(lambda: env.verify(rs256(claims(), key=OTHER_RSA_KEY)), "invalid signature")


def test_tampered_payload_rejected(env: Setup) -> None:
    header, _, signature = rs256(claims()).split(".")
    forged_payload = b64url(json.dumps(claims(sub="someone-else")).encode())
    rejected(lambda: env.verify(f"{header}.{forged_payload}.{signature}"), "invalid signature")


def test_hs256_signed_with_public_key_pem_rejected() -> None:
    """Algorithm confusion: the RSA public key's PEM used as an HMAC secret."""
    pem = RSA_KEY.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    token = hand_made({"alg": "HS256", "typ": "JWT", "kid": "rsa-1"}, claims(), pem)
    without_secret = Setup()
    rejected(lambda: without_secret.verify(token), "HS256 tokens are not accepted")
    with_secret = Setup(hs256_secret=HS_SECRET)
    rejected(lambda: with_secret.verify(token), "invalid signature")
    # An RS256 header on an HMAC-signed token does not help either.
    rs_header = hand_made({"alg": "RS256", "kid": "rsa-1"}, claims(), pem)
    rejected(lambda: with_secret.verify(rs_header), "invalid signature")


def test_header_alg_must_match_the_keys_algorithm(env: Setup) -> None:
    token = rs256(claims(), kid="ec-1")  # RS256 token naming the EC key
    rejected(lambda: env.verify(token), "algorithm does not match signing key")
    token = es256(claims(), kid="rsa-1")
    rejected(lambda: env.verify(token), "algorithm does not match signing key")


def test_unsupported_algorithm_and_missing_kid(env: Setup) -> None:
    token = jwt.encode(claims(), RSA_KEY, algorithm="RS512", headers={"kid": "rsa-1"})
    rejected(lambda: env.verify(token), "unsupported algorithm")
    token = jwt.encode(claims(), RSA_KEY, algorithm="RS256")
    rejected(lambda: env.verify(token), "token has no key id")


def test_symmetric_key_in_jwks_is_never_used(env: Setup) -> None:
    env.server.keys.append(
        {"kty": "oct", "kid": "oct-1", "k": b64url(HS_SECRET.encode()), "alg": "HS256"}
    )
    token = jwt.encode(claims(), HS_SECRET, algorithm="HS256", headers={"kid": "oct-1"})
    rejected(lambda: env.verify(token), "HS256 tokens are not accepted")
    env.mono.now += 60
    token = hand_made({"alg": "RS256", "kid": "oct-1"}, claims(), HS_SECRET.encode())
    rejected(lambda: env.verify(token), "unknown signing key")


def test_legacy_hs256_secret() -> None:
    setup = Setup(hs256_secret=HS_SECRET)
    good = jwt.encode(claims(), HS_SECRET, algorithm="HS256")
    assert setup.verify(good).user_id == USER_ID
    bad = jwt.encode(claims(), HS_SECRET + "-but-not-this-one", algorithm="HS256")
    rejected(lambda: setup.verify(bad), "invalid signature")
    assert setup.server.requests == 0  # HS256 never touches the JWKS
    # Asymmetric tokens still work alongside the legacy secret.
    assert setup.verify(es256(claims())).user_id == USER_ID


def test_hs256_only_verifier_rejects_asymmetric_tokens() -> None:
    verifier = TokenVerifier(issuer=ISSUER, hs256_secret=HS_SECRET, clock=lambda: NOW)
    rejected(
        lambda: verifier.verify(f"Bearer {rs256(claims())}"), "asymmetric tokens are not accepted"
    )


def test_constructor_validation() -> None:
    with pytest.raises(ValueError, match="jwks, hs256_secret"):
        TokenVerifier(issuer=ISSUER)
    with pytest.raises(ValueError, match="at least 32 bytes"):
        TokenVerifier(issuer=ISSUER, hs256_secret="short")


# --- claims -------------------------------------------------------------------------------


def test_expired_token_rejected(env: Setup) -> None:
    rejected(lambda: env.verify(rs256(claims(exp=int(NOW) - 31))), "token expired")
    # Within the 30 s leeway it still passes.
    assert env.verify(rs256(claims(exp=int(NOW) - 29))).user_id == USER_ID


def test_exp_is_required_and_must_be_a_finite_number(env: Setup) -> None:
    rejected(lambda: env.verify(rs256(claims(exp=None))), "token has no expiry")
    rejected(lambda: env.verify(rs256(claims(exp="tomorrow"))), "invalid exp claim")
    rejected(lambda: env.verify(rs256(claims(exp=float("inf")))), "invalid exp claim")
    rejected(lambda: env.verify(rs256(claims(exp=float("nan")))), "invalid exp claim")
    rejected(lambda: env.verify(rs256(claims(exp=True))), "invalid exp claim")


def test_not_yet_valid_and_future_iat(env: Setup) -> None:
    rejected(lambda: env.verify(rs256(claims(nbf=int(NOW) + 120))), "token not yet valid")
    rejected(lambda: env.verify(rs256(claims(iat=int(NOW) + 120))), "token issued in the future")


def test_wrong_audience_rejected(env: Setup) -> None:
    rejected(lambda: env.verify(rs256(claims(aud="anon"))), "wrong audience")
    rejected(lambda: env.verify(rs256(claims(aud=None))), "missing audience")


def test_wrong_issuer_rejected(env: Setup) -> None:
    rejected(lambda: env.verify(rs256(claims(iss=ISSUER + "/"))), "wrong issuer")
    rejected(lambda: env.verify(rs256(claims(iss=None))), "wrong issuer")


def test_another_projects_token_rejected_without_fetching_keys(env: Setup) -> None:
    token = rs256(claims(iss=OTHER_ISSUER), kid="their-key", key=OTHER_RSA_KEY)
    rejected(lambda: env.verify(token), "wrong issuer")
    assert env.server.requests == 0
    # Even claiming our issuer, their key is unknown here.
    token = rs256(claims(), kid="their-key", key=OTHER_RSA_KEY)
    rejected(lambda: env.verify(token), "unknown signing key")


def test_missing_subject_rejected(env: Setup) -> None:
    rejected(lambda: env.verify(rs256(claims(sub=None))), "missing subject")
    rejected(lambda: env.verify(rs256(claims(sub=""))), "missing subject")


def test_anon_and_service_roles_are_forbidden(env: Setup) -> None:
    rejected(lambda: env.verify(rs256(claims(role="anon"))), "role not allowed", status=403)
    rejected(lambda: env.verify(rs256(claims(role="service_role"))), "role not allowed", 403)
    rejected(lambda: env.verify(rs256(claims(role=None))), "role not allowed", status=403)


def test_anonymous_sign_in_is_flagged(env: Setup) -> None:
    assert env.verify(rs256(claims(is_anonymous=True))).is_anonymous


# --- the header ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        (None, "missing authorization header"),
        ("", "missing authorization header"),
        ("   ", "missing authorization header"),
        ("Basic dXNlcjpwYXNz", "authorization scheme must be Bearer"),
        ("Token abc.def.ghi", "authorization scheme must be Bearer"),
        ("Bearer", "missing bearer token"),
        ("Bearer    ", "missing bearer token"),
        ("Bearer garbage", "malformed token"),
        ("Bearer a.b", "malformed token"),
        ("Bearer a.b.c d", "malformed token"),
        ("Bearer !!!.@@@.###", "malformed token"),
        ("NO_ALG", "token has no algorithm"),
        ("Bearer eyJhbGciOiJSUzI1NiJ9.bm90IGpzb24.c2ln", "malformed token"),
        ("Bearer " + "a" * 20_000 + ".b.c", "token too large"),
    ],
)
def test_malformed_header_values(env: Setup, header: str | None, reason: str) -> None:
    if header == "NO_ALG":  # a well-formed token whose header has no "alg"
        header = "Bearer " + hand_made({"typ": "JWT"}, claims(), b"k")
    rejected(lambda: env.verifier.verify(header), reason)


def test_reason_never_contains_the_token(env: Setup) -> None:
    token = rs256(claims(exp=int(NOW) - 3600))
    error = rejected(lambda: env.verify(token), "token expired")
    assert token not in str(error) and token not in repr(error)


# --- JWKS caching -------------------------------------------------------------------------


def test_keys_are_cached(env: Setup) -> None:
    for _ in range(5):
        env.verify(rs256(claims()))
        env.verify(es256(claims()))
    assert env.server.requests == 1
    env.mono.now += 601  # past the 10 minute TTL
    env.verify(rs256(claims()))
    assert env.server.requests == 2


def test_unknown_kid_refreshes_once_then_new_key_passes(env: Setup) -> None:
    env.verify(rs256(claims()))
    assert env.server.requests == 1
    env.mono.now += 45
    new_key = ec.generate_private_key(ec.SECP256R1())
    env.server.keys.append(public_jwk(new_key, "ec-2"))
    assert env.verify(es256(claims(), kid="ec-2", key=new_key)).user_id == USER_ID
    assert env.server.requests == 2
    for _ in range(3):
        env.verify(es256(claims(), kid="ec-2", key=new_key))
    assert env.server.requests == 2


def test_rotated_out_key_is_dropped(env: Setup) -> None:
    env.verify(rs256(claims()))
    env.server.keys = [public_jwk(EC_KEY, "ec-1")]
    env.mono.now += 601
    rejected(lambda: env.verify(rs256(claims())), "unknown signing key")


def test_unknown_kid_flood_refreshes_at_most_once_per_interval(env: Setup) -> None:
    env.verify(rs256(claims()))  # initial fetch at t=1000
    assert env.server.requests == 1
    for i in range(200):  # within min_refresh_s of the first fetch: no request at all
        rejected(lambda i=i: env.verify(rs256(claims(), kid=f"bogus-{i}")), "unknown signing key")  # type: ignore[misc]
    assert env.server.requests == 1
    env.mono.now += 30
    for i in range(200):
        rejected(lambda i=i: env.verify(rs256(claims(), kid=f"flood-{i}")), "unknown signing key")  # type: ignore[misc]
        env.mono.now += 0.125  # 25 seconds pass during the flood
    assert env.server.requests == 2
    env.mono.now += 5  # 30 s after the last refresh
    rejected(lambda: env.verify(rs256(claims(), kid="later")), "unknown signing key")
    assert env.server.requests == 3
    assert env.verify(rs256(claims())).user_id == USER_ID  # known keys keep working


def test_jwks_outage_is_503_but_cached_keys_keep_working(env: Setup) -> None:
    env.server.fail_with = 500
    rejected(lambda: env.verify(rs256(claims())), "signing keys unavailable", status=503)
    env.mono.now += 30
    env.server.fail_with = None
    env.verify(rs256(claims()))
    env.server.raise_error = True
    env.mono.now += 601
    assert env.verify(rs256(claims())).user_id == USER_ID  # stale key served during outage
    env.mono.now += 30
    rejected(lambda: env.verify(rs256(claims(), kid="new")), "signing keys unavailable", 503)


@pytest.mark.parametrize("body", [b"not json", b"[]", b'{"keys": "nope"}'])
def test_malformed_jwks_is_503(body: bytes) -> None:
    client = httpx.Client(
        transport=httpx.MockTransport(lambda _: httpx.Response(200, content=body))
    )
    verifier = TokenVerifier(
        issuer=ISSUER, jwks=JwksSource(jwks_url(ISSUER), client), clock=lambda: NOW
    )
    rejected(lambda: verifier.verify(f"Bearer {rs256(claims())}"), "signing keys unavailable", 503)


def test_empty_jwks_of_a_legacy_project_is_valid() -> None:
    client = httpx.Client(
        transport=httpx.MockTransport(lambda _: httpx.Response(200, json={"keys": []}))
    )
    verifier = TokenVerifier(
        issuer=ISSUER, jwks=JwksSource(jwks_url(ISSUER), client), clock=lambda: NOW
    )
    rejected(lambda: verifier.verify(f"Bearer {rs256(claims())}"), "unknown signing key")


# --- local development tokens -------------------------------------------------------------


def test_local_signer_round_trip(tmp_path: Path) -> None:
    folder = tmp_path / "keys"
    signer = LocalSigner(folder)
    token = signer.mint(USER_ID, "mina@example.com")
    header = jwt.get_unverified_header(token)
    assert header == {"alg": "ES256", "kid": signer.kid, "typ": "JWT"}
    identity = signer.verifier(LOCAL_ISSUER).verify(f"Bearer {token}")
    assert identity.user_id == USER_ID
    assert identity.email == "mina@example.com"
    assert identity.claims["iss"] == LOCAL_ISSUER
    assert identity.claims["aud"] == "authenticated"
    assert identity.claims["exp"] - identity.claims["iat"] == 3600

    key_file = folder / KEY_FILE_NAME
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    # A second signer reuses the key: tokens stay valid across restarts.
    again = LocalSigner(folder)
    assert again.kid == signer.kid
    assert again.verifier().verify(f"Bearer {token}").user_id == USER_ID
    (published,) = signer.jwks()["keys"]
    assert published["kid"] == signer.kid and published["kty"] == "EC"
    assert "d" not in published  # never the private part


def test_local_tokens_are_not_accepted_by_production(env: Setup, tmp_path: Path) -> None:
    signer = LocalSigner(tmp_path)
    rejected(lambda: env.verify(signer.mint(USER_ID, "mina@example.com")), "wrong issuer")
    spoofed = LocalSigner(tmp_path / "other", issuer=ISSUER)
    rejected(lambda: env.verify(spoofed.mint(USER_ID, "x@example.com")), "unknown signing key")


def test_local_expired_token(tmp_path: Path) -> None:
    clock = Clock(NOW)
    signer = LocalSigner(tmp_path, clock=clock)
    token = signer.mint(USER_ID, "mina@example.com", ttl_s=60)
    clock.now += 91
    rejected(lambda: signer.verifier().verify(f"Bearer {token}"), "token expired")


# --- fuzzing ------------------------------------------------------------------------------

_FUZZ = Setup(hs256_secret=HS_SECRET)
_segment = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_=")
_json_value = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda children: st.lists(children) | st.dictionaries(st.text(), children),
    max_leaves=8,
)
_jose_header = st.fixed_dictionaries(
    {
        "alg": st.sampled_from(["RS256", "ES256", "HS256", "none", "RS512", ""]) | _json_value,
        "kid": st.sampled_from(["rsa-1", "ec-1", "x", ""]) | _json_value,
    }
)
# Our issuer with random values for the other claims, to get past the issuer check.
_near_claims = st.dictionaries(
    st.sampled_from(["aud", "sub", "role", "exp", "nbf", "iat", "email", "iss"]), _json_value
).map(lambda extra: {**claims(), **extra, "iss": ISSUER})


def _compact(header: object, payload: object, signature: str) -> str:
    encoded = [b64url(json.dumps(part).encode()) for part in (header, payload)]
    return "Bearer " + ".".join([*encoded, signature])


_header_strings = st.one_of(
    st.text(),
    st.text().map(lambda s: "Bearer " + s),
    st.tuples(_segment, _segment, _segment).map(lambda p: "Bearer " + ".".join(p)),
    st.tuples(_json_value, _json_value, _segment).map(lambda p: _compact(*p)),
    st.tuples(_jose_header, _near_claims, _segment).map(lambda p: _compact(*p)),
    # Correctly signed tokens with random claims exercise the claim checks.
    _near_claims.map(lambda c: "Bearer " + rs256(c)),
    _near_claims.map(lambda c: "Bearer " + jwt.encode(c, HS_SECRET, algorithm="HS256")),
)


@settings(max_examples=500, deadline=None)
@given(_header_strings)
def test_random_headers_only_raise_auth_error(header: str) -> None:
    """Whatever arrives, the verifier answers with an Identity or an AuthError, nothing else."""
    try:
        identity = _FUZZ.verifier.verify(header)
    except AuthError as error:
        assert error.status in (401, 403, 503)
        assert error.reason
    else:  # only the correctly signed tokens with acceptable random claims get here
        assert identity.role == "authenticated" and identity.user_id
