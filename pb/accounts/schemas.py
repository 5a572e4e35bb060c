"""Request and response bodies for accounts (explicit allow-lists)."""

from __future__ import annotations

from typing import Annotated

import msgspec

Email = Annotated[str, msgspec.Meta(min_length=3, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]
Password = Annotated[str, msgspec.Meta(min_length=1, max_length=1024)]
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=120)]


class SignUp(msgspec.Struct, forbid_unknown_fields=True):
    email: Email
    password: Password
    display_name: Name


class LogIn(msgspec.Struct, forbid_unknown_fields=True):
    email: Email
    password: Password


class RefreshRequest(msgspec.Struct, forbid_unknown_fields=True):
    refresh_token: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


class LogOut(msgspec.Struct, forbid_unknown_fields=True):
    refresh_token: str | None = None


class SetRoles(msgspec.Struct, forbid_unknown_fields=True):
    roles: list[str]


class TokenOut(msgspec.Struct):
    access_token: str
    refresh_token: str
    expires_in: int
    token_type: str = "Bearer"


class Created(msgspec.Struct):
    id: int


class MembershipOut(msgspec.Struct):
    organisation_id: int
    organisation_name: str
    roles: list[str]


class MeOut(msgspec.Struct):
    id: int
    email: str
    display_name: str
    memberships: list[MembershipOut]


class OrganisationOut(msgspec.Struct):
    id: int
    name: str
    slug: str
    currency: str


class MemberOut(msgspec.Struct):
    user_id: int
    display_name: str
    roles: list[str]
