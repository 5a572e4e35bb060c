"""Pages for proposals: the public list (search, filters, sorting, pages) and the proposal page.

The propose / edit / submit / withdraw / appeal pages are in ``pb.proposals.form_views``.
"""

from __future__ import annotations

from urllib.parse import urlencode

from litestar import Request, get
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.response import Template

from pb.proposals import domain, service
from pb.proposals.domain import STATUSES
from pb.proposals.repo import PublicSearch
from pb.rounds import service as rounds_service
from pb.rounds.views import organisation_or_404
from pb.web.context import Viewer
from pb.web.forms import amount_input, parse_amount, parse_int
from pb.web.i18n import _

SORTS = ("newest", "oldest", "cost_asc", "cost_desc", "title")
PUBLIC_STATUSES = tuple(s for s in STATUSES if s != "draft")


def sort_labels() -> dict[str, str]:
    return {"newest": _("Newest first"), "oldest": _("Oldest first"), "cost_asc": _("Cheapest first"),
            "cost_desc": _("Most expensive first"), "title": _("Title (A–Z)")}


@get("/orgs/{org_id:int}/rounds/{round_id:int}/proposals")
async def proposal_list(request: Request, viewer: NamedDependency[Viewer], org_id: FromPath[int], round_id: FromPath[int]) -> Template:
    organisation = await organisation_or_404(org_id)
    view = await rounds_service.round_view(org_id, round_id, include_draft=False)
    params = request.query_params
    budget_ids = {b.id for b in view.budgets}
    budget_id = parse_int(params.get("budget"))
    status = params.get("status") or None
    min_cost = parse_amount(params.get("min_cost") or "")
    max_cost = parse_amount(params.get("max_cost") or "")
    sort = params.get("sort") if params.get("sort") in SORTS else "newest"
    search = PublicSearch(
        text=(params.get("q") or "")[:200], budget_id=budget_id if budget_id in budget_ids else None,
        status=status if status in PUBLIC_STATUSES else None, min_cost=min_cost, max_cost=max_cost, sort=sort)
    page = await service.search_public(org_id, round_id, search, parse_int(params.get("page")) or 1)
    filters = {"q": search.text, "budget": search.budget_id or "", "status": search.status or "",
               "min_cost": amount_input(min_cost), "max_cost": amount_input(max_cost), "sort": sort}
    kept = {k: v for k, v in filters.items() if v not in ("", None)}
    return Template("proposals/list.html", context={
        "viewer": viewer, "organisation": organisation, "round": view.round, "budgets": view.budgets,
        "budget_names": {b.id: b.name for b in view.budgets}, "page": page, "filters": filters,
        "statuses": PUBLIC_STATUSES, "sorts": sort_labels(), "base": f"/orgs/{org_id}/rounds/{round_id}",
        "page_url": lambda n: "?" + urlencode({**kept, "page": n}),
    })


@get("/orgs/{org_id:int}/proposals/{proposal_id:int}")
async def proposal_page(viewer: NamedDependency[Viewer], org_id: FromPath[int], proposal_id: FromPath[int],
                        appeal: FromQuery[str] = "") -> Template:
    organisation = await organisation_or_404(org_id)
    view = await service.public_proposal(org_id, proposal_id, viewer.user_id)
    proposal = view.proposal
    round_view = await rounds_service.round_view(org_id, proposal.round_id, include_draft=True)
    author, co_proposers = await service.proposer_names(proposal)
    is_author = viewer.user_id == proposal.author_id
    phase = round_view.round.phase
    return Template("proposals/detail.html", context={
        "viewer": viewer, "organisation": organisation, "round": round_view.round, "proposal": proposal,
        "budget": next((b for b in round_view.budgets if b.id == proposal.budget_id), None),
        "reviews": view.reviews, "appeal_reason": view.appeal_reason, "author": author,
        "co_proposers": co_proposers,
        "can_edit": viewer.user_id in proposal.proposers and domain.editable_in(proposal.status, phase),
        "can_submit": is_author and phase in domain.phases_for(domain.SUBMIT, proposal.status)
        and proposal.status in (domain.DRAFT, domain.CHANGES_REQUESTED),
        "can_withdraw": is_author and proposal.status in (domain.DRAFT, domain.SUBMITTED)
        and phase in domain.phases_for(domain.WITHDRAW, proposal.status),
        "can_appeal": is_author and proposal.status == domain.INELIGIBLE and not proposal.appealed
        and phase in domain.phases_for(domain.APPEAL, proposal.status),
        "base": f"/orgs/{org_id}/rounds/{proposal.round_id}",
        "appeal_errors": {"reason": _("Fill this in.")} if appeal == "empty" else {},
    })


from pb.proposals.form_views import ROUTES as FORM_ROUTES  # noqa: E402

ROUTES = [proposal_list, proposal_page, *FORM_ROUTES]
