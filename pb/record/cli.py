"""`pb record …` and `pb verify …`: export a round's record; verify a record or a receipt offline.

`pb verify` needs only the record file: no database, no settings, no server (it imports the
stdlib, ``pb.tally`` and this package's pure modules).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click


class _RecordByDefault(click.Group):
    """``pb verify FILE`` is ``pb verify record FILE``; ``pb verify receipt …`` stays a subcommand."""

    def resolve_command(self, ctx, args):
        if args and args[0] not in self.commands and not args[0].startswith("-"):
            args = ["record", *args]
        return super().resolve_command(ctx, args)


@click.group("verify", cls=_RecordByDefault)
def verify() -> None:
    """Verify an election record (pb verify RECORD.zip) or a ballot receipt, offline."""


@verify.command("record")
@click.argument("record", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--checkpoint", "checkpoint_files", multiple=True, type=click.Path(exists=True, dir_okay=False),
              help="A checkpoint file you kept from /api/orgs/{org}/audit/checkpoints (repeatable).")
@click.option("--public-key", "public_keys", multiple=True,
              help="An organisation's checkpoint key (hex) you trust; others are refused (repeatable).")
def verify_record_command(record: Path, checkpoint_files: tuple[str, ...], public_keys: tuple[str, ...]) -> None:
    """Recompute everything in RECORD; exit 1 naming every problem, 0 with a summary."""
    from pb.record.verify import load_checkpoints, print_report, verify_record

    try:
        extra = load_checkpoints(checkpoint_files)
    except (OSError, ValueError) as error:
        raise click.ClickException(f"cannot read a checkpoint file: {error}") from error
    sys.exit(print_report(verify_record(record.read_bytes(), checkpoints=extra, trusted_keys=public_keys)))


@verify.command("receipt")
@click.argument("receipt")
@click.option("--record", "record_path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="The round's election record: find the ballot and check its inclusion proof.")
@click.option("--proof", "proof_path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="An inclusion proof saved from the bulletin board (JSON).")
def verify_receipt_command(receipt: str, record_path: Path | None, proof_path: Path | None) -> None:
    """Check that RECEIPT is among the counted ballots (needs --record, --proof or both)."""
    from pb.record.verify import print_report, verify_receipt

    if record_path is None and proof_path is None:
        raise click.UsageError("give the round's record (--record) or a proof from the board (--proof)")
    try:
        proof = json.loads(proof_path.read_text()) if proof_path else None
    except ValueError as error:
        raise click.ClickException(f"the proof is not JSON: {error}") from error
    report = verify_receipt(receipt, record=record_path.read_bytes() if record_path else None, proof=proof)
    sys.exit(print_report(report))


@click.group("record")
def record() -> None:
    """Election records of published rounds."""


@record.command("export")
@click.argument("organisation_id", type=int)
@click.argument("round_id", type=int)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Where to write the zip (default: pb-record-org<O>-round<R>.zip).")
def export(organisation_id: int, round_id: int, output: Path | None) -> None:
    """Write the record of a published round (from the configured database)."""
    from pb.cli import _run
    from pb.core.errors import DomainError
    from pb.record.service import export_record
    from pb.settings import load_settings

    try:
        data = _run(load_settings(), lambda: export_record(organisation_id, round_id))
    except DomainError as error:
        raise click.ClickException(error.detail) from error
    output = output or Path(f"pb-record-org{organisation_id}-round{round_id}.zip")
    output.write_bytes(data)
    click.echo(f"wrote {output} ({len(data)} bytes); check it with: pb verify {output}")


@record.command("pabulib")
@click.argument("record_path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("budget_id", type=int)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None)
def pabulib(record_path: Path, budget_id: int, output: Path | None) -> None:
    """Write one budget of a record as a Pabulib .pb file (readable by pabutools)."""
    from pb.record.pabulib import record_to_pb

    try:
        text = record_to_pb(record_path.read_bytes(), budget_id)
    except (KeyError, ValueError) as error:
        raise click.ClickException(str(error)) from error
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text)
        click.echo(f"wrote {output}")
