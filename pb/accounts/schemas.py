"""Request and response bodies for accounts (explicit allow-lists)."""

from __future__ import annotations

from typing import Annotated

import msgspec

from pb.core.inputs import Input, line
from pb.core.text import LINE
from pb.core.fields import Currency, choices, doc

Email = Annotated[str, msgspec.Meta(min_length=3, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$",
                                     extra={"text": LINE}),
                  doc("Email address: the login name.", "ada@example.org")]
Password = Annotated[str, msgspec.Meta(min_length=1, max_length=1024),
                     doc("Password (stored only as an argon2id hash).", "correct horse battery staple")]
Name = Annotated[line(120), doc("Name shown to others.", "Ada Lovelace")]
ROLE_MEANINGS = {
    "citizen": "proposes projects, votes, follows results (every member has it)",
    "reviewer": "judges proposals against the round's criteria",
    "official": "administers rounds, budgets, the census, tallies and grants",
    "auditor": "reads and verifies everything, changes nothing",
}
Roles = Annotated[list[str], doc(choices("Roles in this organisation.", ROLE_MEANINGS), ["citizen", "reviewer"])]


class SignUp(Input):
    email: Email
    password: Password
    display_name: Name


class LogIn(Input):
    email: Email
    password: Password


RefreshToken = Annotated[str, doc("The opaque refresh token from login or the last refresh; it works once.",
                                  "rt_2f6c0d3e9a8b4c7d")]


class RefreshRequest(Input):
    refresh_token: Annotated[RefreshToken, msgspec.Meta(min_length=1, max_length=200)]


class LogOut(Input):
    refresh_token: Annotated[RefreshToken, doc("Also revoke this refresh token's whole login (optional).")] | None = None


class SetRoles(Input):
    roles: Annotated[Roles, doc(choices("The member's complete new set of roles (citizen is always kept).",
                                        ROLE_MEANINGS))]


class TokenOut(msgspec.Struct):
    access_token: Annotated[str, doc("JWT for 'Authorization: Bearer <token>', valid for expires_in seconds.")]
    refresh_token: Annotated[str, doc("Opaque token for POST /api/auth/refresh; each use returns a new one.")]
    expires_in: Annotated[int, doc("Seconds until the access token expires (at most 600).", 600)]
    token_type: Annotated[str, doc("Always `Bearer`: send the access token as 'Authorization: Bearer <token>'.")] = (
        "Bearer")


class Created(msgspec.Struct):
    id: int


class MembershipOut(msgspec.Struct):
    organisation_id: int
    organisation_name: str
    roles: Roles


class MeOut(msgspec.Struct):
    id: int
    email: str
    display_name: str
    memberships: list[MembershipOut]


class OrganisationOut(msgspec.Struct):
    id: int
    name: str
    slug: Annotated[str, doc("Short unique name used in URLs and the command line.", "riverton")]
    currency: Currency


class MemberOut(msgspec.Struct):
    user_id: int
    display_name: str
    roles: Roles
