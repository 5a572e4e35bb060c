"""The results page of a published round: winners and the rest with votes, cost and the reason in
plain words, charts (SVG with a table alternative), the frozen configuration and its hash, and
downloads as JSON and CSV."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from litestar import get
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Response, Template

from pb.results import service
from pb.rounds import service as rounds_service
from pb.rounds.views import organisation_or_404
from pb.web.charts import bar_chart
from pb.web.context import Viewer
from pb.web.i18n import _, format_money, format_number
from pb.web.labels import result_reason

ROUND = "/orgs/{org_id:int}/rounds/{round_id:int}"


def _spent(value: int | str) -> int:
    return int(value) if not isinstance(value, str) else int(value.split("/")[0]) // int(value.split("/")[1])


def budget_view(document: dict[str, Any], currency: str) -> dict[str, Any]:
    projects = sorted(document["projects"], key=lambda p: (not p["selected"], p["rank"] or 0, -p["votes"]))
    votes = bar_chart([(p["title"], p["votes"], format_number(p["votes"]), p["selected"]) for p in projects])
    winners = [p for p in projects if p["selected"]]
    spent = _spent(document["spent"])
    money_rows = [(p["title"], p["cost"], format_money(p["cost"], currency), True) for p in winners]
    money_rows.append((_("Not spent"), max(document["amount"] - spent, 0),
                       format_money(max(document["amount"] - spent, 0), currency), False))
    return {**document, "sorted": projects, "votes_chart": votes, "spent_int": spent,
            "money_chart": bar_chart(money_rows, scale_max=document["amount"]),
            "used_percent": round(100 * spent / document["amount"]) if document["amount"] else 0}


@get(ROUND + "/results")
async def results_page(viewer: NamedDependency[Viewer], org_id: FromPath[int], round_id: FromPath[int]) -> Template:
    organisation = await organisation_or_404(org_id)
    view = await rounds_service.round_view(org_id, round_id, include_draft=False)
    found = await service.results(org_id, round_id, staff=False)
    config = await rounds_service.frozen_config(org_id, round_id)
    return Template("results/results.html", context={
        "viewer": viewer, "organisation": organisation, "round": view.round,
        "budgets": [budget_view(doc, view.round.currency) for doc in found.budgets], "hashes": found.hashes,
        "config": config, "config_json": json.dumps(config, indent=2, ensure_ascii=False),
        "reason": result_reason, "base": f"/orgs/{org_id}/rounds/{round_id}",
    })


def json_download(found: service.RoundResults, config_hash: str | None) -> Response:
    """The results as a JSON file (the public page and the staff round check both offer it)."""
    body = {"round_id": found.round_id, "phase": found.phase, "config_hash": config_hash,
            "budgets": [{**doc, "result_hash": found.hashes[doc["budget_id"]]} for doc in found.budgets]}
    return Response(json.dumps(body, indent=2, ensure_ascii=False), media_type="application/json",
                    headers={"content-disposition": f'attachment; filename="results-round-{found.round_id}.json"'})


def csv_download(found: service.RoundResults) -> Response:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["budget_id", "budget", "proposal_id", "title", "cost", "votes", "selected", "rank", "reason"])
    for doc in found.budgets:
        for p in doc["projects"]:
            writer.writerow([doc["budget_id"], doc["name"], p["proposal_id"], p["title"], p["cost"], p["votes"],
                             "yes" if p["selected"] else "no", p["rank"] or "", p["reason"]])
    return Response(out.getvalue(), media_type="text/csv; charset=utf-8",
                    headers={"content-disposition": f'attachment; filename="results-round-{found.round_id}.csv"'})


@get(ROUND + "/results.json")
async def results_json(org_id: FromPath[int], round_id: FromPath[int]) -> Response:
    found = await service.results(org_id, round_id, staff=False)
    view = await rounds_service.round_view(org_id, round_id, include_draft=False)
    return json_download(found, view.round.frozen_config_hash)


@get(ROUND + "/results.csv")
async def results_csv(org_id: FromPath[int], round_id: FromPath[int]) -> Response:
    return csv_download(await service.results(org_id, round_id, staff=False))


ROUTES = [results_page, results_json, results_csv]
