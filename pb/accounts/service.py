"""Account use cases: sign up, log in, refresh (rotating), log out, organisations and roles."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import timedelta

import anyio.to_thread
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from pb.accounts import repo
from pb.accounts.domain import AUDITOR, CITIZEN, OFFICIAL, ROLES, Actor, format_roles
from pb.accounts.passwords import password_problem
from pb.audit import service as audit
from pb.core.clock import utcnow
from pb.core.errors import Conflict, Forbidden, Invalid, NotFound, Unauthorized
from pb.core.keyring import Keyring
from pb.core.tokens import (
    CLOCK_SKEW, MAX_LIFETIME, AccessClaims, VerifiedTokens, issue_access_token, remember_issued,
)
from pb.db import write_transaction

_hasher = PasswordHasher()  # argon2id; cost set from settings by configure_password_hashing
_DUMMY_HASH = _hasher.hash("timing-equaliser")


def configure_password_hashing(time_cost: int, memory_kib: int) -> None:
    """Set the argon2id cost for new hashes (process-wide; existing hashes keep verifying)."""
    global _hasher, _DUMMY_HASH
    if (_hasher.time_cost, _hasher.memory_cost) != (time_cost, memory_kib):
        _hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_kib)
        _DUMMY_HASH = _hasher.hash("timing-equaliser")


@dataclass(frozen=True, slots=True)
class AuthConfig:
    keyring: Keyring
    issuer: str
    access_minutes: int
    refresh_days: int
    # Tokens verified with this keyring and issuer; never passed in (a copy with another keyring
    # made by dataclasses.replace starts with an empty one).
    verified_tokens: VerifiedTokens = field(default_factory=VerifiedTokens, init=False, repr=False, compare=False)


@dataclass(frozen=True, slots=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int


def _hash_refresh(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def _hash_password(password: str) -> str:
    return await anyio.to_thread.run_sync(_hasher.hash, password)


async def _password_matches(password_hash: str, password: str) -> bool:
    def check() -> bool:
        try:
            return _hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    return await anyio.to_thread.run_sync(check)


async def sign_up(email: str, password: str, display_name: str) -> int:
    problem = password_problem(password, email, display_name)
    if problem:
        raise Invalid(problem, code="weak_password", extra={"errors": [{"pointer": "/password", "detail": problem}]})
    password_hash = await _hash_password(password)
    if await repo.user_by_email(email):
        raise Conflict("An account with this email address already exists.", code="email_taken")
    async with write_transaction():
        return await repo.insert_user(email, display_name, password_hash)


async def _issue_pair(config: AuthConfig, user_id: int, family: str) -> TokenPair:
    access, claims = issue_access_token(
        config.keyring, user_id=user_id, login_id=family, issuer=config.issuer, minutes=config.access_minutes
    )
    remember_issued(config.verified_tokens, access, claims)
    refresh = secrets.token_urlsafe(32)
    await repo.insert_refresh_token(
        user_id, _hash_refresh(refresh), family, utcnow() + timedelta(days=config.refresh_days)
    )
    return TokenPair(access, refresh, config.access_minutes * 60)


async def authenticate(email: str, password: str) -> int:
    """The id of the active user with these credentials (API log-in and browser sign-in share it)."""
    user = await repo.user_by_email(email)
    # Verify against a dummy hash for unknown users so response time does not reveal accounts.
    matches = await _password_matches(user.password_hash if user else _DUMMY_HASH, password)
    if not user or not matches or not user.is_active:
        raise Unauthorized("The email address or password is not correct.", code="bad_credentials")
    return user.id


async def log_in(config: AuthConfig, email: str, password: str) -> TokenPair:
    user_id = await authenticate(email, password)
    async with write_transaction():
        return await _issue_pair(config, user_id, secrets.token_hex(16))


async def refresh(config: AuthConfig, refresh_token: str) -> TokenPair:
    """Rotate: the presented token is used up and a new one issued in the same family.

    Presenting a token that was already used means it leaked (or was replayed): the whole family
    is revoked, so the thief's and the owner's sessions both end.
    """
    token_hash = _hash_refresh(refresh_token)
    async with write_transaction():
        consumed = await repo.consume_refresh_token(token_hash)
        if consumed:
            return await _issue_pair(config, consumed["user"], consumed["family"])
        family = await repo.refresh_token_family(token_hash)
        if family:
            await _end_login(family)
    if family:
        raise Unauthorized("This refresh token was already used or revoked; all sessions of this login are ended.",
                           code="refresh_token_reused")
    raise Unauthorized("The refresh token is not valid.", code="bad_refresh_token")


async def _end_login(family: str) -> None:
    """Revoke the login's refresh tokens and, until they would have expired, its access tokens."""
    await repo.revoke_family(family, utcnow() + MAX_LIFETIME + CLOCK_SKEW)


async def log_out(access: AccessClaims, refresh_token: str | None) -> None:
    """End the whole login the access token belongs to (and the one of ``refresh_token`` if it is
    another login of the same user), with or without a body."""
    async with write_transaction():
        await _end_login(access.login_id)
        if refresh_token:
            found = await repo.refresh_token_owner_and_family(_hash_refresh(refresh_token))
            if found and found["user"] == access.user_id and found["family"] != access.login_id:
                await _end_login(found["family"])


async def is_login_revoked(login_id: str) -> bool:
    """Checked on every authenticated request: one indexed lookup.

    Cacheable: a revoked login never comes back, so a "revoked" answer may be cached until the
    token expires; a "not revoked" answer cached for N seconds delays revocation by at most N.
    """
    return await repo.login_revoked(login_id)


async def create_organisation(name: str, slug: str, first_official_user_id: int, currency: str = "EUR") -> int:
    """Platform operation (CLI): a new tenant with its first official."""
    if await repo.organisation_by_slug(slug):
        raise Conflict(f"An organisation with the slug {slug!r} already exists.")
    async with write_transaction():
        organisation_id = await repo.insert_organisation(name, slug, currency)
        await repo.insert_membership(organisation_id, first_official_user_id, format_roles({CITIZEN, OFFICIAL}))
        await audit.record(organisation_id, "system", "organisation.created",
                           f"organisation:{organisation_id}", {"slug": slug, "first_official": first_official_user_id})
    return organisation_id


async def join_organisation(user_id: int, organisation_id: int) -> None:
    """A citizen joins a city's organisation to take part."""
    if not await repo.organisation(organisation_id):
        raise NotFound("No such organisation.")
    if await repo.actor(user_id, organisation_id):
        raise Conflict("You are already a member of this organisation.")
    async with write_transaction():
        await repo.insert_membership(organisation_id, user_id, CITIZEN)


async def set_roles(actor: Actor, user_id: int, roles: set[str]) -> None:
    if not actor.has(OFFICIAL):
        raise Forbidden("Only officials can change roles.")
    unknown = set(roles) - ROLES
    if unknown:
        raise Invalid(f"Unknown role(s): {', '.join(sorted(unknown))}. Known roles: {', '.join(sorted(ROLES))}.")
    if user_id == actor.user_id and OFFICIAL not in roles:
        raise Conflict("Officials cannot remove their own official role; ask another official.")
    granted = membership_roles(set(roles))
    async with write_transaction():
        if not await repo.update_roles(actor.organisation_id, user_id, format_roles(granted)):
            raise NotFound("This user is not a member of the organisation.")
        await audit.record(actor.organisation_id, actor.pseudonym, "membership.roles_changed",
                           f"user:{user_id}", {"roles": sorted(granted)})


def membership_roles(requested: set[str]) -> set[str]:
    """The roles a membership ends up with.

    Auditors verify and change nothing, so the auditor role stands alone (no proposing, voting or
    reviewing in the organisation they audit). Every other member keeps the citizen role.
    """
    if AUDITOR in requested:
        if requested - {AUDITOR}:
            raise Invalid("The auditor role cannot be combined with other roles: auditors change nothing.",
                          code="auditor_role_exclusive")
        return {AUDITOR}
    return requested | {CITIZEN}
