"""The payment worker is a real process (``pb payments work --once``) talking to the Stripe double
over 127.0.0.1; it is killed with SIGKILL (1) after the outbox row was written, before its call did
anything at Stripe, and (2) after Stripe made the transfer, before pb recorded it. After a restart
there is exactly one transfer and the tranche is paid, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.steps_stripe import (
    DEPLOYMENT, approved, double, gateway, onboarded_grant, pay, stripe_client, stripe_settings,  # noqa: F401
    tranche_state, transfer_posts,
)

pytestmark = [pytest.mark.anyio, pytest.mark.db]

ROOT = Path(__file__).resolve().parents[2]
DOUBLE_PORT = 8311
LEASE_SECONDS = 1


@pytest.fixture
def served(double):
    server = double.serve(DOUBLE_PORT)
    yield double
    server.shutdown()
    server.server_close()


def _worker(settings) -> subprocess.Popen:
    env = {**os.environ, "PB_DATABASE_URL": settings.database_url, "PB_SECRETS_DIR": str(settings.secrets_dir),
           "PB_PAYMENTS_STRIPE_ENABLED": "1", "PB_PAYMENTS_STRIPE_API_BASE": f"http://127.0.0.1:{DOUBLE_PORT}",
           "PB_PAYMENTS_DEPLOYMENT_ID": DEPLOYMENT, "PB_PAYMENTS_LEASE_SECONDS": str(LEASE_SECONDS),
           "PICCOLO_CONF": "pb.piccolo_conf"}
    return subprocess.Popen([sys.executable, "-m", "pb.cli", "payments", "work", "--once"], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


async def _kill_when_held(process: subprocess.Popen, hold) -> None:
    arrived = await asyncio.to_thread(hold.arrived.wait, 60)
    assert arrived, process.stderr.read() if process.poll() is not None else "the worker never called Stripe"
    os.kill(process.pid, signal.SIGKILL)
    assert await asyncio.to_thread(process.wait, 30) == -signal.SIGKILL
    hold.release.set()


async def _restart(settings) -> str:
    await asyncio.sleep(LEASE_SECONDS + 0.2)  # the dead worker's lease runs out
    process = _worker(settings)
    out, err = await asyncio.to_thread(process.communicate, timeout=60)
    assert process.returncode == 0, err
    return out


@pytest.mark.parametrize("moment", ["before_the_call", "after_the_call"])
async def test_a_worker_killed_around_the_call_pays_exactly_once_after_restart(
        stripe_client, stripe_settings, served, moment):
    double = served
    paid = await onboarded_grant(stripe_client, double)
    gateway().send_inline = False  # the request only writes the outbox row; the worker process sends
    tranche = await approved(stripe_client, paid, 1200)
    assert (await pay(stripe_client, paid, tranche["id"])).json()["status"] == "submitted"
    state = await tranche_state(stripe_client, paid, tranche["id"])
    assert [o["state"] for o in state["orders"]] == ["pending"] and not double.transfers

    hold = double.hold("POST", "/v1/transfers", "before" if moment == "before_the_call" else "after")
    await _kill_when_held(_worker(stripe_settings), hold)
    assert len(double.transfers) == (0 if moment == "before_the_call" else 1)
    state = await tranche_state(stripe_client, paid, tranche["id"])
    assert state["status"] == "submitted" and state["orders"][0]["sends"] == 1

    out = await _restart(stripe_settings)
    assert ("adopted: 1" if moment == "after_the_call" else "done: 1") in out
    assert len(double.transfer_for(tranche["id"])) == 1
    state = await tranche_state(stripe_client, paid, tranche["id"])
    assert state["status"] == "paid" and state["reference"] == double.transfer_for(tranche["id"])[0]["id"]
    assert state["orders"][0]["state"] == "done"
    # one key for every call that reached Stripe: a resend could only ever have been replayed
    assert {h["idempotency-key"] for h in transfer_posts(double)} == {f"{DEPLOYMENT}:transfer:{tranche['id']}:1"}
