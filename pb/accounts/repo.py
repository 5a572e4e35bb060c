"""Queries for users, organisations, memberships and tokens."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Mapping

import msgspec

from pb.accounts.domain import Actor, parse_roles
from pb.accounts.tables import Membership, Organisation, RefreshToken, RevokedLogin, User
from pb.core.clock import utcnow
from pb.db import fetch


class UserRow(msgspec.Struct):
    id: int
    email: str
    display_name: str
    password_hash: str
    is_active: bool


class OrganisationRow(msgspec.Struct):
    id: int
    name: str
    slug: str
    currency: str


class MemberRow(msgspec.Struct):
    user_id: int
    display_name: str
    roles: str


async def user_by_email(email: str) -> UserRow | None:
    row = await User.select(
        User.id, User.email, User.display_name, User.password_hash, User.is_active
    ).where(User.email == email.lower()).first()
    return msgspec.convert(row, UserRow) if row else None


async def user_by_id(user_id: int) -> UserRow | None:
    row = await User.select(
        User.id, User.email, User.display_name, User.password_hash, User.is_active
    ).where(User.id == user_id).first()
    return msgspec.convert(row, UserRow) if row else None


async def insert_user(email: str, display_name: str, password_hash: str) -> int:
    rows = await User.insert(
        User(email=email.lower(), display_name=display_name, password_hash=password_hash, created_at=utcnow())
    ).returning(User.id)
    return rows[0]["id"]


async def insert_organisation(name: str, slug: str, currency: str) -> int:
    rows = await Organisation.insert(
        Organisation(name=name, slug=slug, currency=currency, created_at=utcnow())
    ).returning(Organisation.id)
    return rows[0]["id"]


async def organisation(organisation_id: int) -> OrganisationRow | None:
    row = await Organisation.select(
        Organisation.id, Organisation.name, Organisation.slug, Organisation.currency
    ).where(Organisation.id == organisation_id).first()
    return msgspec.convert(row, OrganisationRow) if row else None


async def organisation_by_slug(slug: str) -> OrganisationRow | None:
    row = await Organisation.select(
        Organisation.id, Organisation.name, Organisation.slug, Organisation.currency
    ).where(Organisation.slug == slug).first()
    return msgspec.convert(row, OrganisationRow) if row else None


async def list_organisations() -> list[OrganisationRow]:
    rows = await Organisation.select(
        Organisation.id, Organisation.name, Organisation.slug, Organisation.currency
    ).order_by(Organisation.id)
    return [msgspec.convert(row, OrganisationRow) for row in rows]


async def actor(user_id: int, organisation_id: int) -> Actor | None:
    row = await Membership.select(Membership.roles).where(
        (Membership.user == user_id) & (Membership.organisation == organisation_id)
    ).first()
    return Actor(user_id, organisation_id, parse_roles(row["roles"])) if row else None


class MemberCheck(msgspec.Struct):
    """What the role guard needs to know about a request, read in one statement."""

    login_revoked: bool
    roles: str | None  # None: not a member
    organisation_exists: bool


# The member check as select-list columns, for ``member_check`` and for a statement of another
# context that asks more in the same round trip (the cast's guard: ``voting.repo.voter_check``):
# three answers, each from a unique index. Its parameters: ``member_check_parameters``; its answer:
# ``member_check_of``.
MEMBER_CHECK_COLUMNS = (
    "EXISTS (SELECT 1 FROM revoked_login WHERE family = {}) AS login_revoked, "
    "(SELECT roles FROM membership WHERE \"user\" = {} AND organisation = {}) AS roles, "
    "EXISTS (SELECT 1 FROM organisation WHERE id = {}) AS organisation_exists"
)
_MEMBER_CHECK = "SELECT " + MEMBER_CHECK_COLUMNS


def member_check_parameters(login_id: str, user_id: int, organisation_id: int) -> tuple:
    """The parameters of ``MEMBER_CHECK_COLUMNS``, in order."""
    return login_id, user_id, organisation_id, organisation_id


def member_check_of(row: Mapping[str, Any]) -> MemberCheck:
    return MemberCheck(bool(row["login_revoked"]), row["roles"], bool(row["organisation_exists"]))


async def member_check(login_id: str, user_id: int, organisation_id: int) -> MemberCheck:
    """Is the login revoked, which roles has the user here, does the organisation exist.

    The role guard's three questions in one statement (one round trip per guarded request): each
    is answered by a unique index, so this costs what the revoked-login lookup alone did.
    """
    rows = await fetch(_MEMBER_CHECK, *member_check_parameters(login_id, user_id, organisation_id))
    return member_check_of(rows[0])


async def insert_membership(organisation_id: int, user_id: int, roles: str) -> None:
    await Membership.insert(
        Membership(organisation=organisation_id, user=user_id, roles=roles, created_at=utcnow())
    )


async def update_roles(organisation_id: int, user_id: int, roles: str) -> bool:
    rows = await Membership.update({Membership.roles: roles}).where(
        (Membership.user == user_id) & (Membership.organisation == organisation_id)
    ).returning(Membership.id)
    return bool(rows)


async def list_members(organisation_id: int) -> list[MemberRow]:
    rows = await Membership.select(
        Membership.user.as_alias("user_id"), Membership.user.display_name.as_alias("display_name"), Membership.roles
    ).where(Membership.organisation == organisation_id).order_by(Membership.id)
    return [msgspec.convert(row, MemberRow) for row in rows]


async def insert_refresh_token(user_id: int, token_hash: str, family: str, expires_at: datetime) -> None:
    await RefreshToken.insert(
        RefreshToken(user=user_id, token_hash=token_hash, family=family, expires_at=expires_at, created_at=utcnow())
    )


async def consume_refresh_token(token_hash: str) -> dict | None:
    """Mark an unused, unrevoked, unexpired token used, atomically; None if it was not usable."""
    now = utcnow()
    rows = await RefreshToken.update({RefreshToken.used_at: now}).where(
        (RefreshToken.token_hash == token_hash)
        & RefreshToken.used_at.is_null()
        & RefreshToken.revoked_at.is_null()
        & (RefreshToken.expires_at > now)
    ).returning(RefreshToken.user, RefreshToken.family)
    return rows[0] if rows else None


async def refresh_token_family(token_hash: str) -> str | None:
    row = await RefreshToken.select(RefreshToken.family).where(RefreshToken.token_hash == token_hash).first()
    return row["family"] if row else None


async def refresh_token_owner_and_family(token_hash: str) -> dict | None:
    return await RefreshToken.select(RefreshToken.user, RefreshToken.family).where(
        RefreshToken.token_hash == token_hash
    ).first()


async def revoke_family(family: str, access_tokens_expire_by: datetime) -> None:
    """End a login: its refresh tokens are revoked and its access tokens refused from now on.

    The revoked_login row is kept until every access token of the login has expired anyway;
    expired rows are deleted here, so the table holds only the last few minutes of revocations.
    """
    now = utcnow()
    await RefreshToken.update({RefreshToken.revoked_at: now}).where(
        (RefreshToken.family == family) & RefreshToken.revoked_at.is_null()
    )
    await RevokedLogin.delete().where(RevokedLogin.expires_at < now)
    await RevokedLogin.insert(RevokedLogin(family=family, expires_at=access_tokens_expire_by)).on_conflict(
        target=RevokedLogin.family, action="DO UPDATE", values=[RevokedLogin.expires_at]
    )


async def login_revoked(family: str) -> bool:
    """One lookup on the unique index of revoked_login.family."""
    return await RevokedLogin.exists().where(RevokedLogin.family == family)


async def display_names(user_ids: list[int]) -> dict[int, str]:
    """Public display names of some users (e.g. a proposal's authors); nothing else leaves."""
    if not user_ids:
        return {}
    rows = await User.select(User.id, User.display_name).where(User.id.is_in(sorted(set(user_ids))))
    return {row["id"]: row["display_name"] for row in rows}


async def memberships_of(user_id: int) -> list[OrganisationRow]:
    """The organisations a user is a member of."""
    rows = await Membership.select(Membership.organisation).where(Membership.user == user_id)
    ids = {row["organisation"] for row in rows}
    return [o for o in await list_organisations() if o.id in ids]
