"""Schemathesis over every API operation, as an anonymous caller, a citizen and an official.

Invariant: no generated request (valid or deliberately invalid) gives a server error, and every
response matches what the OpenAPI document says of it: a documented status, the documented media
type, the documented schema (errors included: problem+json with the Problem shape).

Bounded: PB_SCHEMATHESIS_EXAMPLES examples per operation, user and generation mode (default 3);
PB_SCHEMATHESIS_ONLY limits the run to operations whose "METHOD /path" contains it.
Derandomized in CI through the Hypothesis profile of conftest.py. The app runs in this test's own
event loop (asyncpg needs one loop), against a world with a round in voting and bound voters;
generated ids are swapped for the world's ids half of the time so requests reach real rows.
"""

from __future__ import annotations

import asyncio
import os
import time

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings, strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance, response_schema_conformance, status_code_conformance,
)
from schemathesis.checks import not_a_server_error

from tests.steps_voting import round_in_voting_with_voters

pytestmark = [pytest.mark.db]

EXAMPLES = int(os.environ.get("PB_SCHEMATHESIS_EXAMPLES", "3"))
ONLY = os.environ.get("PB_SCHEMATHESIS_ONLY", "")  # e.g. "POST /api/auth/login", to look at one operation
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
BASE_URL = "http://testserver"
# Logging out with the shared token would sign that user out for the rest of the run.
SIGNS_OUT = {("POST", "/api/auth/logout")}


def _send(kwargs: dict) -> dict:
    """schemathesis' transport kwargs (requests-style) as httpx.AsyncClient.request kwargs."""
    sent = {key: kwargs[key] for key in ("method", "url", "params", "headers", "json") if key in kwargs}
    if kwargs.get("cookies"):
        sent["headers"] = {**sent.get("headers", {}),
                           "cookie": "; ".join(f"{name}={value}" for name, value in kwargs["cookies"].items())}
    if "data" in kwargs:
        data = kwargs["data"]
        sent["content" if isinstance(data, (bytes, str)) else "data"] = data
    return sent


async def _finish(task: asyncio.Task) -> None:
    await task


async def _make_event() -> asyncio.Event:
    return asyncio.Event()


def _world_ids(world: dict) -> dict[str, int]:
    some_proposal = next(iter(world["costs"]))
    return {"org_id": world["org_id"], "round_id": world["round_id"], "budget_id": world["budgets"]["north"],
            "proposal_id": some_proposal, "user_id": 1}


async def _start(app, stop: asyncio.Event) -> asyncio.Task:
    """The app's lifespan held open by one task of this loop (anyio wants it left by the task that entered it)."""
    started = asyncio.Event()

    async def serve() -> None:
        async with app.lifespan():
            started.set()
            await stop.wait()

    task = asyncio.create_task(serve())
    await started.wait()
    return task


def test_no_operation_gives_a_server_error_or_breaks_its_documented_schema(app):
    runner = asyncio.Runner()
    stop = runner.run(_make_event())
    failures: list[str] = []
    counts = {"operations": 0, "requests": 0}
    started = time.monotonic()
    serving = runner.run(_start(app, stop))
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=("127.0.0.1", 40000)), base_url=BASE_URL)
    try:
        openapi = runner.run(client.get("/schema/openapi.json")).json()
        world = runner.run(round_in_voting_with_voters(client, "fuzz"))
        ids = _world_ids(world)
        users = {"anonymous": {}, "citizen": world["voters"][0], "official": world["official"]}
        schema = schemathesis.openapi.from_dict(openapi)

        for result in schema.get_all_operations():
            operation = result.ok()
            if ONLY not in f"{operation.method.upper()} {operation.path}":
                continue
            counts["operations"] += 1
            for user, headers in users.items():
                if headers and (operation.method.upper(), operation.path) in SIGNS_OUT:
                    continue
                for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                    _fuzz(operation, mode, user, headers, ids, client, runner, failures, counts)
    finally:
        runner.run(client.aclose())
        stop.set()
        runner.run(_finish(serving))
        runner.close()
    elapsed = time.monotonic() - started
    print(f"schemathesis: {counts['operations']} operations, {counts['requests']} requests, {elapsed:.1f} s")
    assert not failures, f"{len(failures)} failures:\n" + "\n".join(failures[:30])


def _fuzz(operation, mode, user, headers, ids, client, runner, failures, counts) -> None:
    @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck),
              phases=[Phase.explicit, Phase.generate], database=None)
    @given(case=operation.as_strategy(generation_mode=mode), use_world_ids=st.booleans())
    def run(case, use_world_ids):
        for name in case.path_parameters or {}:
            if name == "org_id" or (use_world_ids and name in ids):
                case.path_parameters[name] = ids[name]
        kwargs = case.as_transport_kwargs(base_url=BASE_URL, headers=dict(headers))
        response = runner.run(client.request(**_send(kwargs)))
        counts["requests"] += 1
        try:
            case.validate_response(response, checks=CHECKS)
        except (Exception, BaseExceptionGroup) as failure:  # noqa: BLE001 - every check failure is collected
            text = str(failure)
            reproduce = text[text.find("curl "):][:1500] if "curl " in text else ""
            failures.append(f"{user} {mode.value} {operation.method.upper()} {operation.path} -> "
                            f"{response.status_code}: {text[:300]} ... {reproduce}")

    try:
        run()
    except Unsatisfiable:  # negative mode, and the operation takes nothing that could be made invalid
        assert mode is GenerationMode.NEGATIVE, f"{operation.method} {operation.path}"
