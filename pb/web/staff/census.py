"""Census upload: the CSV is imported whole or not at all; a refused file shows every bad line."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath
from litestar.response import Template

from pb.accounts.domain import OFFICIAL
from pb.core.errors import Invalid
from pb.voting import service
from pb.web.context import Viewer
from pb.web.i18n import _
from pb.web.staff.access import OVERSEERS, refusal, staff_member

MAX_CSV_BYTES = 5 * 1024 * 1024


async def _page(viewer, staff, **extra: Any) -> dict[str, Any]:
    counts = await service.census_summary(staff.actor)
    return {"viewer": viewer, "staff": staff, "organisation": staff.organisation, "counts": counts,
            "total": sum(c.entries for c in counts), "bound": sum(c.bound for c in counts), "result": None,
            "rejected": [], "error": None, **extra}


@get("/orgs/{org_id:int}/staff/census")
async def census_page(viewer: NamedDependency[Viewer], org_id: FromPath[int]) -> Template:
    staff = await staff_member(viewer, org_id, OVERSEERS)
    return Template("staff/census.html", context=await _page(viewer, staff))


@post("/orgs/{org_id:int}/staff/census", request_max_body_size=MAX_CSV_BYTES + 65536)
async def upload_census(request: Request, viewer: NamedDependency[Viewer], org_id: FromPath[int],
                        data: Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)]) -> Template:
    staff = await staff_member(viewer, org_id, (OFFICIAL,))
    upload = data.get("file")
    content = await upload.read() if isinstance(upload, UploadFile) else b""
    if not content:
        return Template("staff/census.html", status_code=422, context=await _page(
            viewer, staff, error=_("Choose a CSV file to upload.")))
    if len(content) > MAX_CSV_BYTES:
        return Template("staff/census.html", status_code=422, context=await _page(
            viewer, staff, error=_("The file is too large (at most 5 MB).")))
    try:
        result = await service.import_census(staff.actor, request.app.state.census_key, content)
    except Invalid as error:
        rejected = error.extra.get("rejected", [])
        message = _("The file was not imported: nothing of it was stored. Correct the lines below and upload it "
                    "again.") if rejected else refusal(error)
        return Template("staff/census.html", status_code=422, context=await _page(
            viewer, staff, error=message, rejected=rejected))
    return Template("staff/census.html", context=await _page(viewer, staff, result=result))


ROUTES = [census_page, upload_census]
