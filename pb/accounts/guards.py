"""Authentication middleware and role guards.

Every route needs a valid access token unless its handler says ``opt={"public": True}``. Routes
under ``/api/orgs/{org_id}`` additionally name the roles allowed (``requires_role``); the guard
loads the caller's membership for that organisation and leaves an ``Actor`` on the request.
"""

from __future__ import annotations

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware.authentication import AbstractAuthenticationMiddleware, AuthenticationResult
from litestar.types import ASGIApp

from pb.accounts import repo, service
from pb.accounts.domain import AUDITOR, CITIZEN, OFFICIAL, REVIEWER, Actor
from pb.core.errors import Forbidden, NotFound, Unauthorized
from pb.core.tokens import AccessClaims, decode_access_token

PUBLIC_OPT = "public"
ANY_MEMBER = (CITIZEN, REVIEWER, OFFICIAL, AUDITOR)


class AccessTokenMiddleware(AbstractAuthenticationMiddleware):
    def __init__(self, app: ASGIApp) -> None:
        super().__init__(app, exclude_from_auth_key=PUBLIC_OPT, exclude=["^/schema"])

    async def authenticate_request(self, connection: ASGIConnection) -> AuthenticationResult:
        header = connection.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise Unauthorized("Sign in first: send 'Authorization: Bearer <access token>'.")
        auth = connection.app.state.auth
        claims = decode_access_token(auth.keyring, token.strip(), issuer=auth.issuer)
        if await service.is_login_revoked(claims.login_id):
            raise Unauthorized("This login has ended (logged out, or its refresh token was reused); sign in again.",
                               code="login_ended")
        return AuthenticationResult(user=claims, auth=token)


def requires_role(*roles: str):
    """Guard: the caller is a member of the path's organisation with one of ``roles``."""
    allowed = frozenset(roles)

    async def guard(connection: ASGIConnection, _: BaseRouteHandler) -> None:
        claims: AccessClaims = connection.user
        organisation_id = int(connection.path_params["org_id"])
        actor = await repo.actor(claims.user_id, organisation_id)
        if actor is None:
            if await repo.organisation(organisation_id) is None:
                raise NotFound("No such organisation.")
            raise Forbidden("You are not a member of this organisation.")
        if not actor.roles & allowed:
            raise Forbidden(f"This needs one of the roles: {', '.join(sorted(allowed))}.")
        connection.state.actor = actor

    guard.__name__ = "requires_" + "_or_".join(sorted(allowed))
    return guard


def provide_actor(request: ASGIConnection) -> Actor:
    """Dependency: the Actor the role guard established for this request."""
    return request.state.actor


def provide_claims(request: ASGIConnection) -> AccessClaims:
    return request.user
