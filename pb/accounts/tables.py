"""Users, organisations (tenants), memberships with roles, refresh tokens, revoked logins."""

from piccolo.columns import Boolean, ForeignKey, Integer, Timestamptz, Varchar
from piccolo.table import Table


class Organisation(Table):
    name = Varchar(length=200)
    slug = Varchar(length=80, unique=True)
    currency = Varchar(length=3, default="EUR")
    created_at = Timestamptz()


class User(Table, tablename="pb_user"):
    email = Varchar(length=254, unique=True)  # stored lower-case
    display_name = Varchar(length=120)
    password_hash = Varchar(length=255)
    is_active = Boolean(default=True)
    created_at = Timestamptz()


class Membership(Table):
    organisation = ForeignKey(Organisation, index=True)
    user = ForeignKey(User, index=True)
    # Comma-separated, sorted subset of pb.accounts.domain.ROLES.
    roles = Varchar(length=120, default="citizen")
    created_at = Timestamptz()

    # UNIQUE(organisation, user): see pb/migrations/pb_0003_unique_indexes.py


class RefreshToken(Table):
    user = ForeignKey(User, index=True)
    token_hash = Varchar(length=64, unique=True)  # SHA-256 of the opaque token; the token itself is never stored
    family = Varchar(length=64, index=True)  # all rotations of one login share a family
    expires_at = Timestamptz()
    used_at = Timestamptz(null=True, default=None)
    revoked_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz()


class RevokedLogin(Table):
    """Logins ended early (logout, refresh-token reuse): their access tokens stop working at once.

    Access tokens carry the login's refresh family as ``sid``; verification looks it up here by
    its unique index. A row is needed only while an access token of that login can still be
    unexpired, so it is deleted after ``expires_at`` and the table stays small.
    """

    family = Varchar(length=64, unique=True)
    expires_at = Timestamptz()
