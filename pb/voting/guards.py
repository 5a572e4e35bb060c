"""The cast's guard: the role guard's checks and the voter's round in one statement.

A cast is the hottest request of a voting day (issue 11). ``requires_role`` would ask the database
whether the login has ended and which roles the caller has; the cast would then ask for the round's
phase, window and configuration hash and the caller's census entry. ``requires_voter`` asks both in
one statement (``repo.voter_check``), decides on the member check exactly as ``requires_role`` does
(``actor_of``), and leaves the read on the request (``voter_check_of``) for the cast to decide on.
"""

from __future__ import annotations

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

from pb.accounts.guards import actor_of, checks_login
from pb.core.tokens import AccessClaims
from pb.voting import repo

_STATE_KEY = "pb_voter_check"


def requires_voter(*roles: str):
    """Guard for routes under ``/api/orgs/{org_id}/rounds/{round_id}``: as ``requires_role(*roles)``,
    and the caller's round and census entry read in the same statement."""
    allowed = frozenset(roles)

    async def guard(connection: ASGIConnection, _: BaseRouteHandler) -> None:
        claims: AccessClaims = connection.user
        organisation_id = int(connection.path_params["org_id"])
        check = await repo.voter_check(claims.login_id, claims.user_id, organisation_id,
                                       int(connection.path_params["round_id"]))
        connection.state.actor = actor_of(claims, organisation_id, check.member, allowed)
        connection.state[_STATE_KEY] = check

    guard.__name__ = "requires_voter_" + "_or_".join(sorted(allowed))
    return checks_login(guard)


def voter_check_of(connection: ASGIConnection) -> repo.VoterCheck:
    """What ``requires_voter`` read for this request."""
    return connection.state[_STATE_KEY]
