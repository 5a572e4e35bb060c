"""Time of one Stripe reconciliation over N paid tranches (default 1,000), on SQLite or PostgreSQL.

The database holds N tranches paid through Stripe (100 grants of N/100 tranches, inserted directly:
the bench measures reconciliation, not grant creation); the Stripe double (tests/stripe_double.py)
holds the N matching transfers, plus planted discrepancies (``--discrepancies``, default 1 %: each
becomes a finding and an audit event). ``pb.payments.reconcile.reconcile`` then runs through the
real ``stripe`` SDK: in-process (the double as the SDK's http_client) and over 127.0.0.1 (the
SDK's own httpx client, the double served on ``--port``). Best of ``--repeat`` runs, wall and CPU
seconds, printed; nothing is asserted.

Usage::

    .venv/bin/python bench/reconcile.py                      # SQLite, 1,000 tranches
    .venv/bin/python bench/reconcile.py --engine postgres    # a scratch database on the local server
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("PICCOLO_CONF", "pb.piccolo_conf")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pb import db  # noqa: E402
from pb.accounts.tables import Organisation, User  # noqa: E402
from pb.core.clock import utcnow  # noqa: E402
from pb.grants.tables import Grant, Tranche  # noqa: E402
from pb.payments import runtime  # noqa: E402
from pb.payments.domain import transfer_group, transfer_metadata  # noqa: E402
from pb.payments.reconcile import reconcile  # noqa: E402
from pb.proposals.tables import Proposal  # noqa: E402
from pb.rounds.tables import Budget, Round  # noqa: E402
from pb.settings import load_settings  # noqa: E402
from tests.steps_stripe import write_stripe_secrets  # noqa: E402
from tests.stripe_double import StripeDouble  # noqa: E402

DEPLOYMENT = "pb-bench"
GRANTS = 100
AMOUNT = 10_000


async def seed(tranches: int, double: StripeDouble, discrepancies: int) -> int:
    """N paid Stripe tranches in the DB and their transfers at the double; returns the organisation."""
    now = utcnow()
    org = (await Organisation.insert(Organisation(name="Bench city", slug="bench", created_at=now)
                                     ).returning(Organisation.id))[0]["id"]
    user = (await User.insert(User(email="b@bench.example", display_name="b", password_hash="x", created_at=now)
                              ).returning(User.id))[0]["id"]
    round_id = (await Round.insert(Round(organisation=org, title="r", max_proposal_amount=10**9, created_at=now)
                                   ).returning(Round.id))[0]["id"]
    budget = (await Budget.insert(Budget(round=round_id, name="b", kind="citywide", amount=10**12)
                                  ).returning(Budget.id))[0]["id"]
    per_grant = tranches // GRANTS
    account = double._create_account({"configuration": {"recipient": {"capabilities": {
        "stripe_balance": {"stripe_transfers": {"requested": True}}}}}})[1]["id"]
    double.complete_onboarding(account)
    for g in range(GRANTS):
        proposal = (await Proposal.insert(Proposal(
            organisation_id=org, round=round_id, budget=budget, author=user, title=f"p{g}", summary="s",
            status="funded", requested_amount=AMOUNT * per_grant, created_at=now, updated_at=now,
        )).returning(Proposal.id))[0]["id"]
        grant = (await Grant.insert(Grant(
            organisation_id=org, round=round_id, budget=budget, proposal=proposal, grantee_user_id=user,
            amount=AMOUNT * per_grant, planned=AMOUNT * per_grant, paid=AMOUNT * per_grant, created_by=user,
            created_at=now,
        )).returning(Grant.id))[0]["id"]
        rows = [Tranche(grant=grant, position=p + 1, amount=AMOUNT, condition="c", status="paid", planned_by=user,
                        approved_by=user + 1, gateway="stripe", attempt=1, created_at=now, paid_at=now)
                for p in range(per_grant)]
        ids = [r["id"] for r in await Tranche.insert(*rows).returning(Tranche.id)]
        for tranche_id in ids:
            transfer = double.plant_transfer(account, AMOUNT, transfer_metadata(DEPLOYMENT, org, grant, tranche_id, 1),
                                             transfer_group(DEPLOYMENT, grant))
            await Tranche.update({Tranche.reference: transfer["id"],
                                  Tranche.idempotency_key: f"tranche-{tranche_id}-attempt-1"}).where(
                Tranche.id == tranche_id)
    for transfer in list(double.transfers.values())[:discrepancies]:
        transfer["amount"] += 1  # each one an ``amount_differs`` finding
    return org


async def timed(org: int, repeat: int) -> tuple[float, float, int, int]:
    best_wall, best_cpu, findings, transfers = float("inf"), float("inf"), 0, 0
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        report = await reconcile(org)
        best_wall = min(best_wall, time.perf_counter() - wall)
        best_cpu = min(best_cpu, time.process_time() - cpu)
        findings, transfers = len(report.findings), report.transfers_seen
    return best_wall, best_cpu, findings, transfers


async def main(args: argparse.Namespace, url: str, secrets: Path) -> None:
    engine = db.make_engine(url)
    db.bind_engine(engine)
    await db.migrate()
    await db.start(engine)
    await db.prepare_engine(engine)
    double = StripeDouble()
    org = await seed(args.tranches, double, args.discrepancies)
    settings = load_settings({}, database_url=url, secrets_dir=secrets, stripe_enabled=True,
                             deployment_id=DEPLOYMENT)
    secrets_loaded = runtime.check(settings)
    engine_name = "PostgreSQL" if db.is_postgres(engine) else "SQLite"
    runtime.start(settings, secrets_loaded, http_client=double.http_client())
    wall, cpu, findings, transfers = await timed(org, args.repeat)
    print(f"{engine_name}, in-process double: {args.tranches} tranches, {transfers} transfers, {findings} findings: "
          f"{wall:.3f} s wall, {cpu:.3f} s CPU (best of {args.repeat})")
    server = double.serve(args.port)
    runtime.start(settings.with_overrides(stripe_api_base=f"http://127.0.0.1:{args.port}"), secrets_loaded)
    wall, cpu, findings, transfers = await timed(org, args.repeat)
    print(f"{engine_name}, double on 127.0.0.1 (httpx): {args.tranches} tranches, {transfers} transfers, "
          f"{findings} findings: {wall:.3f} s wall, {cpu:.3f} s CPU (best of {args.repeat})")
    server.shutdown()
    runtime.stop()
    await db.stop(engine)


def postgres_scratch(create: bool) -> str:
    import asyncpg

    admin = os.environ.get("PB_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
    name = f"pb_bench_{os.getpid()}"

    async def run() -> None:
        connection = await asyncpg.connect(admin)
        try:
            await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            if create:
                await connection.execute(f'CREATE DATABASE "{name}"')
        finally:
            await connection.close()

    asyncio.run(run())
    return admin.rpartition("/")[0] + "/" + name


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--tranches", type=int, default=1000)
    parser.add_argument("--discrepancies", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--port", type=int, default=8320)
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        database = postgres_scratch(True) if arguments.engine == "postgres" else f"sqlite:///{folder}/bench.sqlite"
        try:
            asyncio.run(main(arguments, database, write_stripe_secrets(Path(folder) / "secrets")))
        finally:
            if arguments.engine == "postgres":
                postgres_scratch(False)
