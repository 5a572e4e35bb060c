"""Members and roles: list and search members; officials grant and withdraw roles (the rules are
the service's: the auditor role stands alone, an official cannot drop their own official role)."""

from __future__ import annotations

from litestar import get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from pb.accounts import repo as accounts_repo
from pb.accounts import service as accounts_service
from pb.accounts.domain import AUDITOR, OFFICIAL, REVIEWER, parse_roles
from pb.core.errors import Conflict, Invalid, NotFound
from pb.web.context import Viewer
from pb.web.forms import Form
from pb.web.i18n import _
from pb.web.staff.access import OVERSEERS, english_detail, refusal, staff_member

GRANTABLE = (REVIEWER, OFFICIAL, AUDITOR)


def role_label(role: str) -> str:
    return {"citizen": _("Citizen"), "reviewer": _("Reviewer"), "official": _("Official"),
            "auditor": _("Auditor")}.get(role, role)


async def _context(viewer, staff, q: str, error=None, detail=None, changed: int | None = None):
    members = await accounts_repo.list_members(staff.actor.organisation_id)
    needle = q.strip().lower()
    shown = [(m, sorted(parse_roles(m.roles))) for m in members if not needle or needle in m.display_name.lower()]
    return {"viewer": viewer, "staff": staff, "organisation": staff.organisation, "members": shown, "q": q,
            "total": len(members), "grantable": GRANTABLE, "role_label": role_label, "error": error,
            "detail": detail, "changed": changed}


@get("/orgs/{org_id:int}/staff/members")
async def members_page(viewer: NamedDependency[Viewer], org_id: FromPath[int], q: FromQuery[str] = "",
                       changed: FromQuery[int | None] = None) -> Template:
    staff = await staff_member(viewer, org_id, OVERSEERS)
    return Template("staff/members.html", context=await _context(viewer, staff, q[:100], changed=changed))


@post("/orgs/{org_id:int}/staff/members/{user_id:int}/roles")
async def set_roles(viewer: NamedDependency[Viewer], org_id: FromPath[int], user_id: FromPath[int],
                    data: Form) -> Template | Redirect:
    staff = await staff_member(viewer, org_id, (OFFICIAL,))
    roles = data.get("role", [])
    roles = {str(r) for r in (roles if isinstance(roles, list) else [roles]) if str(r) in GRANTABLE}
    try:
        await accounts_service.set_roles(staff.actor, user_id, roles)
    except (Invalid, Conflict, NotFound) as error:
        message = _("Officials cannot remove their own official role; ask another official.") \
            if "own official role" in error.detail else refusal(error)
        return Template("staff/members.html", status_code=409 if isinstance(error, Conflict) else 422,
                        context=await _context(viewer, staff, "", message, english_detail(error)))
    return Redirect(f"{staff.base}/members?changed={user_id}#member-{user_id}", status_code=303)


ROUTES = [members_page, set_roles]
