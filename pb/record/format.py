"""The election record file: a zip of canonical JSON with a MANIFEST of SHA-256 hashes.

Deterministic on purpose: entries in a fixed order, a fixed timestamp and fixed permissions, so
two exports of the same round are byte-identical and an auditor can compare records by hash.
Stdlib only; docs/election-record.md describes every file.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

from pb.record.spec import canonical_json

FORMAT = "pb-election-record"
VERSION = 1
MANIFEST = "MANIFEST.json"
ROUND = "round.json"
CONFIG = "config.json"
RESULTS = "results.json"
LOTTERY = "lottery.json"
AUDIT = "audit.jsonl"
CHECKPOINTS = "checkpoints.json"
BALLOTS_DIR = "ballots/"
FIXED_TIME = (1980, 1, 1, 0, 0, 0)  # the zip epoch: no export time leaks into the bytes


def ballots_file(budget_id: int) -> str:
    return f"{BALLOTS_DIR}budget-{budget_id}.jsonl"


def jsonl(rows: list[Mapping[str, Any]]) -> bytes:
    """One canonical JSON object per line, each line ending in a newline."""
    return "".join(canonical_json(dict(row)) + "\n" for row in rows).encode()


def ballot_lines(ballots: Iterable[tuple[str, str]]) -> bytes:
    """The lines of a ballots file from (receipt, canonical content JSON) pairs.

    Equal to ``jsonl([{"receipt": r, "content": json.loads(c)}])`` for canonical contents (keys in
    order: "content" < "receipt"), without parsing and re-encoding every ballot.
    """
    return "".join(f'{{"content":{content},"receipt":"{receipt}"}}\n' for receipt, content in ballots).encode()


def json_bytes(value: Any) -> bytes:
    return (canonical_json(value) + "\n").encode()


def write_record(files: Mapping[str, bytes]) -> bytes:
    """The zip: MANIFEST.json first, then every file in name order, all stamped FIXED_TIME."""
    manifest = {"format": FORMAT, "version": VERSION,
                "files": {name: hashlib.sha256(data).hexdigest() for name, data in sorted(files.items())}}
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
        for name, data in [(MANIFEST, json_bytes(manifest)), *sorted(files.items())]:
            info = zipfile.ZipInfo(name, date_time=FIXED_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            info.create_system = 3
            archive.writestr(info, data, compresslevel=6)
    return out.getvalue()


class RecordError(Exception):
    """The file is not a readable election record at all (not a zip, no manifest…)."""


@dataclass
class Record:
    """The files of a record as bytes, and the manifest they claim to match."""

    files: dict[str, bytes]
    manifest: dict[str, Any]
    extra_names: list[str] = field(default_factory=list)

    def json(self, name: str) -> Any:
        return json.loads(self.files[name])

    def lines(self, name: str) -> list[Any]:
        return [json.loads(line) for line in self.files[name].decode().splitlines() if line]


def read_record(data: bytes) -> Record:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        files = {info.filename: archive.read(info) for info in archive.infolist() if not info.is_dir()}
    except (zipfile.BadZipFile, OSError, EOFError) as error:
        raise RecordError(f"not a zip file: {error}") from error
    if MANIFEST not in files:
        raise RecordError(f"no {MANIFEST} in the archive")
    try:
        manifest = json.loads(files.pop(MANIFEST))
    except ValueError as error:
        raise RecordError(f"{MANIFEST} is not JSON: {error}") from error
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise RecordError(f"{MANIFEST} does not describe a {FORMAT}")
    if manifest.get("version") != VERSION:
        raise RecordError(f"record format version {manifest.get('version')!r} is not supported (this verifier "
                          f"reads version {VERSION})")
    return Record(files, manifest)
