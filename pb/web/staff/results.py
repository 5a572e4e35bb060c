"""Tally, staff results, verification, publishing, and the auditor's round check.

Officials run the tally, read the staff result (reasons and charts) and the recomputation before
publishing with a confirmation step. Auditors read the same pages and the round check: frozen
configuration and hash, ballot digests, the recomputed tally against the stored one, downloads.
"""

from __future__ import annotations

import json

from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect, Response, Template

from pb.accounts.domain import OFFICIAL
from pb.core.errors import Conflict
from pb.results import service
from pb.results.views import budget_view, csv_download, json_download
from pb.rounds import service as rounds_service
from pb.web.context import Viewer
from pb.web.forms import Form
from pb.web.i18n import _
from pb.web.labels import result_reason
from pb.web.staff.access import OVERSEERS, english_detail, refusal, staff_member

STAFF_ROUND = "/orgs/{org_id:int}/staff/rounds/{round_id:int}"
TALLIED_ON = ("tallied", "published", "funding", "completed")


async def _results_context(viewer, staff, round_id: int, **extra) -> dict:
    view = await rounds_service.round_view(staff.actor.organisation_id, round_id, include_draft=True)
    found = await service.results(staff.actor.organisation_id, round_id, staff=True) \
        if view.round.phase in TALLIED_ON else None
    return {"viewer": viewer, "staff": staff, "organisation": staff.organisation, "round": view.round,
            "budgets": [budget_view(doc, view.round.currency) for doc in found.budgets] if found else [],
            "hashes": found.hashes if found else {}, "reason": result_reason,
            "base": f"{staff.base}/rounds/{round_id}", "error": None, "detail": None, **extra}


@get(STAFF_ROUND + "/results")
async def staff_results(viewer: NamedDependency[Viewer], org_id: FromPath[int], round_id: FromPath[int]) -> Template:
    staff = await staff_member(viewer, org_id, OVERSEERS)
    return Template("staff/results.html", context=await _results_context(viewer, staff, round_id))


@post(STAFF_ROUND + "/tally")
async def run_tally(request: Request, viewer: NamedDependency[Viewer], org_id: FromPath[int], round_id: FromPath[int]) -> Template | Redirect:
    staff = await staff_member(viewer, org_id, (OFFICIAL,))
    try:
        await service.tally_round(staff.actor, round_id, round_keys=request.app.state.round_keys)
    except Conflict as error:
        return Template("staff/results.html", status_code=409, context=await _results_context(
            viewer, staff, round_id, error=refusal(error), detail=english_detail(error)))
    return Redirect(f"{staff.base}/rounds/{round_id}/results", status_code=303)


@get(STAFF_ROUND + "/publish")
async def confirm_publish(viewer: NamedDependency[Viewer], org_id: FromPath[int], round_id: FromPath[int]) -> Template:
    staff = await staff_member(viewer, org_id, (OFFICIAL,))
    view = await rounds_service.round_view(org_id, round_id, include_draft=True)
    return Template("staff/confirm_publish.html", context={
        "viewer": viewer, "staff": staff, "organisation": staff.organisation, "round": view.round,
        "base": f"{staff.base}/rounds/{round_id}", "error": None, "detail": None})


@post(STAFF_ROUND + "/publish")
async def publish(viewer: NamedDependency[Viewer], org_id: FromPath[int], round_id: FromPath[int],
                  data: Form) -> Template | Redirect:
    staff = await staff_member(viewer, org_id, (OFFICIAL,))
    error_text, detail = None, None
    if data.get("confirm") != "yes":
        error_text = _("Tick the box to confirm that you want this.")
    else:
        try:
            await service.publish(staff.actor, round_id)
        except Conflict as error:
            error_text, detail = refusal(error), english_detail(error)
    if error_text is None:
        return Redirect(f"{staff.base}/rounds/{round_id}/results", status_code=303)
    view = await rounds_service.round_view(org_id, round_id, include_draft=True)
    return Template("staff/confirm_publish.html", status_code=422, context={
        "viewer": viewer, "staff": staff, "organisation": staff.organisation, "round": view.round,
        "base": f"{staff.base}/rounds/{round_id}", "error": error_text, "detail": detail})


@get(STAFF_ROUND + "/check")
async def round_check(viewer: NamedDependency[Viewer], org_id: FromPath[int], round_id: FromPath[int]) -> Template:
    """Everything an auditor needs to check a tallied round, recomputed now (nothing is trusted)."""
    staff = await staff_member(viewer, org_id, OVERSEERS)
    view = await rounds_service.round_view(org_id, round_id, include_draft=True)
    frozen = view.round.frozen_config_hash is not None
    config = await rounds_service.frozen_config(org_id, round_id) if frozen and view.round.phase != "draft" else None
    checks, found = [], None
    if view.round.phase in TALLIED_ON:
        checks = await service.verify(staff.actor, round_id)
        found = await service.results(org_id, round_id, staff=True)
    names = {b.id: b.name for b in view.budgets}
    return Template("staff/check.html", context={
        "viewer": viewer, "staff": staff, "organisation": staff.organisation, "round": view.round, "names": names,
        "config_json": json.dumps(config, indent=2, ensure_ascii=False) if config else None,
        "checks": checks, "all_ok": bool(checks) and all(c.ok for c in checks),
        "digests": {doc["budget_id"]: (doc["ballots"], doc["ballots_digest"]) for doc in found.budgets} if found else {},
        "base": f"{staff.base}/rounds/{round_id}"})


@get(STAFF_ROUND + "/results.json")
async def staff_results_json(viewer: NamedDependency[Viewer], org_id: FromPath[int], round_id: FromPath[int]) -> Response:
    staff = await staff_member(viewer, org_id, OVERSEERS)
    view = await rounds_service.round_view(org_id, round_id, include_draft=True)
    return json_download(await service.results(staff.actor.organisation_id, round_id, staff=True),
                         view.round.frozen_config_hash)


@get(STAFF_ROUND + "/results.csv")
async def staff_results_csv(viewer: NamedDependency[Viewer], org_id: FromPath[int], round_id: FromPath[int]) -> Response:
    staff = await staff_member(viewer, org_id, OVERSEERS)
    return csv_download(await service.results(staff.actor.organisation_id, round_id, staff=True))


ROUTES = [staff_results, run_tally, confirm_publish, publish, round_check, staff_results_json, staff_results_csv]
