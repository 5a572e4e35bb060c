"""Grants and payments: create grants from the winners, plan tranches, approve as a second official
(four eyes: the planner is told in words that another official must approve), record a ledger
payment with its bank reference, reverse it, read the grantee's progress reports.

Every act calls the grants and payments services the JSON API calls; paying and reversing need a
ticked confirmation.
"""

from __future__ import annotations

from typing import Any

from litestar import get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect, Template

from pb.accounts.domain import OFFICIAL
from pb.core.errors import Conflict, DomainError, Forbidden, Invalid
from pb.grants import service
from pb.grants.domain import may_approve
from pb.payments import service as payments
from pb.proposals import service as proposals_service
from pb.rounds import service as rounds_service
from pb.web.context import Viewer
from pb.web.forms import Form, parse_amount, parse_int
from pb.web.i18n import _
from pb.web.staff.access import OVERSEERS, english_detail, refusal, staff_member

GRANT = "/orgs/{org_id:int}/staff/grants/{grant_id:int}"


async def _round_context(viewer, staff, round_id: int, **extra) -> dict[str, Any]:
    view = await rounds_service.round_view(staff.actor.organisation_id, round_id, include_draft=True)
    grants = await service.list_grants(staff.actor, round_id)
    listed = await proposals_service.list_proposals(staff.actor, round_id)
    titles = {p.id: p.title for p in listed}
    granted = {g.proposal_id for g in grants}
    winners = [p for p in listed if p.status == "selected" and p.id not in granted]
    return {"viewer": viewer, "staff": staff, "organisation": staff.organisation, "round": view.round,
            "grants": grants, "titles": titles, "winners": winners, "form": {}, "errors": {}, "detail": None,
            "base": f"{staff.base}/rounds/{round_id}", **extra}


@get("/orgs/{org_id:int}/staff/rounds/{round_id:int}/grants")
async def round_grants(viewer: NamedDependency[Viewer], org_id: FromPath[int], round_id: FromPath[int]) -> Template:
    staff = await staff_member(viewer, org_id, OVERSEERS)
    return Template("staff/grants.html", context=await _round_context(viewer, staff, round_id))


@post("/orgs/{org_id:int}/staff/rounds/{round_id:int}/grants")
async def create_grant(viewer: NamedDependency[Viewer], org_id: FromPath[int], round_id: FromPath[int],
                       data: Form) -> Template | Redirect:
    staff = await staff_member(viewer, org_id, (OFFICIAL,))
    form = {"proposal_id": str(data.get("proposal_id", "")), "amount": str(data.get("amount", "")).strip()}
    errors: dict[str, str] = {}
    proposal_id = parse_int(form["proposal_id"])
    amount = parse_amount(form["amount"]) if form["amount"] else None
    if proposal_id is None:
        errors["proposal_id"] = _("Choose a winning project.")
    if form["amount"] and (amount is None or amount <= 0):
        errors["amount"] = _("Enter an amount above zero, for example 1500 or 1500.50.")
    detail = None
    if not errors:
        try:
            grant = await service.create_grant(staff.actor, round_id, proposal_id, amount)
        except DomainError as error:
            errors, detail = {"form": refusal(error)}, english_detail(error)
        else:
            return Redirect(f"{staff.base}/grants/{grant.id}", status_code=303)
    return Template("staff/grants.html", status_code=422, context=await _round_context(
        viewer, staff, round_id, form=form, errors=errors, detail=detail))


async def _grant_context(viewer, staff, grant_id: int, **extra) -> dict[str, Any]:
    detail = await service.grant_detail(staff.actor, grant_id)
    view = await rounds_service.round_view(staff.actor.organisation_id, detail.grant.round_id, include_draft=True)
    proposal = (await proposals_service.get_proposal(staff.actor, detail.grant.proposal_id)).proposal
    me = staff.actor.user_id
    pending = [r for r in (await payments.payment_state(staff.actor, grant_id))["reversals"]
               if r.status == "requested"]
    return {"viewer": viewer, "staff": staff, "organisation": staff.organisation, "round": view.round,
            "pending_reversals": {r.tranche_id: r for r in pending},
            "grant": detail.grant, "tranches": detail.tranches, "reports": detail.reports, "proposal": proposal,
            "may_approve": {t.id: may_approve(t.planned_by, me) for t in detail.tranches},
            "form": {"amount": "", "condition": ""}, "errors": {}, "tranche_error": {}, "detail": None,
            "base": f"{staff.base}/rounds/{detail.grant.round_id}", **extra,
            "plan_errors": {k: v for k, v in extra.get("errors", {}).items() if k != "form"}}


@get(GRANT)
async def grant_page(viewer: NamedDependency[Viewer], org_id: FromPath[int], grant_id: FromPath[int]) -> Template:
    staff = await staff_member(viewer, org_id, OVERSEERS)
    return Template("staff/grant.html", context=await _grant_context(viewer, staff, grant_id))


@post(GRANT + "/tranches")
async def plan_tranche(viewer: NamedDependency[Viewer], org_id: FromPath[int], grant_id: FromPath[int],
                       data: Form) -> Template | Redirect:
    staff = await staff_member(viewer, org_id, (OFFICIAL,))
    form = {"amount": str(data.get("amount", "")).strip(), "condition": str(data.get("condition", "")).strip()}
    errors: dict[str, str] = {}
    amount = parse_amount(form["amount"])
    if amount is None or amount <= 0:
        errors["amount"] = _("Enter an amount above zero, for example 1500 or 1500.50.")
    if not form["condition"]:
        errors["condition"] = _("Say when this tranche is paid, for example “on signature”.")
    elif len(form["condition"]) > 500:
        errors["condition"] = _("Use at most %(n)s characters.", n=500)
    detail = None
    if not errors:
        try:
            await service.plan_tranche(staff.actor, grant_id, amount, form["condition"])
        except (Invalid, Conflict) as error:
            errors, detail = {"amount" if error.code == "over_grant" else "form": refusal(error)}, english_detail(error)
        else:
            return Redirect(f"{staff.base}/grants/{grant_id}", status_code=303)
    return Template("staff/grant.html", status_code=422, context=await _grant_context(
        viewer, staff, grant_id, form=form, errors=errors, detail=detail))


async def _tranche_act(viewer, org_id: int, grant_id: int, tranche_id: int, act) -> Template | Redirect:
    staff = await staff_member(viewer, org_id, (OFFICIAL,))
    try:
        await act(staff)
    except (Invalid, Conflict, Forbidden) as error:
        return Template("staff/grant.html", status_code=403 if isinstance(error, Forbidden) else 422,
                        context=await _grant_context(viewer, staff, grant_id,
                                                     tranche_error={tranche_id: refusal(error)},
                                                     detail=english_detail(error)))
    return Redirect(f"{staff.base}/grants/{grant_id}#tranche-{tranche_id}", status_code=303)


def _confirmed(data: dict[str, Any]) -> None:
    if data.get("confirm") != "yes":
        raise Invalid("Tick the box to confirm.", code="confirmation_missing")


def _reference(data: dict[str, Any]) -> str:
    reference = str(data.get("reference", "")).strip()
    if not reference or len(reference) > 200:
        raise Invalid("Give the bank reference.", code="reference_required")
    return reference


@post(GRANT + "/tranches/{tranche_id:int}/approve")
async def approve_tranche(viewer: NamedDependency[Viewer], org_id: FromPath[int], grant_id: FromPath[int],
                          tranche_id: FromPath[int]) -> Template | Redirect:
    return await _tranche_act(viewer, org_id, grant_id, tranche_id,
                              lambda staff: service.approve_tranche(staff.actor, grant_id, tranche_id))


@post(GRANT + "/tranches/{tranche_id:int}/pay")
async def pay_tranche(viewer: NamedDependency[Viewer], org_id: FromPath[int], grant_id: FromPath[int],
                      tranche_id: FromPath[int], data: Form) -> Template | Redirect:
    async def act(staff):
        _confirmed(data)
        await payments.pay_tranche(staff.actor, grant_id, tranche_id, _reference(data))
    return await _tranche_act(viewer, org_id, grant_id, tranche_id, act)


@post(GRANT + "/tranches/{tranche_id:int}/reverse")
async def reverse_tranche(viewer: NamedDependency[Viewer], org_id: FromPath[int], grant_id: FromPath[int],
                          tranche_id: FromPath[int], data: Form) -> Template | Redirect:
    """One official asks for the clawback; a second approves it (four eyes, as in the API)."""
    async def act(staff):
        _confirmed(data)
        reason = str(data.get("reason", "")).strip()
        if not reason or len(reason) > 1000:
            raise Invalid("Say why the money is taken back.", code="reason_required")
        await payments.request_reversal(staff.actor, grant_id, tranche_id, None, reason, _reference(data))
    return await _tranche_act(viewer, org_id, grant_id, tranche_id, act)


@post(GRANT + "/tranches/{tranche_id:int}/reversals/{reversal_id:int}/approve")
async def approve_reversal(viewer: NamedDependency[Viewer], org_id: FromPath[int], grant_id: FromPath[int],
                           tranche_id: FromPath[int], reversal_id: FromPath[int], data: Form) -> Template | Redirect:
    async def act(staff):
        _confirmed(data)
        await payments.approve_reversal(staff.actor, reversal_id)
    return await _tranche_act(viewer, org_id, grant_id, tranche_id, act)


ROUTES = [round_grants, create_grant, grant_page, plan_tranche, approve_tranche, pay_tranche, reverse_tranche,
          approve_reversal]
