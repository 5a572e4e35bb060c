"""The audit log for officials and auditors: browse and filter events, verify the hash chain."""

from __future__ import annotations

from urllib.parse import urlencode

from litestar import Request, get
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Template

from pb.audit import service
from pb.web.context import Viewer
from pb.web.forms import parse_int
from pb.web.staff.access import OVERSEERS, staff_member

PAGE = 50
BATCH = 1000


async def _all_events(organisation_id: int):
    events, after = [], 0
    while True:
        batch = await service.list_events(organisation_id, after_seq=after, limit=BATCH)
        events.extend(batch)
        if len(batch) < BATCH:
            return events
        after = batch[-1].seq


@get("/orgs/{org_id:int}/staff/audit")
async def audit_log(request: Request, viewer: NamedDependency[Viewer], org_id: FromPath[int]) -> Template:
    staff = await staff_member(viewer, org_id, OVERSEERS)
    params = request.query_params
    filters = {name: (params.get(name) or "").strip()[:100] for name in ("kind", "actor", "date", "subject", "seq")}
    seq = parse_int(filters["seq"])
    events = await _all_events(org_id)
    kinds = sorted({e.action for e in events})
    shown = [e for e in events
             if (not filters["kind"] or e.action == filters["kind"])
             and (not filters["actor"] or e.actor == filters["actor"])
             and (not filters["date"] or e.occurred_at.startswith(filters["date"]))
             and (not filters["subject"] or filters["subject"] in e.subject)
             and (seq is None or e.seq == seq)]
    shown.reverse()  # newest first
    pages = max(1, -(-len(shown) // PAGE))
    page = min(max(parse_int(params.get("page")) or 1, 1), pages)
    kept = {k: v for k, v in filters.items() if v}
    return Template("staff/audit.html", context={
        "viewer": viewer, "staff": staff, "organisation": staff.organisation, "events": shown[(page - 1) * PAGE:page * PAGE],
        "total": len(shown), "all": len(events), "kinds": kinds, "actors": sorted({e.actor for e in events}),
        "filters": filters, "page": page, "pages": pages,
        "page_url": lambda n: "?" + urlencode({**kept, "page": n})})


@get("/orgs/{org_id:int}/staff/audit/verify")
async def verify_chain(viewer: NamedDependency[Viewer], org_id: FromPath[int]) -> Template:
    staff = await staff_member(viewer, org_id, OVERSEERS)
    verdict = await service.verify(org_id)
    return Template("staff/audit_verify.html", context={
        "viewer": viewer, "staff": staff, "organisation": staff.organisation, "verdict": verdict})


ROUTES = [audit_log, verify_chain]
