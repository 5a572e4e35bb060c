"""The plain home page: what pb is, a link to the API docs, and the rounds of each organisation."""

from __future__ import annotations

from litestar import get
from litestar.response import Template

from pb.accounts import repo as accounts_repo
from pb.rounds import repo as rounds_repo


@get("/", opt={"public": True}, include_in_schema=False)
async def home() -> Template:
    organisations = await accounts_repo.list_organisations()
    rounds_by_org = {organisation.id: await rounds_repo.list_public_rounds(organisation.id)
                     for organisation in organisations}
    return Template(template_name="home.html", context={"organisations": organisations, "rounds": rounds_by_org})


ROUTES = [home]
