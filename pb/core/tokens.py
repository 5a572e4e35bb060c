"""JWT access tokens: EdDSA only, ``kid`` from the keyring, iss/aud/exp/jti required, ≤ 10 minutes."""

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


@dataclass(frozen=True, slots=True)
class AccessClaims:
    user_id: int
    jti: str
    expires_at: datetime


def issue_access_token(keyring: Keyring, *, user_id: int, issuer: str, minutes: int) -> tuple[str, AccessClaims]:
    lifetime = min(timedelta(minutes=minutes), MAX_LIFETIME)
    now = utcnow()
    claims = AccessClaims(user_id=user_id, jti=secrets.token_urlsafe(16), expires_at=now + lifetime)
    key = keyring.current
    token = jwt.encode(
        {
            "sub": str(user_id),
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


def decode_access_token(keyring: Keyring, token: str, *, issuer: str) -> AccessClaims:
    """Verify signature, algorithm, kid, issuer, audience and expiry, or raise ``Unauthorized``."""
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
            options={"require": ["exp", "iat", "iss", "aud", "sub", "jti"]},
        )
    except jwt.ExpiredSignatureError as error:
        raise Unauthorized("The access token has expired; refresh it.") from error
    except jwt.PyJWTError as error:
        raise Unauthorized(f"The access token is invalid: {error}.") from error
    return AccessClaims(
        user_id=int(payload["sub"]),
        jti=str(payload["jti"]),
        expires_at=datetime.fromtimestamp(payload["exp"], tz=timezone.utc),
    )
