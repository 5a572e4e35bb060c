"""Every route runs one guard: the app-wide checks first, then its own (``pb.core.guard_chain``).

Litestar copies the route handler once per guard and request; chaining the guards keeps the cost
at one copy. These tests pin that the chain changes nothing a guard decides: every route still
runs the app-wide path check before its own guards, in declared order, and a refusal stops it.
"""

from __future__ import annotations

import pytest
from litestar.handlers import HTTPRouteHandler

from pb.app import APP_WIDE_GUARDS, create_app
from pb.core.errors import Forbidden
from pb.core.guard_chain import chain, chain_guards, guards_of
from pb.core.request_checks import path_values_are_sane
from tests.steps_voting import ballots_url, cast, round_in_voting_with_voters

pytestmark = pytest.mark.anyio


def _http_handlers(app):
    for route in app.routes:
        for handler in getattr(route, "route_handlers", ()):
            if isinstance(handler, HTTPRouteHandler):
                yield route.path, handler


def test_every_route_of_the_app_runs_the_app_wide_checks_first_in_one_guard(settings):
    create_app(settings)  # a second app in the process must not chain the chains again
    app = create_app(settings)
    checked = 0
    for path, handler in _http_handlers(app):
        # Litestar's own handlers: the OpenAPI pages and the automatic OPTIONS answer of every
        # route (the allowed methods); neither reads a path value into pb
        if path.startswith("/schema") or handler.http_methods == {"OPTIONS"}:
            continue
        guards = handler.resolve_guards()
        assert len(guards) == 1, (path, guards)
        members = guards_of(guards[0])
        assert members[:len(APP_WIDE_GUARDS)] == APP_WIDE_GUARDS, path
        assert members.count(path_values_are_sane) == 1, path
        checked += 1
    assert checked > 100  # the API, the pages and the static files


def test_the_cast_route_runs_its_guards_in_declared_order(settings):
    app = create_app(settings)
    [handler] = [h for path, h in _http_handlers(app) if path.endswith("/budgets/{budget_id:int}/ballots")
                 and "POST" in h.http_methods]
    names = [member.__name__ for member in guards_of(handler.resolve_guards()[0])]
    assert names == ["path_values_are_sane", "requires_voter_citizen", "rate_limited_casting"]


async def test_a_chain_runs_its_guards_in_order_and_stops_at_the_first_refusal():
    ran: list[str] = []

    async def first(connection, handler):
        ran.append("first")

    async def refuses(connection, handler):
        ran.append("refuses")
        raise Forbidden("no")

    async def last(connection, handler):
        ran.append("last")

    with pytest.raises(Forbidden):
        await chain([first, refuses, last])(None, None)
    assert ran == ["first", "refuses"]
    ran.clear()
    await chain([chain([first]), last])(None, None)  # a chain in a chain is flattened
    assert ran == ["first", "last"]


def test_a_plain_function_guard_is_refused_when_chained():
    def not_async(connection, handler):
        return None

    with pytest.raises(TypeError, match="not_async"):
        chain([not_async])
    async def page() -> None:
        return None

    handler = HTTPRouteHandler(path="/x", http_method="GET", guards=[not_async])(page)
    with pytest.raises(TypeError):
        chain_guards([handler], first=APP_WIDE_GUARDS)


@pytest.mark.db
async def test_the_chained_cast_route_still_refuses_a_path_naming_nothing_before_the_voter_guard(client):
    world = await round_in_voting_with_voters(client)
    project = world["proposals"]["north"][0]
    url = ballots_url(world, "north").replace(f"/api/orgs/{world['org_id']}/", f"/api/orgs/{2**40}/")
    response = await client.post(url, json={"projects": [project]}, headers=world["voters"][0])
    assert response.status_code == 404 and "no organisation" in response.json()["detail"]
    assert (await cast(client, world, world["voters"][0], "north", [project])).status_code == 201
