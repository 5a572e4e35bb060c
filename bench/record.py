"""Election record at scale: export time, verify time and record size for a round of N ballots.

    .venv/bin/python bench/record.py                      # 100,000 ballots, SQLite in a temp folder
    .venv/bin/python bench/record.py --ballots 20000 --database-url postgresql://postgres@127.0.0.1:5432/pb_bench

The round is set up through the real HTTP API (the test steps: three budgets, seven projects),
then N approval ballots are written straight into the public ballot table (as closing the round
leaves them) with matching participation rows, then the round is closed, tallied (greedy) and
published through the API. Timed: ``export_record`` (database -> zip) and ``verify_record``
(zip -> every check and the recomputed tally), wall and CPU seconds. Targets: export < 10 s,
verify < 30 s for 100,000 ballots.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import secrets
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("PICCOLO_CONF", "pb.piccolo_conf")

CHUNK = 500


def timed(function, *args):
    wall, cpu = time.perf_counter(), time.process_time()
    value = function(*args)
    return value, time.perf_counter() - wall, time.process_time() - cpu


async def timed_async(coroutine):
    wall, cpu = time.perf_counter(), time.process_time()
    value = await coroutine
    return value, time.perf_counter() - wall, time.process_time() - cpu


async def fill_ballots(world: dict, ballots: int, rng: random.Random) -> None:
    """N ballots spread over the three budgets, each listing 1-2 of its projects."""
    from pb.core.canonical import canonical_json, sha256_hex
    from pb.db import write_transaction
    from pb.rounds import repo as rounds_repo
    from pb.voting import domain
    from pb.voting.tables import Ballot, Participation

    config = await rounds_repo.frozen_config(world["round_id"])
    config_hash = sha256_hex(canonical_json(config))
    keys = list(world["budgets"])
    rows, participation = [], []
    for number in range(ballots):
        key = keys[number % len(keys)]
        budget_id = world["budgets"][key]
        options = world["proposals"][key]
        chosen = rng.sample(options, 1 if key == "citywide" else rng.randint(1, min(2, len(options))))
        content = domain.encode_content(domain.ballot_content(world["round_id"], budget_id, chosen, config_hash))
        rows.append(Ballot(receipt=domain.receipt_of(content), round=world["round_id"], budget=budget_id,
                           content=content))
        participation.append(Participation(round=world["round_id"], budget=budget_id,
                                           nullifier=secrets.token_hex(32), channel="online"))
    for start in range(0, ballots, CHUNK):
        async with write_transaction():
            await Ballot.insert(*rows[start:start + CHUNK])
            await Participation.insert(*participation[start:start + CHUNK])


async def run(database_url: str, secrets_dir: Path, ballots: int) -> None:
    import httpx

    from pb.app import create_app
    from pb.record.service import export_record
    from pb.record.verify import verify_record
    from pb.settings import load_settings
    from tests.steps_rounds import advance
    from tests.steps_voting import round_in_voting_with_voters, round_url

    settings = load_settings({}, database_url=database_url, secrets_dir=secrets_dir, rate_limit_per_minute=0,
                             password_time_cost=1, password_memory_kib=1024)
    from pb import db

    db.bind_engine(db.make_engine(database_url))
    await db.migrate()
    app = create_app(settings)
    async with app.lifespan():
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver", timeout=600) as client:
            world = await round_in_voting_with_voters(client, f"bench{secrets.token_hex(3)}")
            _, fill_wall, _ = await timed_async(fill_ballots(world, ballots, random.Random(1)))
            await advance(client, world["org_id"], world["round_id"], world["official"], "closed")
            started = time.perf_counter()
            for step in ("/tally", "/results/publish"):
                response = await client.post(round_url(world, step), headers=world["official"])
                assert response.status_code == 200, response.text
            tally_wall = time.perf_counter() - started
            record, export_wall, export_cpu = await timed_async(export_record(world["org_id"], world["round_id"]))
            again = await export_record(world["org_id"], world["round_id"])
    report, verify_wall, verify_cpu = timed(verify_record, record)
    assert report.ok, report.problems[:5]
    engine = "PostgreSQL" if database_url.startswith("postgres") else "SQLite"
    print(f"{ballots:,} ballots on {engine} (3 budgets, 7 projects, greedy)")
    print(f"  write ballots + participation:   {fill_wall:7.2f} s wall")
    print(f"  close + tally + publish (API):   {tally_wall:7.2f} s wall")
    print(f"  export_record (DB -> zip):       {export_wall:7.2f} s wall  {export_cpu:7.2f} s CPU   target < 10 s")
    print(f"  verify_record (zip -> verdict):  {verify_wall:7.2f} s wall  {verify_cpu:7.2f} s CPU   target < 30 s")
    print(f"  record size:                     {len(record) / 1e6:7.2f} MB ({len(record) / ballots:.0f} bytes per "
          f"ballot); second export byte-identical: {record == again}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ballots", type=int, default=100_000)
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file in a temp folder")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = args.database_url or f"sqlite:///{folder}/bench.sqlite"
        asyncio.run(run(url, Path(folder) / "secrets", args.ballots))


if __name__ == "__main__":
    main()
