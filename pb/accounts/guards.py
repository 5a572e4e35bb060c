"""Authentication middleware and role guards.

Every route needs a valid access token unless its handler says ``opt={"public": True}``. Routes
under ``/api/orgs/{org_id}`` additionally name the roles allowed (``requires_role``); the guard
loads the caller's membership for that organisation and leaves an ``Actor`` on the request.

Every signed-in request is refused once its login has ended (logout, refresh token reuse). The
middleware checks that, except on routes with a role guard: there the guard asks it in the same
statement as the membership, so a guarded request (a cast, say) costs one round trip, not two.
"""

from __future__ import annotations

from weakref import WeakKeyDictionary

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware.authentication import AbstractAuthenticationMiddleware, AuthenticationResult
from litestar.types import ASGIApp

from pb.accounts import repo, service
from pb.accounts.domain import AUDITOR, CITIZEN, OFFICIAL, REVIEWER, Actor, parse_roles
from pb.accounts.repo import MemberCheck
from pb.core.errors import Forbidden, NotFound, Unauthorized
from pb.core.guard_chain import guards_of
from pb.core.tokens import AccessClaims, decode_access_token

PUBLIC_OPT = "public"
ANY_MEMBER = (CITIZEN, REVIEWER, OFFICIAL, AUDITOR)
CHECKS_LOGIN = "checks_login"  # marks a guard that refuses ended logins itself


def _login_ended() -> Unauthorized:
    return Unauthorized("This login has ended (logged out, or its refresh token was reused); sign in again.",
                        code="login_ended")


_checks_login_by_handler: WeakKeyDictionary[BaseRouteHandler, bool] = WeakKeyDictionary()


def _guard_checks_login(connection: ASGIConnection) -> bool:
    """True when one of the route's guards refuses ended logins itself (see the module docstring).
    Remembered per route handler: its guards are fixed once the app is built."""
    handler = connection.scope.get("route_handler")
    if handler is None:
        return False
    checks = _checks_login_by_handler.get(handler)
    if checks is None:
        checks = any(getattr(member, CHECKS_LOGIN, False)
                     for guard in handler.resolve_guards() for member in guards_of(guard))
        _checks_login_by_handler[handler] = checks
    return checks


class AccessTokenMiddleware(AbstractAuthenticationMiddleware):
    def __init__(self, app: ASGIApp) -> None:
        super().__init__(app, exclude_from_auth_key=PUBLIC_OPT, exclude=["^/schema"])

    async def authenticate_request(self, connection: ASGIConnection) -> AuthenticationResult:
        header = connection.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise Unauthorized("Sign in first: send 'Authorization: Bearer <access token>'.")
        auth = connection.app.state.auth
        claims = decode_access_token(auth.keyring, token.strip(), issuer=auth.issuer, verified=auth.verified_tokens)
        if not _guard_checks_login(connection) and await service.is_login_revoked(claims.login_id):
            raise _login_ended()
        return AuthenticationResult(user=claims, auth=token)


def actor_of(claims: AccessClaims, organisation_id: int, check: MemberCheck, allowed: frozenset[str]) -> Actor:
    """The role guard's decision on a member check: the caller as an ``Actor``, or the refusal
    (401 login ended, 404 no such organisation, 403 not a member or none of ``allowed``)."""
    if check.login_revoked:
        raise _login_ended()
    if check.roles is None:
        if not check.organisation_exists:
            raise NotFound("No such organisation.")
        raise Forbidden("You are not a member of this organisation.")
    actor = Actor(claims.user_id, organisation_id, parse_roles(check.roles))
    if not actor.roles & allowed:
        raise Forbidden(f"This needs one of the roles: {', '.join(sorted(allowed))}.")
    return actor


def checks_login(guard):
    """Mark ``guard`` as one that refuses ended logins itself (the middleware then skips its own
    lookup; see the module docstring). The guard must decide through ``actor_of``."""
    setattr(guard, CHECKS_LOGIN, True)
    return guard


def requires_role(*roles: str):
    """Guard: the caller's login has not ended and they are a member of the path's organisation with
    one of ``roles``. One statement answers all of it (``repo.member_check``)."""
    allowed = frozenset(roles)

    async def guard(connection: ASGIConnection, _: BaseRouteHandler) -> None:
        claims: AccessClaims = connection.user
        organisation_id = int(connection.path_params["org_id"])
        check = await repo.member_check(claims.login_id, claims.user_id, organisation_id)
        connection.state.actor = actor_of(claims, organisation_id, check, allowed)

    guard.__name__ = "requires_" + "_or_".join(sorted(allowed))
    return checks_login(guard)


def provide_actor(request: ASGIConnection) -> Actor:
    """Dependency: the Actor the role guard established for this request."""
    return request.state.actor


def provide_claims(request: ASGIConnection) -> AccessClaims:
    return request.user
