"""The public page of funded projects: for each grant of a published round, the money paid in
tranches and the grantee's progress reports."""

from __future__ import annotations

from litestar import get
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Template

from pb.grants import service
from pb.rounds import service as rounds_service
from pb.rounds.views import organisation_or_404
from pb.web.context import Viewer


@get("/orgs/{org_id:int}/rounds/{round_id:int}/funded")
async def funded_page(viewer: NamedDependency[Viewer], org_id: FromPath[int], round_id: FromPath[int]) -> Template:
    organisation = await organisation_or_404(org_id)
    view = await rounds_service.round_view(org_id, round_id, include_draft=False)
    projects = await service.funded_projects(org_id, round_id)
    return Template("grants/funded.html", context={
        "viewer": viewer, "organisation": organisation, "round": view.round, "projects": projects,
        "base": f"/orgs/{org_id}/rounds/{round_id}"})


ROUTES = [funded_page]
