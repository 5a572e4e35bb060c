"""JWT access tokens: EdDSA only, ``kid`` from the keyring, iss/aud/exp/iat/jti/sid required, ≤ 10 minutes.

``sid`` names the login (the refresh-token family) the token belongs to, so ending a login —
logout, or refresh-token reuse — can stop all of its access tokens with one indexed lookup of the
``sid`` on verification (see ``pb.accounts.service.is_login_revoked``).
"""

from __future__ import annotations

import base64
import json
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Callable

import jwt

from pb.core.clock import utcnow
from pb.core.errors import Unauthorized
from pb.core.keyring import Keyring

ALGORITHM = "EdDSA"
AUDIENCE = "pb-api"
MAX_LIFETIME = timedelta(minutes=10)
# Clock difference tolerated between the server that signed and the one that verifies.
CLOCK_SKEW = timedelta(seconds=30)
REQUIRED_CLAIMS = ["exp", "iat", "iss", "aud", "sub", "jti", "sid"]


@dataclass(frozen=True, slots=True)
class AccessClaims:
    user_id: int
    jti: str
    expires_at: datetime
    login_id: str  # the ``sid`` claim: the refresh-token family of the login


def issue_access_token(keyring: Keyring, *, user_id: int, login_id: str, issuer: str,
                       minutes: int) -> tuple[str, AccessClaims]:
    lifetime = min(timedelta(minutes=minutes), MAX_LIFETIME)
    now = utcnow()
    claims = AccessClaims(user_id=user_id, jti=secrets.token_urlsafe(16), expires_at=now + lifetime,
                          login_id=login_id)
    key = keyring.current
    token = jwt.encode(
        {
            "sub": str(user_id),
            "sid": login_id,
            "iss": issuer,
            "aud": AUDIENCE,
            "iat": int(now.timestamp()),
            "exp": int(claims.expires_at.timestamp()),
            "jti": claims.jti,
        },
        key.private_key,
        algorithm=ALGORITHM,
        headers={"kid": key.kid},
    )
    return token, claims


def _lifetime_problem(issued_at: int | float, expires_at: int | float) -> str | None:
    """Live at most MAX_LIFETIME, whatever signed the token (PyJWT already refused an iat in the future)."""
    if expires_at - issued_at > MAX_LIFETIME.total_seconds():
        return f"it lives longer than the {int(MAX_LIFETIME.total_seconds() // 60)} minutes this server allows"
    return None


def _expired() -> Unauthorized:
    return Unauthorized("The access token has expired; refresh it.")


class VerifiedTokens:
    """Access tokens this process has verified (or issued), by their exact text, until they expire.

    A voter's token serves every request of its ten minutes, and checking its Ed25519 signature is
    the largest part of authenticating one. Remembering the outcome is sound because verification is
    a function of the token's text, the keyring, the issuer and the clock: one cache belongs to one
    ``AuthConfig`` (keyring and issuer fixed; a rotated key needs a restart anyway), and the clock's
    part is checked again on every use: a remembered token past its expiry (with PyJWT's leeway) is
    refused exactly as PyJWT refuses it. Once valid, nothing else about a token can become invalid
    with time (``iat`` only moves into the past); an ended login is checked on every request apart
    from this (the revocation lookup). Only tokens that passed every check are kept, never a
    refusal. Bounded: the oldest entries are forgotten first.
    """

    __slots__ = ("_claims", "size", "clock")

    def __init__(self, size: int = 20_000, clock: Callable[[], float] = time.time):
        self.size = size
        self.clock = clock  # PyJWT's clock (seconds since the epoch); tests move it
        self._claims: dict[str, tuple[float, AccessClaims]] = {}

    def get(self, token: str) -> AccessClaims | None:
        """The remembered claims; raises ``Unauthorized`` if they have expired since."""
        found = self._claims.get(token)
        if found is None:
            return None
        expires_at, claims = found
        if expires_at <= self.clock() - CLOCK_SKEW.total_seconds():  # PyJWT's rule for ``exp``
            del self._claims[token]
            raise _expired()
        return claims

    def remember(self, token: str, claims: AccessClaims) -> None:
        if len(self._claims) >= self.size:
            del self._claims[next(iter(self._claims))]
        self._claims[token] = (claims.expires_at.timestamp(), claims)


def remember_issued(verified: VerifiedTokens, token: str, claims: AccessClaims) -> None:
    """A token this process just signed is valid by construction: remember what verifying it
    would give (its ``exp`` claim has whole seconds)."""
    exp = int(claims.expires_at.timestamp())
    verified.remember(token, AccessClaims(claims.user_id, claims.jti, datetime.fromtimestamp(exp, tz=timezone.utc),
                                          claims.login_id))


def decode_access_token(keyring: Keyring, token: str, *, issuer: str,
                        verified: VerifiedTokens | None = None) -> AccessClaims:
    """Verify signature, algorithm, kid, issuer, audience, expiry and lifetime, or raise ``Unauthorized``.

    ``verified``: the cache of tokens already verified with this keyring and issuer (see there)."""
    claims = verified.get(token) if verified is not None else None
    if claims is None:
        claims = _verify(keyring, token, issuer)
        if verified is not None:
            verified.remember(token, claims)
    return claims


def _malformed() -> Unauthorized:
    return Unauthorized("The access token is malformed.")


def _unverified_header(token: str) -> dict:
    """The token's header, read only to choose the key: ``jwt.get_unverified_header`` would parse and
    check the whole token once more before ``jwt.decode`` does it again (about a sixth of a
    verification). Nothing here is trusted: ``jwt.decode`` verifies the header strictly, the
    algorithm and the signature with the key chosen, and a fault it finds in the token's structure
    is refused as malformed too (see ``_verify``)."""
    if not token.isascii():  # a JWT is ASCII; this also keeps unencodable text away from PyJWT
        raise _malformed()
    segment = token.partition(".")[0]
    try:
        header = json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
    except (ValueError, RecursionError) as error:  # binascii, Unicode and JSON errors are ValueErrors
        raise _malformed() from error
    if not isinstance(header, dict) or not isinstance(header.get("kid", ""), str):
        raise _malformed()
    return header


def _verify(keyring: Keyring, token: str, issuer: str) -> AccessClaims:
    header = _unverified_header(token)
    if header.get("alg") != ALGORITHM:
        raise Unauthorized("The access token uses an algorithm this server does not accept.")
    public_key = keyring.public_key(header.get("kid", ""))
    if public_key is None:
        raise Unauthorized("The access token was signed with an unknown key.")
    try:
        payload = jwt.decode(
            token,
            public_key,
            algorithms=[ALGORITHM],
            audience=AUDIENCE,
            issuer=issuer,
            leeway=CLOCK_SKEW,
            options={"require": REQUIRED_CLAIMS},
        )
    except jwt.ExpiredSignatureError as error:
        raise _expired() from error
    except jwt.InvalidSignatureError as error:  # a DecodeError, but the token's structure was sound
        raise Unauthorized(f"The access token is invalid: {error}.") from error
    except jwt.DecodeError as error:  # segments missing or not base64url, header not a JSON object
        raise _malformed() from error
    except jwt.PyJWTError as error:
        raise Unauthorized(f"The access token is invalid: {error}.") from error
    problem = _lifetime_problem(payload["iat"], payload["exp"])
    if problem:
        raise Unauthorized(f"The access token is not accepted: {problem}.")
    subject, login_id = payload["sub"], payload["sid"]
    if not (isinstance(subject, str) and subject.isascii() and subject.isdigit() and len(subject) <= 18):
        raise Unauthorized("The access token is invalid: its subject is not a user id.")
    if not (isinstance(login_id, str) and 0 < len(login_id) <= 64):
        raise Unauthorized("The access token is invalid: its sid does not name a login.")
    return AccessClaims(
        user_id=int(subject),
        jti=str(payload["jti"]),
        expires_at=datetime.fromtimestamp(payload["exp"], tz=timezone.utc),
        login_id=login_id,
    )
