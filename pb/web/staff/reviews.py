"""The review queue and the review form: each criterion passed or failed with a note, a decision,
a public reason, an adjusted cost with its explanation; appeals are decided by another reviewer.

The queue never lists a reviewer's own or co-authored proposals, nor appeals against their own
decision: the services refuse those, so the page does not offer them.
"""

from __future__ import annotations

from typing import Any

from litestar import get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect, Template

from pb.core.errors import Conflict, Forbidden, Invalid
from pb.proposals import service
from pb.proposals.domain import APPEAL_DECISIONS, APPEALED, DECISIONS, IN_REVIEW, SUBMITTED, CriterionResult
from pb.rounds import service as rounds_service
from pb.web.context import Viewer
from pb.web.forms import Form, amount_input, parse_amount
from pb.web.i18n import _
from pb.web.staff.access import REVIEWERS, english_detail, refusal, staff_member

WAITING = (SUBMITTED, IN_REVIEW)


async def _appealed_against(staff, proposal_id: int) -> int | None:
    """Who made the decision under appeal (the latest review-stage review)."""
    view = await service.get_proposal(staff.actor, proposal_id)
    reviews = [r for r in view.reviews if r.stage == "review"]
    return reviews[-1].reviewer_id if reviews else None


@get("/orgs/{org_id:int}/staff/rounds/{round_id:int}/reviews")
async def review_queue(viewer: NamedDependency[Viewer], org_id: FromPath[int], round_id: FromPath[int]) -> Template:
    staff = await staff_member(viewer, org_id, REVIEWERS)
    view = await rounds_service.round_view(org_id, round_id, include_draft=True)
    listed = await service.list_proposals(staff.actor, round_id)
    mine = staff.actor.user_id
    waiting = [p for p in listed if p.status in WAITING and mine not in p.proposers]
    appeals = [p for p in listed if p.status == APPEALED and mine not in p.proposers
               and await _appealed_against(staff, p.id) != mine]
    decided = [p for p in listed if p.status in DECISIONS]
    return Template("staff/review_queue.html", context={
        "viewer": viewer, "staff": staff, "organisation": staff.organisation, "round": view.round,
        "budgets": {b.id: b.name for b in view.budgets}, "waiting": waiting, "appeals": appeals, "decided": decided,
        "own": sum(1 for p in listed if mine in p.proposers and p.status in (*WAITING, APPEALED)),
        "base": f"{staff.base}/rounds/{round_id}"})


def _empty_form(criteria: list[dict]) -> dict[str, Any]:
    return {"decision": "", "public_reason": "", "adjusted_cost": "", "cost_explanation": "",
            "criteria": {c["key"]: {"passed": "", "note": ""} for c in criteria}}


def _read_form(data: dict[str, Any], criteria: list[dict]) -> dict[str, Any]:
    return {"decision": str(data.get("decision", "")), "public_reason": str(data.get("public_reason", "")).strip(),
            "adjusted_cost": str(data.get("adjusted_cost", "")).strip(),
            "cost_explanation": str(data.get("cost_explanation", "")).strip(),
            "criteria": {c["key"]: {"passed": str(data.get(f"passed-{c['key']}", "")),
                                    "note": str(data.get(f"note-{c['key']}", "")).strip()} for c in criteria}}


def _check(form: dict[str, Any], allowed: tuple[str, ...]) -> tuple[list[CriterionResult], int | None, dict]:
    """The review as the service takes it, and the field errors a person can fix (in their language)."""
    errors: dict[str, str] = {}
    results = []
    for key, row in form["criteria"].items():
        if row["passed"] not in ("yes", "no"):
            errors[f"passed-{key}"] = _("Say whether the proposal meets this criterion.")
        results.append(CriterionResult(key, row["passed"] == "yes", row["note"][:2000]))
    if form["decision"] not in allowed:
        errors["decision"] = _("Choose a decision.")
    if form["decision"] in ("ineligible", "changes_requested") and not form["public_reason"]:
        errors["public_reason"] = _("Give the public reason: the proposer and the public read it.")
    if form["decision"] == "eligible" and any(not r.passed for r in results) and not errors:
        errors["decision"] = _("A proposal that fails a criterion cannot be eligible.")
    adjusted = None
    if form["adjusted_cost"]:
        adjusted = parse_amount(form["adjusted_cost"])
        if adjusted is None or adjusted <= 0:
            errors["adjusted_cost"] = _("Enter an amount above zero, for example 1500 or 1500.50.")
        elif not form["cost_explanation"]:
            errors["cost_explanation"] = _("Explain why the cost was adjusted.")
    if len(form["public_reason"]) > 5000:
        errors["public_reason"] = _("Use at most %(n)s characters.", n=5000)
    return results, adjusted, errors


async def _context(viewer, staff, proposal_id: int, form=None, errors=None, detail=None) -> dict[str, Any]:
    view = await service.get_proposal(staff.actor, proposal_id)
    proposal = view.proposal
    round_view = await rounds_service.round_view(staff.actor.organisation_id, proposal.round_id, include_draft=True)
    criteria = round_view.round.criteria_list
    appeal = proposal.status == APPEALED
    labels = {"decision": _("Decision"), "public_reason": _("Public reason"), "adjusted_cost": _("Adjusted cost"),
              "cost_explanation": _("Why the cost was adjusted"),
              **{f"passed-{c['key']}": c["label"] for c in criteria}}
    return {"viewer": viewer, "staff": staff, "organisation": staff.organisation, "round": round_view.round,
            "proposal": proposal, "reviews": view.reviews, "appeal_reason": view.appeal_reason, "appeal": appeal,
            "criteria": criteria, "form": form or _empty_form(criteria), "errors": errors or {}, "labels": labels,
            "decisions": APPEAL_DECISIONS if appeal else DECISIONS, "detail": detail,
            "own": staff.actor.user_id in proposal.proposers,
            "reviewable": proposal.status in (*WAITING, APPEALED), "amount_input": amount_input,
            "base": f"{staff.base}/rounds/{proposal.round_id}"}


@get("/orgs/{org_id:int}/staff/proposals/{proposal_id:int}/review")
async def review_page(viewer: NamedDependency[Viewer], org_id: FromPath[int], proposal_id: FromPath[int]) -> Template:
    staff = await staff_member(viewer, org_id, REVIEWERS)
    return Template("staff/review_form.html", context=await _context(viewer, staff, proposal_id))


@post("/orgs/{org_id:int}/staff/proposals/{proposal_id:int}/review")
async def review(viewer: NamedDependency[Viewer], org_id: FromPath[int], proposal_id: FromPath[int],
                 data: Form) -> Template | Redirect:
    staff = await staff_member(viewer, org_id, REVIEWERS)
    context = await _context(viewer, staff, proposal_id)
    form = _read_form(data, context["criteria"])
    results, adjusted, errors = _check(form, context["decisions"])
    detail = None
    if not errors:
        decide = service.decide_appeal if context["appeal"] else service.review
        try:
            await decide(staff.actor, proposal_id, results, form["decision"], form["public_reason"], adjusted,
                         form["cost_explanation"])
        except (Invalid, Conflict, Forbidden) as error:
            errors, detail = {"form": refusal(error)}, english_detail(error)
        else:
            return Redirect(f"{context['base']}/reviews?done={proposal_id}", status_code=303)
    context = await _context(viewer, staff, proposal_id, form, errors, detail)
    return Template("staff/review_form.html", status_code=422, context=context)


ROUTES = [review_queue, review_page, review]
