"""Pages of the site as a whole: the home page (organisations and their rounds) and the language switch."""

from __future__ import annotations

from litestar import Request, get
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from pb.accounts import repo as accounts_repo
from pb.rounds import service as rounds_service
from pb.web import i18n, session
from pb.web.context import Viewer


def safe_next(target: str | None, default: str = "/") -> str:
    """Only same-site paths are followed after a redirect (no open redirect to another site)."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return default


@get("/", name="home")
async def home(viewer: NamedDependency[Viewer]) -> Template:
    organisations = await accounts_repo.list_organisations()
    rounds = {o.id: await rounds_service.list_rounds(o.id, include_drafts=False) for o in organisations}
    return Template("home.html", context={"viewer": viewer, "organisations": organisations, "rounds": rounds})


@get("/language/{code:str}")
async def choose_language(request: Request, code: FromPath[str], next: FromQuery[str | None] = None) -> Redirect:
    """Remember the chosen language in a cookie (a preference, not a secret) and go back."""
    response = Redirect(safe_next(next), status_code=303)
    if code in i18n.LANGUAGES:
        response.set_cookie(i18n.LANGUAGE_COOKIE, code, max_age=365 * 86400, path="/", samesite="lax",
                            httponly=True, secure=request.app.state.settings.public_url.startswith("https://"))
    return response




@get("/me")
async def my_pb(request: Request, viewer: NamedDependency[Viewer]) -> Template:
    """My pb: my proposals, the budgets I may still vote in, and the receipts this browser keeps."""
    from pb.accounts import repo as accounts_repo_
    from pb.core.errors import DomainError
    from pb.proposals import service as proposals_service
    from pb.voting import service as voting_service

    user_id = viewer.require()
    memberships = []
    for organisation in await accounts_repo_.memberships_of(user_id):
        actor = await viewer.actor(organisation.id)
        try:
            district = (await voting_service.my_census_entry(actor)).district
        except DomainError:
            district = None
        voting = []
        for found in await rounds_service.list_rounds(organisation.id, include_drafts=False):
            if found.phase == "voting" and district is not None:
                choices = await voting_service.my_budgets(actor, request.app.state.census_key, found.id)
                voting.append((found, choices))
        memberships.append({"organisation": organisation, "district": district, "voting": voting,
                            "proposals": await proposals_service.my_proposals(actor),
                            "staff": actor.has("official", "reviewer", "auditor")})
    organisations = await accounts_repo_.list_organisations()
    joined = {m["organisation"].id for m in memberships}
    return Template("me.html", context={
        "viewer": viewer, "memberships": memberships, "receipts": session.receipts_of(request),
        "others": [o for o in organisations if o.id not in joined]})


ROUTES = [home, choose_language, my_pb]
