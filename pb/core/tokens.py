"""JWT access tokens: EdDSA only, ``kid`` from the keyring, iss/aud/exp/iat/jti/sid required, ≤ 10 minutes.

``sid`` names the login (the refresh-token family) the token belongs to, so ending a login —
logout, or refresh-token reuse — can stop all of its access tokens with one indexed lookup of the
``sid`` on verification (see ``pb.accounts.service.is_login_revoked``).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

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


def decode_access_token(keyring: Keyring, token: str, *, issuer: str) -> AccessClaims:
    """Verify signature, algorithm, kid, issuer, audience, expiry and lifetime, or raise ``Unauthorized``."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as error:
        raise Unauthorized("The access token is malformed.") from error
    if header.get("alg") != ALGORITHM:
        raise Unauthorized("The access token uses an algorithm this server does not accept.")
    public_key = keyring.public_key(str(header.get("kid", "")))
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
        raise Unauthorized("The access token has expired; refresh it.") from error
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
