"""Mutation suite: every kind of tampering with an election record is caught and named by `pb verify`.

Each case rewrites the golden record (tests/record/golden/record.zip, exported from a real round)
with a fresh MANIFEST, as a careful forger would, so what catches it is the check named in the
case, not merely the manifest. Pure: no database.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable

import pytest

from pb.record import format as fmt
from pb.record import spec
from pb.record.verify import main as verify_main
from pb.record.verify import verify_record

GOLDEN = (Path(__file__).parent / "golden" / "record.zip").read_bytes()
NORTH = fmt.ballots_file(1)


def files() -> dict[str, bytes]:
    return dict(fmt.read_record(GOLDEN).files)


def lines(data: bytes) -> list[dict]:
    return [json.loads(line) for line in data.decode().splitlines()]


def problems_after(change: Callable[[dict[str, bytes]], None]) -> list[str]:
    tampered = files()
    change(tampered)
    report = verify_record(fmt.write_record(tampered))
    assert not report.ok
    return report.problems


def edit_json(name: str, edit: Callable) -> Callable[[dict[str, bytes]], None]:
    def change(found: dict[str, bytes]) -> None:
        value = json.loads(found[name])
        value = edit(value) or value
        found[name] = fmt.json_bytes(value)
    return change


def edit_lines(name: str, edit: Callable[[list[dict]], list[dict] | None]) -> Callable[[dict[str, bytes]], None]:
    def change(found: dict[str, bytes]) -> None:
        rows = lines(found[name])
        found[name] = fmt.jsonl(edit(rows) or rows)
    return change


def named(problems: list[str], *fragments: str) -> bool:
    return any(all(fragment in problem for fragment in fragments) for problem in problems)


def test_the_golden_record_verifies_and_is_what_the_writer_produces():
    assert verify_record(GOLDEN).ok
    assert fmt.write_record(files()) == GOLDEN  # entry order, timestamps, compression: all pinned


def _change_first_north_ballot(rows):
    rows[0]["content"]["projects"] = [3]


def test_a_changed_ballot_is_named_by_budget_and_receipt():
    receipt = lines(files()[NORTH])[0]["receipt"]
    problems = problems_after(edit_lines(NORTH, _change_first_north_ballot))
    assert named(problems, "budget 1: ballot " + receipt[:12], "receipt does not match")


def test_a_changed_ballot_with_a_recomputed_receipt_breaks_the_root_and_the_result():
    def change(rows):
        rows[0]["content"]["projects"] = [3]
        rows[0]["receipt"] = spec.receipt_of(spec.canonical_json(rows[0]["content"]))
        rows.sort(key=lambda row: row["receipt"])
    problems = problems_after(edit_lines(NORTH, change))
    assert named(problems, "budget 1", "Merkle root")
    assert named(problems, "budget 1", "winners recorded") or named(problems, "budget 1, project", "votes")


def test_a_dropped_ballot_is_caught():
    problems = problems_after(edit_lines(NORTH, lambda rows: rows[1:]))
    assert named(problems, "budget 1: 2 ballots but 3 voters took part")
    assert named(problems, "budget 1", "digest")


def test_an_added_ballot_is_caught():
    def add(rows):
        content = dict(rows[0]["content"], nonce="00" * 16)
        rows.append({"receipt": spec.receipt_of(spec.canonical_json(content)), "content": content})
        rows.sort(key=lambda row: row["receipt"])
    problems = problems_after(edit_lines(NORTH, add))
    assert named(problems, "budget 1: 4 ballots but 3 voters took part")


def test_an_altered_result_is_named_by_project_and_field():
    def alter(documents):
        documents[0]["projects"][2]["votes"] = 3
    problems = problems_after(edit_json(fmt.RESULTS, alter))
    assert named(problems, "budget 1, project 3: votes recorded 3, recomputed 1")
    assert named(problems, "budget 1: the result differs from the one whose hash the tally logged")


def test_swapped_winners_are_caught():
    def swap(documents):
        documents[0]["winners"].reverse()
    problems = problems_after(edit_json(fmt.RESULTS, swap))
    assert named(problems, "budget 1: winners recorded [2, 1] but the ballots give [1, 2]")


def test_a_changed_rule_is_caught_against_the_frozen_hash():
    def to_mes(found):
        config = json.loads(found[fmt.CONFIG])
        config["tally"]["rule"] = "mes"
        found[fmt.CONFIG] = fmt.json_bytes(config)
        summary = json.loads(found[fmt.ROUND])
        summary["config_hash"] = spec.sha256_hex(spec.canonical_json(config))  # a consistent forgery
        found[fmt.ROUND] = fmt.json_bytes(summary)
    problems = problems_after(to_mes)
    assert named(problems, "(round.frozen)", "the rule or configuration was changed")
    assert named(problems, "cast under another configuration")


def test_an_altered_audit_event_is_named_by_seq():
    def alter(events):
        frozen = next(e for e in events if e.get("action") == "round.frozen")
        frozen["actor"] = "user:999"
    seq = next(e["seq"] for e in lines(files()[fmt.AUDIT]) if e.get("action") == "round.frozen")
    problems = problems_after(edit_lines(fmt.AUDIT, alter))
    assert named(problems, f"audit event {seq} (round.frozen): content does not match its hash")


def test_a_dropped_audit_event_is_named():
    problems = problems_after(edit_lines(fmt.AUDIT, lambda events: events[:5] + events[6:]))
    assert named(problems, "audit log: event 6 is missing")
    assert named(problems, "audit event 7: prev_hash does not link")


def test_a_truncated_log_is_caught_by_the_checkpoints_even_with_a_rewritten_head():
    def truncate(found):
        events = lines(found[fmt.AUDIT])[:-3]
        found[fmt.AUDIT] = fmt.jsonl(events)
        summary = json.loads(found[fmt.ROUND])
        summary["audit_head"] = {"seq": events[-1]["seq"], "hash": events[-1]["hash"]}
        found[fmt.ROUND] = fmt.json_bytes(summary)
    problems = problems_after(truncate)
    assert named(problems, "events were cut off the end of the log")
    assert named(problems, "no results.published event")


def _rewrite_history_from(found: dict[str, bytes], first_seq: int) -> None:
    """A consistent forgery: event ``first_seq`` altered, every later link and hash recomputed, the
    record's own later checkpoints removed. Only a checkpoint kept outside the record can tell."""
    events, prev = lines(found[fmt.AUDIT]), None
    for event in events:
        if event["seq"] >= first_seq:
            event["prev_hash"] = prev
            if "action" in event:
                if event["seq"] == first_seq:
                    event["occurred_at"] = "2020-01-01T00:00:00.000000Z"
                event["hash"] = spec.audit_event_hash(**{k: v for k, v in event.items() if k != "hash"})
            else:
                event["hash"] = spec.sha256_hex(event["hash"])
        prev = event["hash"]
    found[fmt.AUDIT] = fmt.jsonl(events)
    summary = json.loads(found[fmt.ROUND])
    summary["audit_head"] = {"seq": events[-1]["seq"], "hash": events[-1]["hash"]}
    found[fmt.ROUND] = fmt.json_bytes(summary)
    checkpoints = json.loads(found[fmt.CHECKPOINTS])
    checkpoints["checkpoints"] = [c for c in checkpoints["checkpoints"] if c["seq"] < first_seq]
    found[fmt.CHECKPOINTS] = fmt.json_bytes(checkpoints)


def test_a_rewritten_history_is_caught_by_a_checkpoint_the_auditor_kept():
    kept = json.loads(files()[fmt.CHECKPOINTS])["checkpoints"][-1]
    first = next(e["seq"] for e in lines(files()[fmt.AUDIT]) if e.get("action") == "results.tallied")
    tampered = files()
    _rewrite_history_from(tampered, first)
    forged = fmt.write_record(tampered)
    assert verify_record(forged).ok  # the forgery is self-consistent: this is why heads are published
    report = verify_record(forged, checkpoints=[kept])
    assert named(report.problems, f"checkpoint at seq {kept['seq']} (given)", "history was rewritten")


def test_a_forged_checkpoint_is_caught():
    def forge(value):
        value["checkpoints"][0]["hash"] = "ab" * 32
    problems = problems_after(edit_json(fmt.CHECKPOINTS, forge))
    assert named(problems, "checkpoint at seq", "signature is not valid (forged")


def test_a_checkpoint_by_an_untrusted_key_is_refused_when_keys_are_pinned():
    report = verify_record(GOLDEN, trusted_keys=["00" * 32])
    assert named(report.problems, "not one of the keys you trust")


def test_a_changed_lottery_seed_is_caught():
    problems = problems_after(edit_json(fmt.LOTTERY, lambda v: v.update(seed="11" * 32)))
    assert named(problems, "lottery: the revealed seed does not match the commitment")


def test_an_altered_file_without_a_new_manifest_and_an_unlisted_file_are_caught():
    tampered = fmt.read_record(GOLDEN)
    tampered.files[NORTH] = tampered.files[NORTH].replace(b'"projects":[1,2]', b'"projects":[1,3]', 1)
    data = fmt.write_record(tampered.files)
    record = fmt.read_record(data)
    record.manifest["files"][NORTH] = fmt.read_record(GOLDEN).manifest["files"][NORTH]  # keep the old hash
    import io
    import zipfile
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr(fmt.MANIFEST, json.dumps(record.manifest))
        for name, content in record.files.items():
            archive.writestr(name, content)
        archive.writestr("extra.txt", b"hello")
    problems = verify_record(out.getvalue()).problems
    assert named(problems, f"file {NORTH}: its SHA-256 differs from MANIFEST")
    assert named(problems, "file extra.txt: not listed in MANIFEST")


def test_every_problem_is_reported_not_just_the_first():
    def two_things(found):
        edit_lines(NORTH, lambda rows: rows[1:])(found)
        edit_json(fmt.RESULTS, lambda docs: docs[2]["winners"].append(7))(found)
    problems = problems_after(two_things)
    assert named(problems, "budget 1: 2 ballots") and named(problems, "budget 3: winners recorded")


def test_the_command_line_exits_non_zero_naming_the_problem(tmp_path, capsys):
    tampered = files()
    edit_json(fmt.RESULTS, lambda docs: docs[0]["winners"].reverse())(tampered)
    path = tmp_path / "bad.zip"
    path.write_bytes(fmt.write_record(tampered))
    assert verify_main([str(path)]) == 1
    assert "winners recorded" in capsys.readouterr().out
    good = tmp_path / "good.zip"
    good.write_bytes(GOLDEN)
    assert verify_main([str(good)]) == 0
    not_a_zip = tmp_path / "x.zip"
    not_a_zip.write_bytes(b"hello")
    assert verify_main([str(not_a_zip)]) == 1


@pytest.mark.parametrize("name", [fmt.CONFIG, fmt.ROUND, fmt.AUDIT])
def test_a_missing_required_file_is_named(name):
    problems = problems_after(lambda found: found.pop(name))
    assert named(problems, f"file {name}: required but missing")
