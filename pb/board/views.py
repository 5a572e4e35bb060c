"""The receipt page: a voter checks their receipt and takes away a proof to verify offline."""

from __future__ import annotations

import json
import re
from typing import Annotated

import msgspec
from litestar import get
from litestar.params import FromPath, Parameter
from litestar.response import Template

from pb.board import service
from pb.core.errors import DomainError

RECEIPT = re.compile(r"^[0-9a-f]{64}$")


@get("/orgs/{org_id:int}/rounds/{round_id:int}/receipt", opt={"public": True}, include_in_schema=False)
async def receipt_page(org_id: FromPath[int], round_id: FromPath[int],
                       receipt: Annotated[str, Parameter(max_length=200)] = "") -> Template:
    context: dict = {"org_id": org_id, "round_id": round_id, "receipt": receipt, "proof": None, "error": None}
    wanted = receipt.strip().lower()
    if wanted and not RECEIPT.match(wanted):
        context["error"] = "A receipt is 64 characters long, made of the digits 0-9 and the letters a-f."
    elif wanted:
        try:
            proof = await service.receipt_status(org_id, round_id, wanted)
            context["proof"] = proof
            context["proof_json"] = json.dumps(msgspec.to_builtins(proof), indent=1)
        except DomainError as error:
            context["error"] = error.detail
    return Template(template_name="receipt.html", context=context)


ROUTES = [receipt_page]
