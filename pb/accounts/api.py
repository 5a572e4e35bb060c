"""JSON API for accounts: sign-up, login, token refresh, logout, me, organisations, roles."""

from __future__ import annotations

from litestar import Request, get, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from pb.accounts import repo, service
from pb.accounts.domain import OFFICIAL, AUDITOR, Actor, parse_roles
from pb.accounts.guards import requires_role
from pb.accounts.schemas import (
    Created, LogIn, LogOut, MembershipOut, MemberOut, MeOut, OrganisationOut, RefreshRequest, SetRoles, SignUp,
    TokenOut,
)
from pb.core.errors import NotFound
from pb.core.ratelimit import RateLimiter, rate_limited
from pb.core.tokens import AccessClaims


def _tokens(pair: service.TokenPair) -> TokenOut:
    return TokenOut(pair.access_token, pair.refresh_token, pair.expires_in)


@post("/api/auth/signup", opt={"public": True}, guards=[rate_limited("sign-up")], tags=["accounts"],
      summary="Create an account", status_code=201)
async def sign_up(data: JSONBody[SignUp]) -> Created:
    return Created(await service.sign_up(data.email, data.password, data.display_name))


@post("/api/auth/login", opt={"public": True, "rate_limited": True}, tags=["accounts"],
      summary="Log in: returns an access token (≤ 10 min) and a rotating refresh token", status_code=200,
      description="Rate limited per address and per account (failed attempts); 429 carries Retry-After.")
async def log_in(request: Request, data: JSONBody[LogIn]) -> TokenOut:
    limiter: RateLimiter = request.app.state.rate_limiter
    attempt = await limiter.begin_login(limiter.address_of(request), data.email) if limiter.enabled else None
    pair = await service.log_in(request.app.state.auth, data.email, data.password)
    await limiter.login_succeeded(attempt)
    return _tokens(pair)


@post("/api/auth/refresh", opt={"public": True}, guards=[rate_limited("refresh")], tags=["accounts"],
      summary="Exchange a refresh token for a new pair (the old one is used up)", status_code=200)
async def refresh(request: Request, data: JSONBody[RefreshRequest]) -> TokenOut:
    return _tokens(await service.refresh(request.app.state.auth, data.refresh_token))


@post("/api/auth/logout", tags=["accounts"], status_code=204,
      summary="End this login: all its access and refresh tokens stop working (no body needed)")
async def log_out(request: Request[AccessClaims, str, object], data: JSONBody[LogOut | None] = None) -> None:
    await service.log_out(request.user, data.refresh_token if data else None)


@get("/api/me", tags=["accounts"], summary="The signed-in user and their memberships")
async def me(request: Request[AccessClaims, str, object]) -> MeOut:
    user = await repo.user_by_id(request.user.user_id)
    if user is None:
        raise NotFound("This account no longer exists.")
    memberships = []
    for organisation in await repo.list_organisations():
        actor = await repo.actor(user.id, organisation.id)
        if actor:
            memberships.append(MembershipOut(organisation.id, organisation.name, sorted(actor.roles)))
    return MeOut(user.id, user.email, user.display_name, memberships)


@get("/api/orgs", opt={"public": True}, tags=["accounts"], summary="Organisations hosted here")
async def list_organisations() -> list[OrganisationOut]:
    return [OrganisationOut(o.id, o.name, o.slug, o.currency) for o in await repo.list_organisations()]


@post("/api/orgs/{org_id:int}/join", tags=["accounts"], summary="Join an organisation as a citizen",
      status_code=204)
async def join(request: Request[AccessClaims, str, object], org_id: FromPath[int]) -> None:
    await service.join_organisation(request.user.user_id, org_id)


@get("/api/orgs/{org_id:int}/members", guards=[requires_role(OFFICIAL, AUDITOR)],
     tags=["accounts"], summary="Members and their roles")
async def list_members(actor: NamedDependency[Actor]) -> list[MemberOut]:
    return [MemberOut(m.user_id, m.display_name, sorted(parse_roles(m.roles)))
            for m in await repo.list_members(actor.organisation_id)]


@put("/api/orgs/{org_id:int}/members/{user_id:int}/roles", guards=[requires_role(OFFICIAL)],
     tags=["accounts"], summary="Set a member's roles (citizen is always kept)", status_code=204)
async def set_roles(actor: NamedDependency[Actor], user_id: FromPath[int], data: JSONBody[SetRoles]) -> None:
    await service.set_roles(actor, user_id, set(data.roles))


ROUTES = [sign_up, log_in, refresh, log_out, me, list_organisations, join, list_members, set_roles]
