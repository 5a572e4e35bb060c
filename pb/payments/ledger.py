"""The offline ledger: the city pays by its own bank; the treasurer's bank reference IS the payment.

Nothing leaves pb, so an attempt always settles at once with the reference the treasurer gave;
repeating the same idempotency key therefore records the same single payment. A clawback through
the ledger is recorded by ``pb.payments.service`` with the bank reference of the returned money.
"""

from __future__ import annotations

from pb.payments.domain import FAILED, PAID, PaymentOrder, PaymentOutcome


class LedgerGateway:
    name = "ledger"
    needs_reference = True

    async def disburse(self, order: PaymentOrder) -> PaymentOutcome:
        return self._confirmed(order)

    @staticmethod
    def _confirmed(order: PaymentOrder) -> PaymentOutcome:
        if not order.reference:
            return PaymentOutcome(FAILED, detail="The ledger needs the bank reference of the transfer.")
        return PaymentOutcome(PAID, reference=order.reference)
