"""What ballot secrecy costs: sealing one ballot at cast, and opening a round's ballot box at close.

Usage (from the repository root):

    .venv/bin/python bench/ballot_box.py [--ballots 1000 10000] [--postgres postgresql://…/db]

SQLite runs in a temporary file; PostgreSQL only when the URL of a scratch database is given (it is
migrated and the bench adds an organisation and a round per size). Figures are printed, never asserted.
Times: wall seconds of the step and the CPU seconds of this process during it (the database
server's own CPU is not in the second figure on PostgreSQL).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import tempfile
import time
from pathlib import Path

os.environ.setdefault("PICCOLO_CONF", "pb.piccolo_conf")

from pb import db  # noqa: E402
from pb.core.canonical import canonical_json, sha256_hex  # noqa: E402
from pb.core.clock import utcnow  # noqa: E402
from pb.core.keyring import RoundKeyStore  # noqa: E402
from pb.voting import domain, repo  # noqa: E402

PROJECTS = 20  # projects on the ballot of the benchmark budget (approval, at most 5 per ballot)


async def _seed(ballots: int, store: RoundKeyStore) -> tuple[int, float]:
    """A closed round whose box holds ``ballots`` sealed approval ballots; returns (round id, µs per seal)."""
    from pb.accounts.tables import Organisation
    from pb.rounds.tables import Budget, Round

    now = utcnow()
    org = (await Organisation.insert(Organisation(name="Bench", slug=f"bench-{secrets.token_hex(4)}",
                                                  created_at=now)).returning(Organisation.id))[0]["id"]
    round_id = (await Round.insert(Round(organisation=org, title="Bench", phase="closed", max_proposal_amount=1,
                                         created_by=1, created_at=now, updated_at=now)).returning(Round.id))[0]["id"]
    budget_id = (await Budget.insert(Budget(round=round_id, name="B", kind="citywide", amount=10**6))
                 .returning(Budget.id))[0]["id"]
    budget = {"id": budget_id, "ballot_format": domain.APPROVAL,
              "projects": [{"proposal_id": 1000 + n, "cost": 1} for n in range(PROJECTS)]}
    config_hash = sha256_hex(canonical_json(budget))
    size = domain.padded_size(round_id, budget, config_hash)
    keys = store.create(round_id)
    rows = []
    started = time.perf_counter()
    for _ in range(ballots):
        chosen = secrets.SystemRandom().sample(range(1000, 1000 + PROJECTS), secrets.randbelow(5) + 1)
        content = domain.encode_content(domain.ballot_content(round_id, budget_id, chosen, config_hash))
        rows.append((keys.receipt_tag(domain.receipt_of(content)), keys.seal(domain.pad(content, size))))
    per_seal = (time.perf_counter() - started) / ballots * 1e6
    async with db.write_transaction():
        for tag, ciphertext in rows:
            await repo.insert_sealed_ballot(round_id, tag, ciphertext)
    return round_id, per_seal


async def _measure(url: str, ballot_counts: list[int], secrets_dir: Path) -> None:
    from pb.voting import service

    engine = db.make_engine(url)
    db.bind_engine(engine)
    await db.start(engine)
    try:
        await db.prepare_engine(engine)
        await db.migrate()
        store = RoundKeyStore(secrets_dir)
        for count in ballot_counts:
            round_id, per_seal = await _seed(count, store)
            wall, cpu = time.perf_counter(), time.process_time()
            await service._open_sealed(store.load(round_id), 1, round_id, "bench")
            opened_wall, opened_cpu = time.perf_counter() - wall, time.process_time() - cpu
            wall, cpu = time.perf_counter(), time.process_time()
            await service.open_ballot_box(store, round_id, "bench")  # reclaim space, destroy the keys
            reclaim_wall, reclaim_cpu = time.perf_counter() - wall, time.process_time() - cpu
            engine_name = "postgres" if db.is_postgres(engine) else "sqlite"
            print(f"{engine_name:8} {count:>7} ballots | seal at cast {per_seal:6.0f} µs/ballot | "
                  f"open+publish {opened_wall:6.2f} s wall {opened_cpu:6.2f} s cpu | "
                  f"reclaim+destroy {reclaim_wall:6.2f} s wall {reclaim_cpu:6.2f} s cpu")
    finally:
        await db.stop(engine)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ballots", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--postgres", help="URL of an empty scratch PostgreSQL database")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        asyncio.run(_measure(f"sqlite:///{scratch}/bench.sqlite", args.ballots, Path(scratch) / "secrets"))
        if args.postgres:
            asyncio.run(_measure(args.postgres, args.ballots, Path(scratch) / "secrets"))


if __name__ == "__main__":
    main()
