"""Reconciliation: every Stripe tranche of an organisation against Stripe's transfers and reversals.

Each discrepancy is reported by class (``pb.payments.domain.FINDING_CLASSES``) and written as an
audit event. Only what is provably safe is fixed: a tranche pb still waits for, for which Stripe
holds exactly one transfer of exactly its amount, is recorded paid (and a pending pb clawback that
Stripe already made is recorded done) through the same functions the worker uses.
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass

from pb.audit import service as audit
from pb.core.canonical import canonical_json
from pb.core.clock import utcnow
from pb.db import write_transaction
from pb.grants import repo as grants_repo
from pb.grants.domain import PAID, REVERSED, SUBMITTED
from pb.payments import repo, service
from pb.payments.domain import (
    AMOUNT_DIFFERS, MISSING_AT_STRIPE, REVERSED_OUTSIDE_PB, SETTLED_AT_STRIPE, UNKNOWN_AT_STRIPE, Finding,
)
from pb.payments.stripe_gateway import TransferView
from pb.payments.webhooks import sync_transfer


@dataclass
class Report:
    organisation_id: int
    tranches_checked: int
    transfers_seen: int
    findings: list[Finding]
    seconds: float

    def as_dict(self) -> dict:
        return {"organisation_id": self.organisation_id, "tranches_checked": self.tranches_checked,
                "transfers_seen": self.transfers_seen, "seconds": round(self.seconds, 3),
                "findings": [f.as_dict() for f in self.findings]}


async def stripe_transfers() -> list[TransferView]:
    """Every transfer of the platform that names this deployment."""
    gateway = service.stripe_or_conflict()
    return [t async for t in gateway.all_transfers() if t.metadata.get("pb_deployment") == gateway.deployment_id]


async def reconcile_all() -> list[Report]:
    transfers = await stripe_transfers()
    organisations = set(await repo.organisations_on("stripe"))
    organisations |= {int(t.metadata["organisation_id"]) for t in transfers
                      if t.metadata.get("organisation_id", "").isdigit()}
    return [await reconcile(org, transfers) for org in sorted(organisations)]


async def reconcile(organisation_id: int, transfers: list[TransferView] | None = None) -> Report:
    started, clock = utcnow(), time.perf_counter()
    transfers = await stripe_transfers() if transfers is None else transfers
    mine = [t for t in transfers if t.metadata.get("organisation_id") == str(organisation_id)]
    by_tranche: dict[int | None, list[TransferView]] = defaultdict(list)
    for transfer in mine:
        by_tranche[transfer.tranche_id].append(transfer)
    tranches = await grants_repo.stripe_tranches(organisation_id, (SUBMITTED, PAID, REVERSED))
    findings: list[Finding] = []
    for tranche in tranches:
        findings += await _check(tranche, by_tranche.pop(tranche.id, []))
    for tranche_id, left in by_tranche.items():
        for transfer in left:
            findings.append(Finding(UNKNOWN_AT_STRIPE, f"transfer:{transfer.id}",
                                    f"Stripe holds transfer {transfer.id} of {transfer.amount} naming tranche "
                                    f"{tranche_id}, which pb never paid through Stripe.", transfer_id=transfer.id,
                                    tranche_id=tranche_id))
    report = Report(organisation_id, len(tranches), len(mine), findings, time.perf_counter() - clock)
    async with write_transaction():
        for finding in findings:
            await audit.record(organisation_id, "service:reconciliation", "payments.reconciliation_finding",
                               finding.subject, finding.as_dict())
        await repo.insert_run(organisation_id, started, len(tranches), len(mine),
                              canonical_json([f.as_dict() for f in findings]))
        await audit.record(organisation_id, "service:reconciliation", "payments.reconciled",
                           f"organisation:{organisation_id}",
                           {"tranches": len(tranches), "transfers": len(mine), "findings": len(findings)})
    return report


async def _check(tranche, found: list[TransferView]) -> list[Finding]:
    subject = f"tranche:{tranche.id}"
    if tranche.status == SUBMITTED:
        if len(found) == 1 and found[0].amount == tranche.amount:
            await sync_transfer(found[0])
            return [Finding(SETTLED_AT_STRIPE, subject, f"Stripe made transfer {found[0].id} for this tranche; "
                            "pb recorded it as paid.", fixed=True, tranche_id=tranche.id, transfer_id=found[0].id)]
        return [Finding(AMOUNT_DIFFERS, subject, f"Stripe transfer {t.id} is {t.amount}, the tranche {tranche.amount}.",
                        tranche_id=tranche.id, transfer_id=t.id) for t in found if t.amount != tranche.amount]
    findings = []
    recorded = next((t for t in found if t.id == tranche.reference), None)
    if recorded is None:
        findings.append(Finding(MISSING_AT_STRIPE, subject, f"pb recorded transfer {tranche.reference} of "
                                f"{tranche.amount}; Stripe has no such transfer for this tranche.",
                                tranche_id=tranche.id, transfer_id=tranche.reference))
    for extra in found:
        if extra is not recorded:
            findings.append(Finding(UNKNOWN_AT_STRIPE, f"transfer:{extra.id}", f"A second transfer {extra.id} of "
                                    f"{extra.amount} names tranche {tranche.id}.", tranche_id=tranche.id,
                                    transfer_id=extra.id))
    if recorded is not None:
        if recorded.amount != tranche.amount:
            findings.append(Finding(AMOUNT_DIFFERS, subject, f"Stripe transfer {recorded.id} is {recorded.amount}, "
                                    f"the tranche {tranche.amount}.", tranche_id=tranche.id, transfer_id=recorded.id))
        if recorded.amount_reversed > tranche.reversed_amount:
            await sync_transfer(recorded)  # a pb clawback Stripe already made is recorded (safe)
            current = await grants_repo.tranche_by_id(tranche.id)
            if recorded.amount_reversed > current.reversed_amount:
                findings.append(Finding(
                    REVERSED_OUTSIDE_PB, subject, f"Stripe reversed {recorded.amount_reversed} of transfer "
                    f"{recorded.id}; pb knows of {current.reversed_amount}.", tranche_id=tranche.id,
                    transfer_id=recorded.id))
    return findings
