"""Regenerate encoding.json (deliberately, when the record format version changes):
    .venv/bin/python tests/record/golden/make_encoding.py
"""

import json
from pathlib import Path

from pb.record import spec

RECEIPTS = [spec.sha256_hex(str(i)) for i in range(7)]
CONTENT = {"round_id": 3, "budget_id": 7, "projects": [12, 15], "config_hash": "c" * 64, "nonce": "0f" * 16}
CONFIG = {"round_id": 3, "organisation_id": 1, "tally": {"rule": "mes", "options": {"completion": "add1",
          "tie_break": ["min_cost", "lottery"]}},
          "budgets": [{"id": 7, "name": "North", "amount": 100, "ballot_format": "approval",
                       "projects": [{"proposal_id": 12, "title": "a", "cost": 40},
                                    {"proposal_id": 15, "title": "b", "cost": 40},
                                    {"proposal_id": 18, "title": "c", "cost": 60}]}]}
BALLOTS = [{"projects": [12, 15]}, {"projects": [18]}, {"projects": [15, 18]}]
SEED = "5e" * 32


def golden() -> dict:
    content_json = spec.canonical_json(CONTENT)
    document = spec.tally_budget(CONFIG, CONFIG["budgets"][0], BALLOTS, RECEIPTS[:3], SEED)
    return {
        "content_json": content_json,
        "receipt": spec.receipt_of(content_json),
        "ballots_digest": spec.ballots_digest(RECEIPTS),
        "merkle_roots": [spec.merkle_root(RECEIPTS[:n]) for n in range(len(RECEIPTS) + 1)],
        "proof_of_receipt_4_in_7": list(spec.inclusion_proof(RECEIPTS, sorted(RECEIPTS)[4])),
        "audit_event_hash": spec.audit_event_hash(organisation_id=1, seq=2, prev_hash="a" * 64, actor="user:1",
                                                  action="round.frozen", subject="round:3", payload='{"hash":"x"}',
                                                  occurred_at="2026-12-01T10:00:00.000000Z"),
        "checkpoint_message": spec.checkpoint_message(1, 2, "b" * 64, "2026-12-01T10:00:00.000000Z").decode(),
        "lottery_commitment": spec.lottery_commitment(SEED),
        "lottery_draw_seed": spec.lottery_draw_seed(SEED, spec.ballots_digest(RECEIPTS[:3])),
        "result_document": document,
        "result_hash": spec.result_hash(document),
    }


if __name__ == "__main__":
    (Path(__file__).parent / "encoding.json").write_text(json.dumps(golden(), indent=1, sort_keys=True) + "\n")
