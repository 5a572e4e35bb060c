"""The staff console: an organisation's rounds (drafts too) and the work each role can do now."""

from __future__ import annotations

from litestar import get
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Template

from pb.rounds import service as rounds_service
from pb.web.context import Viewer
from pb.web.staff.access import staff_member


@get("/orgs/{org_id:int}/staff")
async def console(viewer: NamedDependency[Viewer], org_id: FromPath[int]) -> Template:
    staff = await staff_member(viewer, org_id)
    rounds = await rounds_service.list_rounds(org_id, include_drafts=True)
    return Template("staff/console.html", context={"viewer": viewer, "staff": staff, "organisation": staff.organisation,
                                                   "rounds": list(reversed(rounds))})


ROUTES = [console]
