"""Pages where citizens write proposals: propose (save a draft or submit), edit (a draft, or after
changes were requested), submit or resubmit, withdraw, appeal.

The form is checked by the API's ``ProposalIn`` Struct and then by the same service functions the
API calls; each message is shown next to its field, and everything typed comes back in the form.
Cost lines are added and removed with plain submit buttons (htmx makes that a partial update).
"""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect, Template

from pb.accounts import repo as accounts_repo
from pb.core.errors import Conflict, DomainError, Forbidden, Invalid
from pb.core.ratelimit import rate_limited
from pb.proposals import domain, service
from pb.proposals.schemas import ProposalIn
from pb.rounds import service as rounds_service
from pb.rounds.views import organisation_or_404
from pb.web.context import Viewer
from pb.web.forms import Form, amount_input, check_struct, parse_amount, parse_int
from pb.web.i18n import _, format_money

MAX_LINES = 30


def labels() -> dict[str, str]:
    return {"budget_id": _("Budget"), "title": _("Title"), "summary": _("Summary"),
            "description": _("Description"), "category": _("Category"), "cost_lines": _("Cost lines"),
            "co_proposers": _("Co-proposers"), "requested_amount": _("Total")}


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def read_form(data: dict[str, Any]) -> dict[str, Any]:
    """The form as typed (strings), cost lines as parallel lists."""
    line_labels, line_amounts = _as_list(data.get("line_label")), _as_list(data.get("line_amount"))
    width = max(len(line_labels), len(line_amounts))
    lines = [{"label": (line_labels[i] if i < len(line_labels) else "").strip(),
              "amount": (line_amounts[i] if i < len(line_amounts) else "").strip()} for i in range(width)]
    return {key: str(data.get(key, "")).strip() for key in
            ("budget_id", "title", "summary", "description", "category", "co_proposers")} | {"lines": lines}


def _line_edits(form: dict[str, Any], action: str) -> bool:
    """Add or remove a cost line row; True when the action was one of those."""
    if action == "add_line":
        if len(form["lines"]) < MAX_LINES:
            form["lines"].append({"label": "", "amount": ""})
        return True
    if action.startswith("remove_line:"):
        index = parse_int(action.split(":", 1)[1])
        if index is not None and 0 <= index < len(form["lines"]) and len(form["lines"]) > 1:
            form["lines"].pop(index)
        return True
    return False


async def to_content(form: dict[str, Any], organisation_id: int) -> tuple[dict[str, Any] | None, dict[str, str]]:
    """The API's content dict from the form, or the field errors."""
    errors: dict[str, str] = {}
    lines = [line for line in form["lines"] if line["label"] or line["amount"]]
    cost_lines = []
    for i, line in enumerate(form["lines"]):
        if not (line["label"] or line["amount"]):
            continue
        amount = parse_amount(line["amount"])
        if not line["label"]:
            errors[f"line-label-{i}"] = _("Say what this cost is for.")
        if amount is None or amount <= 0:
            errors[f"line-amount-{i}"] = _("Enter an amount above zero, for example 1500 or 1500.50.")
        cost_lines.append({"label": line["label"], "amount": amount or 0})
    if not lines:
        errors["cost_lines"] = _("List at least one cost line.")
    co_proposers = []
    for email in [e.strip() for e in form["co_proposers"].replace(";", ",").split(",") if e.strip()]:
        user = await accounts_repo.user_by_email(email)
        if user is None or not await accounts_repo.actor(user.id, organisation_id):
            errors["co_proposers"] = _("%(email)s is not a member here. Co-proposers need an account and must "
                                       "have joined.", email=email)
            break
        co_proposers.append(user.id)
    values = {"budget_id": parse_int(form["budget_id"]), "title": form["title"], "summary": form["summary"],
              "description": form["description"], "category": form["category"],
              "requested_amount": sum(line["amount"] for line in cost_lines) or 1,
              "cost_lines": cost_lines, "co_proposers": co_proposers}
    if values["budget_id"] is None:
        errors["budget_id"] = _("Choose a budget.")
    struct_values = {k: v for k, v in values.items() if v not in ("", None)}
    _struct, struct_errors = check_struct(ProposalIn, struct_values)
    for name, message in struct_errors.items():
        if name not in ("cost_lines", "requested_amount"):
            errors.setdefault(name, message)
    return (None if errors else values), errors


def service_errors(refusal: DomainError, currency: str) -> dict[str, str]:
    """The service's refusal, next to the field it concerns, in the reader's language."""
    errors: dict[str, str] = {}
    for problem in refusal.extra.get("problems", [refusal.detail]):
        if "maximum" in problem:
            amount = int(problem.rsplit(" ", 1)[-1].rstrip("."))
            errors["cost_lines"] = _("The total is above this round's maximum of %(amount)s.",
                                     amount=format_money(amount, currency))
        elif "above the budget" in problem:
            errors["cost_lines"] = _("The total is above the whole budget.")
        elif "co-proposer" in problem.lower():
            errors["co_proposers"] = _("Co-proposers must be members here, and not you.")
        elif "budget" in problem:
            errors["budget_id"] = _("Choose one of this round's budgets.")
        elif refusal.code == "wrong_phase":
            errors["form"] = _("This round is not taking proposals now.")
        else:
            errors["form"] = _("The proposal could not be saved: it is not in a state that allows this now.")
    return errors


def _form_context(viewer: Viewer, organisation, round_view, form: dict[str, Any], errors: dict[str, str],
                  action_url: str, proposal=None) -> dict[str, Any]:
    field_labels = labels()
    for i in range(len(form["lines"])):
        field_labels[f"line-label-{i}"] = _("Cost line %(n)s: what", n=i + 1)
        field_labels[f"line-amount-{i}"] = _("Cost line %(n)s: amount", n=i + 1)
    total = sum(parse_amount(line["amount"]) or 0 for line in form["lines"])
    return {"viewer": viewer, "organisation": organisation, "round": round_view.round, "budgets": round_view.budgets,
            "form": form, "errors": errors, "labels": field_labels, "action_url": action_url, "proposal": proposal,
            "total": total, "base": f"/orgs/{organisation.id}/rounds/{round_view.round.id}",
            "open": round_view.round.phase == "submission" or (
                proposal is not None and domain.editable_in(proposal.status, round_view.round.phase))}


def _empty_form() -> dict[str, Any]:
    return {"budget_id": "", "title": "", "summary": "", "description": "", "category": "", "co_proposers": "",
            "lines": [{"label": "", "amount": ""}, {"label": "", "amount": ""}]}


async def _member(viewer: NamedDependency[Viewer], org_id: FromPath[int]):
    user_id = viewer.require()
    actor = await viewer.actor(org_id)
    if actor is None:
        from pb.accounts import service as accounts_service
        await accounts_service.join_organisation(user_id, org_id)
        actor = await viewer.actor(org_id)
    return actor


@get("/orgs/{org_id:int}/rounds/{round_id:int}/propose")
async def propose_page(viewer: NamedDependency[Viewer], org_id: FromPath[int], round_id: FromPath[int]) -> Template:
    viewer.require()
    organisation = await organisation_or_404(org_id)
    round_view = await rounds_service.round_view(org_id, round_id, include_draft=False)
    return Template("proposals/form.html", context=_form_context(
        viewer, organisation, round_view, _empty_form(), {}, f"/orgs/{org_id}/rounds/{round_id}/propose"))


async def _save(viewer: NamedDependency[Viewer], org_id: FromPath[int], round_id: FromPath[int], data: dict, proposal=None) -> Template | Redirect:
    actor = await _member(viewer, org_id)
    organisation = await organisation_or_404(org_id)
    round_view = await rounds_service.round_view(org_id, round_id, include_draft=False)
    form = read_form(data)
    action = str(data.get("action", "save"))
    action_url = (f"/orgs/{org_id}/proposals/{proposal.id}/edit" if proposal
                  else f"/orgs/{org_id}/rounds/{round_id}/propose")
    if _line_edits(form, action):
        template = "proposals/_cost_lines.html" if data.get("htmx") == "1" else "proposals/form.html"
        return Template(template, context=_form_context(viewer, organisation, round_view, form, {}, action_url,
                                                        proposal))
    content, errors = await to_content(form, org_id)
    if content is not None:
        try:
            if proposal is None:
                proposal_id = await service.create_proposal(actor, round_id, content)
            else:
                proposal_id = proposal.id
                await service.update_proposal(actor, proposal_id, content)
            if action == "submit":
                await service.submit(actor, proposal_id)
        except (Invalid, Conflict, Forbidden) as refusal:
            errors = service_errors(refusal, round_view.round.currency)
        else:
            return Redirect(f"/orgs/{org_id}/proposals/{proposal_id}", status_code=303)
    return Template("proposals/form.html", status_code=422, context=_form_context(
        viewer, organisation, round_view, form, errors, action_url, proposal))


@post("/orgs/{org_id:int}/rounds/{round_id:int}/propose", guards=[rate_limited("submission")])
async def propose(viewer: NamedDependency[Viewer], org_id: FromPath[int], round_id: FromPath[int], data: Form) -> Template | Redirect:
    return await _save(viewer, org_id, round_id, data)


def _form_of(proposal) -> dict[str, Any]:
    return {"budget_id": str(proposal.budget_id), "title": proposal.title, "summary": proposal.summary,
            "description": proposal.description, "category": proposal.category, "co_proposers": "",
            "lines": [{"label": line["label"], "amount": amount_input(line["amount"])}
                      for line in proposal.cost_line_list]}


async def _own_proposal(viewer: NamedDependency[Viewer], org_id: FromPath[int], proposal_id: FromPath[int]):
    actor = await _member(viewer, org_id)
    view = await service.get_proposal(actor, proposal_id)
    if actor.user_id not in view.proposal.proposers:
        raise Forbidden("Only the author and co-proposers can edit a proposal.")
    return actor, view.proposal


@get("/orgs/{org_id:int}/proposals/{proposal_id:int}/edit")
async def edit_page(viewer: NamedDependency[Viewer], org_id: FromPath[int], proposal_id: FromPath[int]) -> Template:
    _actor, proposal = await _own_proposal(viewer, org_id, proposal_id)
    organisation = await organisation_or_404(org_id)
    round_view = await rounds_service.round_view(org_id, proposal.round_id, include_draft=False)
    form = _form_of(proposal)
    emails = [u.email for u in [await accounts_repo.user_by_id(uid) for uid in proposal.co_proposers] if u]
    form["co_proposers"] = ", ".join(emails)
    return Template("proposals/form.html", context=_form_context(
        viewer, organisation, round_view, form, {}, f"/orgs/{org_id}/proposals/{proposal_id}/edit", proposal))


@post("/orgs/{org_id:int}/proposals/{proposal_id:int}/edit", guards=[rate_limited("submission")])
async def edit(viewer: NamedDependency[Viewer], org_id: FromPath[int], proposal_id: FromPath[int], data: Form) -> Template | Redirect:
    _actor, proposal = await _own_proposal(viewer, org_id, proposal_id)
    return await _save(viewer, org_id, proposal.round_id, data, proposal)


async def _act(viewer: NamedDependency[Viewer], org_id: FromPath[int], proposal_id: FromPath[int], act) -> Redirect:
    actor = await _member(viewer, org_id)
    await act(actor, proposal_id)
    return Redirect(f"/orgs/{org_id}/proposals/{proposal_id}", status_code=303)


@post("/orgs/{org_id:int}/proposals/{proposal_id:int}/submit", guards=[rate_limited("submission")])
async def submit(viewer: NamedDependency[Viewer], org_id: FromPath[int], proposal_id: FromPath[int]) -> Redirect:
    return await _act(viewer, org_id, proposal_id, service.submit)


@post("/orgs/{org_id:int}/proposals/{proposal_id:int}/withdraw")
async def withdraw(viewer: NamedDependency[Viewer], org_id: FromPath[int], proposal_id: FromPath[int]) -> Redirect:
    return await _act(viewer, org_id, proposal_id, service.withdraw)


@post("/orgs/{org_id:int}/proposals/{proposal_id:int}/appeal")
async def appeal(viewer: NamedDependency[Viewer], org_id: FromPath[int], proposal_id: FromPath[int], data: Form) -> Redirect:
    reason = str(data.get("reason", "")).strip()[:5000]
    if not reason:
        return Redirect(f"/orgs/{org_id}/proposals/{proposal_id}?appeal=empty", status_code=303)
    return await _act(viewer, org_id, proposal_id, lambda actor, pid: service.appeal(actor, pid, reason))


ROUTES = [propose_page, propose, edit_page, edit, submit, withdraw, appeal]
