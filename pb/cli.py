"""The `pb` command line. Thin: each command parses its options and calls a service.

Commands read the settings afresh (config files + PB_* variables) on every call, so
``PB_DATABASE_URL=postgresql://… pb migrate`` works and tests can point the CLI at their database.
"""

from __future__ import annotations

import asyncio
import os
import sys
from typing import Awaitable, Callable, TypeVar

os.environ.setdefault("PICCOLO_CONF", "pb.piccolo_conf")

import click
from piccolo.engine.base import Engine

from pb.settings import Settings, load_settings

T = TypeVar("T")


def _run(settings: Settings, work: Callable[[], Awaitable[T]], engine: Engine | None = None) -> T:
    """Bind the configured engine (or ``engine``), run ``work`` in a fresh event loop, close it."""
    from pb import db

    async def main() -> T:
        nonlocal engine
        from pb.audit.service import configure_checkpoints

        configure_checkpoints(settings.secrets_dir)
        engine = engine or db.make_engine(settings.database_url)
        db.bind_engine(engine)
        await db.start(engine)
        try:
            await db.prepare_engine(engine)
            return await work()
        finally:
            await db.stop(engine)

    return asyncio.run(main())


def _serve(settings: Settings, host: str | None, port: int | None) -> None:
    import uvicorn

    host, port = host or settings.host, port or settings.port
    click.echo(f"pb is serving at http://{host}:{port}/  (API docs: http://{host}:{port}/schema/swagger)")
    uvicorn.run("pb.app:create_app", factory=True, host=host, port=port, log_level="warning")


@click.group()
def main() -> None:
    """pb: participatory budgeting and micro-grants."""


@main.command()
@click.option("--host", default=None, help="Interface to listen on (default: server.host).")
@click.option("--port", type=int, default=None, help="Port to listen on (default: server.port).")
def serve(host: str | None, port: int | None) -> None:
    """Serve the web app and the JSON API (prints the URL)."""
    _serve(load_settings(), host, port)


@main.command()
def migrate() -> None:
    """Run pending database migrations on the configured engine (SQLite or PostgreSQL)."""
    from pb import db

    settings = load_settings()
    _run(settings, db.migrate)
    click.echo(f"migrations applied ({'PostgreSQL' if settings.is_postgres else 'SQLite'})")


@main.command()
@click.option("--serve", "then_serve", is_flag=True, help="Serve the app once the demo data is ready.")
@click.option("--reset", is_flag=True, help="Throw away the existing demo data and build it again.")
def demo(then_serve: bool, reset: bool) -> None:
    """Build a demonstration city (idempotent) and print the accounts to log in with."""
    from pb import demo as demo_data

    settings = load_settings()
    if reset:
        demo_data.reset_database(settings)
    report = _run(settings, lambda: demo_data.ensure_demo(settings), demo_data.build_engine(settings))
    click.echo(demo_data.describe(report, settings))
    if then_serve:
        _serve(settings, None, None)


@main.group()
def audit() -> None:
    """The audit chain."""


@audit.command("verify")
@click.option("--checkpoint", "checkpoint_files", multiple=True, type=click.Path(exists=True, dir_okay=False),
              help="Checkpoints you kept from /api/orgs/{org}/audit/checkpoints: deletions after them are caught.")
def audit_verify(checkpoint_files: tuple[str, ...]) -> None:
    """Recompute every organisation's hash chain and check it against every checkpoint; exit 1
    naming the first broken event."""
    from pb.audit import service
    from pb.record.verify import load_checkpoints

    given = load_checkpoints(checkpoint_files)
    verdicts = _run(load_settings(), lambda: service.verify_all(given))
    broken = {org: verdict for org, verdict in verdicts.items() if not verdict.ok}
    for organisation_id, verdict in broken.items():
        click.echo(
            f"BROKEN: organisation {organisation_id}, event seq {verdict.broken_seq}: {verdict.problem} "
            f"({verdict.events_checked} events before it are intact)",
            err=True,
        )
    if broken:
        sys.exit(1)
    events = sum(verdict.events_checked for verdict in verdicts.values())
    click.echo(f"ok: {len(verdicts)} organisation chain(s), {events} events verified")


@audit.command("checkpoint")
def audit_checkpoint() -> None:
    """Publish board snapshots of voting rounds, then sign every chain head that moved (for cron)."""
    from pb.audit import service
    from pb.board.service import refresh_all_snapshots
    from pb.core.keyring import RoundKeyStore

    settings = load_settings()

    async def both() -> tuple[int, int]:
        return await refresh_all_snapshots(RoundKeyStore(settings.secrets_dir)), await service.sign_all_heads()

    snapshots, signed = _run(settings, both)
    click.echo(f"published {snapshots} board snapshot(s); signed {signed} new checkpoint(s)")


@main.group()
def keys() -> None:
    """Signing keys kept in the secrets folder (outside the database)."""


@keys.command("rotate")
def keys_rotate() -> None:
    """Add a new JWT signing key; older keys still verify until they drop off the ring."""
    from pb.core.keyring import rotate_keyring

    settings = load_settings()
    keyring = rotate_keyring(settings.secrets_dir)
    click.echo(f"new signing key {keyring.current.kid}; keys on the ring: {', '.join(k.kid for k in keyring.keys)}")
    click.echo("restart the servers so they load the new key")


@main.group()
def org() -> None:
    """Organisations (platform operations)."""


@org.command("create")
@click.argument("name")
@click.argument("slug")
@click.option("--official-email", required=True, help="Email of an existing account: the first official.")
@click.option("--currency", default="EUR", show_default=True)
def org_create(name: str, slug: str, official_email: str, currency: str) -> None:
    """Create an organisation (a city) with its first official."""
    from pb.accounts import repo, service
    from pb.core.errors import DomainError

    async def create() -> int:
        user = await repo.user_by_email(official_email)
        if user is None:
            raise click.ClickException(
                f"No account with the email {official_email!r}: sign up first (POST /api/auth/signup)."
            )
        return await service.create_organisation(name, slug, user.id, currency)

    try:
        organisation_id = _run(load_settings(), create)
    except DomainError as error:
        raise click.ClickException(error.detail) from error
    click.echo(f"organisation {organisation_id} created: {name} ({slug}), first official {official_email}")


@main.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True,
                                "help_option_names": []})
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def tally(args: tuple[str, ...]) -> None:
    """Run the pure tally engine on a .pb file (all arguments go to pb.tally.cli)."""
    from pb.tally.cli import main as tally_main

    sys.exit(tally_main(list(args)))


def _add_record_commands() -> None:
    from pb.record.cli import record, verify

    main.add_command(record)
    main.add_command(verify)


_add_record_commands()

if __name__ == "__main__":
    main()
