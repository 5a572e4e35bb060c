"""Request and response bodies for accounts (explicit allow-lists)."""

from __future__ import annotations

from typing import Annotated

import msgspec

from pb.core.inputs import Input, line
from pb.core.text import LINE

Email = Annotated[str, msgspec.Meta(min_length=3, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$",
                                     extra={"text": LINE})]
Password = Annotated[str, msgspec.Meta(min_length=1, max_length=1024)]
Name = line(120)


class SignUp(Input):
    email: Email
    password: Password
    display_name: Name


class LogIn(Input):
    email: Email
    password: Password


class RefreshRequest(Input):
    refresh_token: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


class LogOut(Input):
    refresh_token: str | None = None


class SetRoles(Input):
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
