"""Page timings: median and p95 of the proposal list (500 proposals), a ballot page and a results
page, on SQLite and on PostgreSQL. Figures are printed, never asserted (target: p95 < 50 ms).

Usage (from the repository root):
    .venv/bin/python bench/web_pages.py [--engines sqlite,postgres] [--requests 200]

The app runs in-process behind httpx's ASGI transport (no network, no server process), so the
figures are the app's own time per page: routing, session lookup, queries, templates. Each
request's wall time is taken (the page is I/O-bound: database round trips), and also the
process CPU time per request, which a loaded machine inflates less.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import statistics
import tempfile
import time
from pathlib import Path

os.environ.setdefault("PICCOLO_CONF", "pb.piccolo_conf")

POSTGRES_ADMIN = os.environ.get("PB_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
PROPOSALS = 500


async def _add_proposals(settings, organisation_id: int) -> int:
    """A round in submission holding 500 submitted proposals (written through the services)."""
    from pb import demo
    from pb.accounts import repo as accounts_repo
    from pb.proposals import service as proposals
    from pb.rounds import service as rounds
    from pb.rounds.domain import BudgetSpec

    official = await accounts_repo.actor((await accounts_repo.user_by_email(f"official@{demo.DEMO_DOMAIN}")).id,
                                         organisation_id)
    author = await accounts_repo.actor((await accounts_repo.user_by_email(demo.voter_email(1))).id, organisation_id)
    values = {"title": "Bench round", "description": "", "max_proposal_amount": 10_000_000, "criteria": [],
              "tally_rule": "greedy", "tally_options": {}, "allow_revision": False, "submission_start": None,
              "submission_end": None, "voting_start": None, "voting_end": None}
    round_id = await rounds.create_round(official, values, [BudgetSpec("City-wide", "citywide", None, 50_000_000)])
    await rounds.move_phase(official, round_id, "submission")
    budget_id = (await rounds.round_view(organisation_id, round_id, include_draft=True)).budgets[0].id
    for n in range(PROPOSALS):
        amount = 10_000 + 137 * n
        proposal_id = await proposals.create_proposal(author, round_id, {
            "budget_id": budget_id, "title": f"Proposal number {n} for the park", "summary": f"Summary {n} of a bench.",
            "description": "", "category": "", "requested_amount": amount, "co_proposers": [],
            "cost_lines": [{"label": "Works", "amount": amount}]})
        await proposals.submit(author, proposal_id)
    return round_id


def _figures(samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[max(0, int(round(0.95 * len(ordered))) - 1)]
    return f"median {statistics.median(ordered) * 1000:6.1f} ms   p95 {p95 * 1000:6.1f} ms"


async def _bench(database_url: str, folder: Path, requests: int) -> list[tuple[str, str, str]]:
    import httpx

    from pb import db, demo
    from pb.app import create_app
    from pb.settings import load_settings

    settings = load_settings({}, database_url=database_url, secrets_dir=folder / "secrets", rate_limit_per_minute=0,
                             password_time_cost=1, password_memory_kib=1024, demo_voters=60,
                             public_url="http://bench")
    app = create_app(settings)
    rows = []
    async with app.lifespan():
        report = await demo.ensure_demo(settings)
        org = report.organisation_id
        list_round = await _add_proposals(settings, org)
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            login = await client.get("/login")
            token = re.search(r'name="_csrf_token" value="([^"]+)"', login.text).group(1)
            await client.post("/login", data={"email": demo.voter_email(3), "password": demo.DEMO_PASSWORD,
                                              "_csrf_token": token})
            from pb.rounds import service as rounds

            voting_round = 2  # the demo's round in voting; the ballot of voter 3's district (voted or not)
            budget = next(b for b in (await rounds.round_view(org, voting_round, include_draft=True)).budgets
                          if b.district == demo.voter_district(3))
            ballot = f"/orgs/{org}/rounds/{voting_round}/vote/{budget.id}"
            pages = [
                ("proposal list (500), page 1", f"/orgs/{org}/rounds/{list_round}/proposals"),
                ("proposal list (500), search + cost sort", f"/orgs/{org}/rounds/{list_round}/proposals"
                                                             "?q=number+4&sort=cost_desc&page=2"),
                ("ballot page (signed in)", ballot),
                ("results page (4 budgets)", f"/orgs/{org}/rounds/1/results"),
            ]
            for name, path in pages:
                for _ in range(10):  # warm-up
                    assert (await client.get(path)).status_code == 200, path
                wall, cpu = [], []
                for _ in range(requests):
                    started, started_cpu = time.perf_counter(), time.process_time()
                    response = await client.get(path)
                    wall.append(time.perf_counter() - started)
                    cpu.append(time.process_time() - started_cpu)
                    assert response.status_code == 200, (path, response.status_code, response.text[:300])
                rows.append((name, _figures(wall), _figures(cpu)))
    await db.stop(db.current_engine())
    return rows


async def _postgres_database(name: str, create: bool) -> str:
    import asyncpg

    connection = await asyncpg.connect(POSTGRES_ADMIN)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if create:
            await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    return POSTGRES_ADMIN.rpartition("/")[0] + "/" + name


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--engines", default="sqlite,postgres")
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    for engine in args.engines.split(","):
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            name = f"pb_bench_{os.getpid()}"
            url = f"sqlite:///{folder}/bench.sqlite" if engine == "sqlite" else asyncio.run(
                _postgres_database(name, True))
            try:
                rows = asyncio.run(_bench(url, folder, args.requests))
            finally:
                if engine == "postgres":
                    asyncio.run(_postgres_database(name, False))
        print(f"\n{engine}: {args.requests} requests per page after 10 warm-up requests")
        print(f"  {'page':42} {'wall time':34} process CPU time")
        for name, wall, cpu in rows:
            print(f"  {name:42} {wall}   {cpu}")


if __name__ == "__main__":
    main()
