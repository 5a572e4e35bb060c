"""The election record as a download: public once the round's results are published."""

from __future__ import annotations

from litestar import Response, get
from litestar.params import FromPath

from pb.record import service

ROUND = "/api/orgs/{org_id:int}/rounds/{round_id:int}"


@get(ROUND + "/record", opt={"public": True}, tags=["record"], media_type="application/zip",
     summary="The round's election record (zip of canonical JSON); check it offline with `pb verify`",
     responses=None)
async def download_record(org_id: FromPath[int], round_id: FromPath[int]) -> Response[bytes]:
    data = await service.export_record(org_id, round_id)
    return Response(data, media_type="application/zip", headers={
        "Content-Disposition": f'attachment; filename="pb-record-org{org_id}-round{round_id}.zip"'})


@get(ROUND + "/budgets/{budget_id:int}/pabulib", opt={"public": True}, tags=["record"], media_type="text/plain",
     summary="One budget's ballots as a Pabulib .pb file (pabutools reads it), once results are published")
async def download_pabulib(org_id: FromPath[int], round_id: FromPath[int], budget_id: FromPath[int]) -> Response[str]:
    text = await service.budget_as_pabulib(org_id, round_id, budget_id)
    return Response(text, media_type="text/plain; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="pb-org{org_id}-round{round_id}-budget{budget_id}.pb"'})


ROUTES = [download_record, download_pabulib]
