"""JSON API for payments: the treasurer (an official) pays or claws back a tranche."""

from __future__ import annotations

from litestar import post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from pb.accounts.domain import OFFICIAL, Actor
from pb.accounts.guards import requires_role
from pb.grants.api import GRANT, as_out
from pb.grants.schemas import TrancheOut
from pb.payments import service
from pb.payments.schemas import PayTranche, ReverseTranche

TRANCHE = GRANT + "/tranches/{tranche_id:int}"


@post(TRANCHE + "/pay", guards=[requires_role(OFFICIAL)], tags=["payments"], status_code=200,
      summary="Pay an approved tranche (ledger: record the bank transfer's reference); retries a failed one")
async def pay_tranche(actor: NamedDependency[Actor], grant_id: FromPath[int], tranche_id: FromPath[int],
                      data: JSONBody[PayTranche]) -> TrancheOut:
    return as_out(await service.pay_tranche(actor, grant_id, tranche_id, data.reference), TrancheOut)


@post(TRANCHE + "/reverse", guards=[requires_role(OFFICIAL)], tags=["payments"], status_code=200,
      summary="Claw back a paid tranche (whole tranche): the grant's paid and planned sums drop")
async def reverse_tranche(actor: NamedDependency[Actor], grant_id: FromPath[int], tranche_id: FromPath[int],
                          data: JSONBody[ReverseTranche]) -> TrancheOut:
    return as_out(await service.reverse_tranche(actor, grant_id, tranche_id, data.reference), TrancheOut)


ROUTES = [pay_tranche, reverse_tranche]
