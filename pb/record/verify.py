"""``pb verify``: check an election record with nothing but the record, the stdlib and ``pb.tally``.

Fails closed: every check that cannot be made is a problem, and the verifier reports **every**
problem it finds (which file, budget, ballot, event or project), never just the first. The
Decidim verifier printed "[ERROR]" and then returned success; here the exit status is non-zero
whenever the problem list is not empty.

Run as ``pb verify RECORD.zip`` or, without the rest of pb installed, ``python -m pb.record.verify``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Sequence

from pb.record import ed25519, format as fmt, spec


@dataclass
class Report:
    problems: list[str] = field(default_factory=list)
    facts: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def problem(self, text: str) -> None:
        self.problems.append(text)


def short(digest: str) -> str:
    return digest[:12] + "…" if isinstance(digest, str) and len(digest) > 12 else str(digest)


# --- files and manifest ----------------------------------------------------------------------------


REQUIRED = (fmt.ROUND, fmt.CONFIG, fmt.RESULTS, fmt.LOTTERY, fmt.AUDIT, fmt.CHECKPOINTS)


def _check_manifest(record: fmt.Record, report: Report) -> None:
    listed = record.manifest.get("files") or {}
    for name, digest in sorted(listed.items()):
        if name not in record.files:
            report.problem(f"file {name}: listed in MANIFEST but missing from the record")
        elif hashlib.sha256(record.files[name]).hexdigest() != digest:
            report.problem(f"file {name}: its SHA-256 differs from MANIFEST (the file was altered)")
    for name in sorted(set(record.files) - set(listed)):
        report.problem(f"file {name}: not listed in MANIFEST (added to the record)")
    for name in REQUIRED:
        if name not in record.files:
            report.problem(f"file {name}: required but missing")


def _load(record: fmt.Record, name: str, report: Report, *, lines: bool = False) -> Any:
    if name not in record.files:
        return None
    try:
        return record.lines(name) if lines else record.json(name)
    except (ValueError, UnicodeDecodeError) as error:
        report.problem(f"file {name}: not valid JSON ({error})")
        return None


# --- audit chain and checkpoints ---------------------------------------------------------------------


def _check_chain(events: list[dict[str, Any]], organisation_id: int, report: Report) -> dict[int, dict[str, Any]]:
    """Every link and every full event's hash; returns the events by seq."""
    by_seq: dict[int, dict[str, Any]] = {}
    prev_hash, expected = "0" * 64, 1
    for event in events:
        seq = event.get("seq")
        if seq != expected:
            report.problem(f"audit log: event {expected} is missing (next event in the file is {seq})")
            expected = seq if isinstance(seq, int) else expected
        if event.get("prev_hash") != prev_hash:
            report.problem(f"audit event {seq}: prev_hash does not link to event {expected - 1} "
                           "(an event before it was altered, dropped or inserted)")
        if "action" in event:
            recomputed = spec.audit_event_hash(
                organisation_id=event.get("organisation_id"), seq=seq, prev_hash=event.get("prev_hash"),
                actor=event.get("actor"), action=event.get("action"), subject=event.get("subject"),
                payload=event.get("payload"), occurred_at=event.get("occurred_at"))
            if recomputed != event.get("hash"):
                report.problem(f"audit event {seq} ({event.get('action')}): content does not match its hash "
                               "(the event was altered)")
            if event.get("organisation_id") != organisation_id:
                report.problem(f"audit event {seq}: belongs to organisation {event.get('organisation_id')}, "
                               f"not {organisation_id}")
        if isinstance(seq, int):
            by_seq[seq] = event
        prev_hash, expected = event.get("hash"), (seq + 1 if isinstance(seq, int) else expected + 1)
    return by_seq


def check_checkpoints(checkpoints: Iterable[Mapping[str, Any]], by_seq: Mapping[int, Mapping[str, Any]],
                      organisation_id: int, report: Report, *, trusted_keys: Sequence[str] = (),
                      source: str = "record") -> int:
    """Signature of each checkpoint, and that the log holds the event it signed with that hash.

    A checkpoint beyond the log's last event means events were cut off the end: the one kind of
    tampering a hash chain cannot show by itself. Returns how many checkpoints verified.
    """
    head = max(by_seq, default=0)
    good = 0
    for checkpoint in checkpoints:
        seq, digest = checkpoint.get("seq"), checkpoint.get("hash")
        where = f"checkpoint at seq {seq} ({source})"
        try:
            message = spec.checkpoint_message(checkpoint["organisation_id"], seq, digest, checkpoint["signed_at"])
            valid = ed25519.verify(bytes.fromhex(checkpoint["public_key"]), message,
                                   bytes.fromhex(checkpoint["signature"]))
        except (KeyError, ValueError, TypeError):
            valid = False
        if not valid:
            report.problem(f"{where}: the signature is not valid (forged or altered checkpoint)")
            continue
        if trusted_keys and checkpoint["public_key"] not in trusted_keys:
            report.problem(f"{where}: signed by key {short(checkpoint['public_key'])}, which is not one of the "
                           "keys you trust (--public-key)")
            continue
        if checkpoint["organisation_id"] != organisation_id:
            report.problem(f"{where}: signs organisation {checkpoint['organisation_id']}'s chain, not "
                           f"{organisation_id}'s")
            continue
        if not isinstance(seq, int) or seq > head:
            if source == "record" or not isinstance(seq, int):
                report.problem(f"{where}: the audit log ends at event {head}, but event {seq} was signed "
                               "(events were cut off the end of the log)")
            continue
        event = by_seq.get(seq)
        if event is None:
            report.problem(f"{where}: event {seq} is missing from the audit log")
        elif event.get("hash") != digest:
            report.problem(f"{where}: event {seq} in the log has hash {short(event.get('hash'))}, the signed "
                           f"head is {short(digest)} (history was rewritten)")
        else:
            good += 1
    return good


def _round_event(by_seq: Mapping[int, Mapping[str, Any]], round_id: int, action: str) -> Mapping[str, Any] | None:
    for seq in sorted(by_seq):
        event = by_seq[seq]
        if event.get("action") == action and event.get("subject") == f"round:{round_id}":
            return event
    return None


def _payload(event: Mapping[str, Any]) -> dict[str, Any]:
    try:
        payload = json.loads(event.get("payload") or "{}")
    except ValueError:
        return {}
    return payload if isinstance(payload, dict) else {}


# --- ballots ----------------------------------------------------------------------------------------


@dataclass
class BudgetBallots:
    receipts: list[str]
    contents: list[dict[str, Any]]


def _check_ballots(record: fmt.Record, budget: Mapping[str, Any], config_hash: str, round_id: int,
                   report: Report) -> BudgetBallots:
    budget_id = int(budget["id"])
    name = fmt.ballots_file(budget_id)
    where = f"budget {budget_id}"
    rows = _load(record, name, report, lines=True)
    if rows is None:
        report.problem(f"{where}: ballot file {name} is missing")
        return BudgetBallots([], [])
    projects = {int(p["proposal_id"]) for p in budget["projects"]}
    receipts, contents, previous = [], [], ""
    for line, row in enumerate(rows, start=1):
        receipt, content = row.get("receipt"), row.get("content")
        label = f"{where}: ballot {short(receipt)} (line {line})"
        if not isinstance(content, dict) or not isinstance(receipt, str):
            report.problem(f"{label}: not a receipt with a content")
            continue
        if spec.receipt_of(spec.canonical_json(content)) != receipt:
            report.problem(f"{label}: the receipt does not match the ballot's content (ballot altered)")
        if content.get("round_id") != round_id or content.get("budget_id") != budget_id:
            report.problem(f"{label}: cast in round {content.get('round_id')}, budget {content.get('budget_id')}")
        if content.get("config_hash") != config_hash:
            report.problem(f"{label}: cast under another configuration ({short(content.get('config_hash'))})")
        unknown = sorted(set(content.get("projects") or ()) - projects)
        if unknown:
            report.problem(f"{label}: lists projects that are not on this budget's ballot: {unknown}")
        if receipt <= previous:
            report.problem(f"{label}: out of order or repeated (ballots are sorted by receipt, each once)")
        previous = receipt
        receipts.append(receipt)
        contents.append(content)
    return BudgetBallots(receipts, contents)


# --- results -----------------------------------------------------------------------------------------


def _differences(recorded: Mapping[str, Any], recomputed: Mapping[str, Any], where: str) -> list[str]:
    found = []
    if recorded.get("winners") != recomputed.get("winners"):
        found.append(f"{where}: winners recorded {recorded.get('winners')} but the ballots give "
                     f"{recomputed.get('winners')}")
    old = {p.get("proposal_id"): p for p in recorded.get("projects") or ()}
    for project in recomputed.get("projects") or ():
        pid = project["proposal_id"]
        mine = old.get(pid)
        if mine is None:
            found.append(f"{where}, project {pid}: missing from the recorded result")
            continue
        for key in sorted(set(project) | set(mine)):
            if project.get(key) != mine.get(key):
                found.append(f"{where}, project {pid}: {key} recorded {mine.get(key)!r}, recomputed "
                             f"{project.get(key)!r}")
    for pid in sorted(set(old) - {p["proposal_id"] for p in recomputed.get("projects") or ()}, key=str):
        found.append(f"{where}, project {pid}: in the recorded result but not on the ballot")
    for key in sorted(set(recorded) | set(recomputed)):
        if key not in ("winners", "projects") and recorded.get(key) != recomputed.get(key):
            found.append(f"{where}: {key} recorded {recorded.get(key)!r}, recomputed {recomputed.get(key)!r}")
    return found


# --- the whole record --------------------------------------------------------------------------------


def verify_record(data: bytes, *, checkpoints: Sequence[Mapping[str, Any]] = (),
                  trusted_keys: Sequence[str] = ()) -> Report:
    """Every check of docs/election-record.md; ``checkpoints`` are heads the auditor kept."""
    report = Report()
    try:
        record = fmt.read_record(data)
    except fmt.RecordError as error:
        report.problem(f"record: {error}")
        return report
    _check_manifest(record, report)
    summary, config = _load(record, fmt.ROUND, report), _load(record, fmt.CONFIG, report)
    if not isinstance(summary, dict) or not isinstance(config, dict):
        report.problem("record: round.json and config.json are needed for every further check")
        return report
    round_id, organisation_id = summary.get("round_id"), summary.get("organisation_id")
    config_hash = spec.sha256_hex(spec.canonical_json(config))
    if summary.get("config_hash") != config_hash:
        report.problem(f"config: its hash is {short(config_hash)}, round.json says {short(summary.get('config_hash'))}")
    if (config.get("round_id"), config.get("organisation_id")) != (round_id, organisation_id):
        report.problem("config: belongs to another round or organisation than round.json names")

    events = _load(record, fmt.AUDIT, report, lines=True) or []
    by_seq = _check_chain(events, organisation_id, report)
    head = summary.get("audit_head") or {}
    last = events[-1] if events else {}
    if (last.get("seq"), last.get("hash")) != (head.get("seq"), head.get("hash")):
        report.problem(f"audit log: ends at event {last.get('seq')}, but round.json names head "
                       f"{head.get('seq')} {short(head.get('hash'))} (the log was truncated or extended)")
    own = (_load(record, fmt.CHECKPOINTS, report) or {}).get("checkpoints") or []
    signed = check_checkpoints(own, by_seq, organisation_id, report, trusted_keys=trusted_keys)
    signed += check_checkpoints(checkpoints, by_seq, organisation_id, report, trusted_keys=trusted_keys,
                                source="given")

    frozen = _round_event(by_seq, round_id, "round.frozen")
    if frozen is None:
        report.problem(f"audit log: no round.frozen event for round {round_id}")
    elif _payload(frozen).get("hash") != config_hash:
        report.problem(f"audit event {frozen['seq']} (round.frozen): the configuration frozen at voting open has hash "
                       f"{short(_payload(frozen).get('hash'))}, config.json has {short(config_hash)} "
                       "(the rule or configuration was changed)")
    tallied = _round_event(by_seq, round_id, "results.tallied")
    if tallied is None:
        report.problem(f"audit log: no results.tallied event for round {round_id}")
    if _round_event(by_seq, round_id, "results.published") is None:
        report.problem(f"audit log: no results.published event for round {round_id}")
    tallied_payload = _payload(tallied) if tallied else {}

    lottery = _load(record, fmt.LOTTERY, report) or {}
    seed = lottery.get("seed")
    if spec.uses_lottery(config):
        commitment = (config.get("tally") or {}).get("lottery_commitment")
        if not isinstance(seed, str) or not commitment:
            report.problem("lottery: the tie-break draws lots but the record lacks the commitment or the revealed seed")
            seed = None
        elif spec.lottery_commitment(seed) != commitment:
            report.problem("lottery: the revealed seed does not match the commitment in the frozen configuration")
        elif tallied_payload.get("lottery_seed") != seed:
            report.problem("lottery: the seed in lottery.json is not the one revealed in the results.tallied event")

    budget_claims = {b.get("budget_id"): b for b in summary.get("budgets") or ()}
    results = {doc.get("budget_id"): doc for doc in (_load(record, fmt.RESULTS, report) or ())}
    logged_hashes = tallied_payload.get("result_hashes") or {}
    ballots_total = 0
    known_files = {fmt.ballots_file(int(b["id"])) for b in config.get("budgets") or ()}
    for name in sorted(n for n in record.files if n.startswith(fmt.BALLOTS_DIR) and n not in known_files):
        report.problem(f"file {name}: ballots for a budget that is not in the frozen configuration")
    for budget in config.get("budgets") or ():
        budget_id = int(budget["id"])
        where = f"budget {budget_id}"
        ballots = _check_ballots(record, budget, config_hash, round_id, report)
        ballots_total += len(ballots.receipts)
        claim = budget_claims.get(budget_id) or {}
        participation = sum((claim.get("participation") or {}).values())
        if len(ballots.receipts) != participation:
            report.problem(f"{where}: {len(ballots.receipts)} ballots but {participation} voters took part "
                           "(a ballot was added or dropped)")
        root, digest = spec.merkle_root(ballots.receipts), spec.ballots_digest(ballots.receipts)
        if claim.get("merkle_root") != root:
            report.problem(f"{where}: the ballots' Merkle root is {short(root)}, the record says "
                           f"{short(claim.get('merkle_root'))}")
        if claim.get("ballots_digest") != digest:
            report.problem(f"{where}: the ballots' digest is {short(digest)}, the record says "
                           f"{short(claim.get('ballots_digest'))}")
        recorded = results.get(budget_id)
        if recorded is None:
            report.problem(f"{where}: no result in results.json")
            continue
        if logged_hashes.get(str(budget_id)) != spec.result_hash(recorded):
            report.problem(f"{where}: the result differs from the one whose hash the tally logged "
                           f"(results.tallied names {short(logged_hashes.get(str(budget_id)))})")
        try:
            recomputed = spec.tally_budget(config, budget, ballots.contents, ballots.receipts, seed)
        except (ValueError, KeyError, TypeError) as error:
            report.problem(f"{where}: the frozen rule could not be run on the ballots: {error}")
            continue
        for problem in _differences(recorded, recomputed, where):
            report.problem(problem)
        if recorded == recomputed:
            winners = ", ".join(map(str, recomputed["winners"])) or "none"
            report.facts.append(f"{where} ({budget.get('name', '')}): {len(ballots.receipts)} ballot(s), "
                                f"rule {recomputed['rule']}, winners {winners}, spent {recomputed['spent']} "
                                "— recomputed identically")
    for budget_id in sorted(set(results) - {int(b["id"]) for b in config.get("budgets") or ()}, key=str):
        report.problem(f"budget {budget_id}: a result for a budget that is not in the frozen configuration")
    keys = sorted({c.get("public_key", "") for c in [*own, *checkpoints]})
    report.facts[:0] = [
        f"round {round_id} of organisation {organisation_id}: {summary.get('title', '')!r}",
        f"frozen configuration {config_hash}",
        f"{ballots_total} ballots in {len(config.get('budgets') or ())} budgets",
        f"audit log: {len(events)} events, head {head.get('seq')} {head.get('hash')}",
        f"checkpoints: {signed} verified, signed by key(s) {', '.join(keys) or 'none'} — compare with the key "
        "the organisation publishes",
    ]
    if spec.uses_lottery(config) and seed:
        report.facts.append(f"lottery seed revealed {seed}, matches the commitment made at voting open")
    return report


# --- one receipt -------------------------------------------------------------------------------------


def verify_receipt(receipt: str, *, record: bytes | None = None, proof: Mapping[str, Any] | None = None) -> Report:
    """A voter's check: is my receipt among the counted ballots?

    With a record: the ballot is found and its inclusion proof recomputed against the budget's root.
    With a proof from the bulletin board (``{"receipt", "index", "size", "path", "root"}``): the
    proof must lead to the root; given both, the root must be the record's too.
    """
    report = Report()
    receipt = receipt.strip().lower()
    roots: dict[int, str] = {}
    if record is not None:
        try:
            files = fmt.read_record(record)
        except fmt.RecordError as error:
            report.problem(f"record: {error}")
            return report
        summary = files.json(fmt.ROUND)
        found = False
        for claim in summary.get("budgets") or ():
            budget_id = claim["budget_id"]
            roots[budget_id] = claim["merkle_root"]
            rows = files.lines(fmt.ballots_file(budget_id))
            receipts = [row["receipt"] for row in rows]
            if receipt in receipts:
                found = True
                content = rows[receipts.index(receipt)]["content"]
                if spec.receipt_of(spec.canonical_json(content)) != receipt:
                    report.problem(f"receipt {receipt}: the recorded ballot does not hash to it (altered)")
                index, path = spec.inclusion_proof(receipts, receipt)
                if spec.root_from_proof(receipt, index, len(receipts), path) != claim["merkle_root"]:
                    report.problem(f"receipt {receipt}: its inclusion proof does not lead to budget {budget_id}'s root")
                report.facts.append(f"receipt {receipt} is ballot {index + 1} of {len(receipts)} in budget "
                                    f"{budget_id}: {spec.canonical_json(content)}")
        if not found:
            report.problem(f"receipt {receipt}: not among the {sum(1 for _ in roots)} budgets' counted ballots of "
                           "this record (keep the record: it proves your ballot is missing)")
    if proof is not None:
        if str(proof.get("receipt", "")).lower() != receipt:
            report.problem("proof: it is for another receipt")
        root = spec.root_from_proof(receipt, int(proof.get("index", -1)), int(proof.get("size", 0)),
                                    list(proof.get("path") or ()))
        if root is None or root != proof.get("root"):
            report.problem("proof: the inclusion proof does not lead to the root it names")
        elif roots and root not in roots.values():
            report.problem("proof: its root is not the root of any budget in the record")
        else:
            report.facts.append(f"receipt {receipt} is included under root {root}")
    return report


# --- command line --------------------------------------------------------------------------------------


def print_report(report: Report, out=None) -> int:
    out = out or sys.stdout
    if report.ok:
        print("OK: the record verifies.", file=out)
        for fact in report.facts:
            print(f"  {fact}", file=out)
        return 0
    print(f"FAILED: {len(report.problems)} problem(s) found:", file=out)
    for problem in report.problems:
        print(f"  - {problem}", file=out)
    return 1


def load_checkpoints(paths: Sequence[str]) -> list[dict[str, Any]]:
    """Checkpoint files as saved from the public endpoint: one checkpoint or a list of them."""
    found: list[dict[str, Any]] = []
    for path in paths:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
        if isinstance(data, dict) and "checkpoints" in data:
            data = data["checkpoints"]
        found.extend(data if isinstance(data, list) else [data])
    return found


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pb.record.verify", description=__doc__.splitlines()[0])
    parser.add_argument("record", help="the election record (.zip) to check")
    parser.add_argument("--checkpoint", action="append", default=[], help="a checkpoint file you kept (repeatable)")
    parser.add_argument("--public-key", action="append", default=[], help="a checkpoint key you trust (hex)")
    args = parser.parse_args(argv)
    try:
        with open(args.record, "rb") as handle:
            data = handle.read()
        extra = load_checkpoints(args.checkpoint)
    except (OSError, ValueError) as error:
        print(f"cannot read the input: {error}", file=sys.stderr)
        return 2
    return print_report(verify_record(data, checkpoints=extra, trusted_keys=args.public_key))


if __name__ == "__main__":
    sys.exit(main())
