"""The `pb` command line. Thin: each command parses its options and calls a service.

Commands read the settings afresh (config files + PB_* variables) on every call, so
``PB_DATABASE_URL=postgresql://… pb migrate`` works and tests can point the CLI at their database.
"""

from __future__ import annotations

import asyncio
import os
import sys
import warnings
from typing import Awaitable, Callable, TypeVar

os.environ.setdefault("PICCOLO_CONF", "pb.piccolo_conf")

import click
from piccolo.engine.base import Engine

import pb
from pb.settings import Settings, load_settings

T = TypeVar("T")


def _run(settings: Settings, work: Callable[[], Awaitable[T]], engine: Engine | None = None,
         creates_schema: bool = False) -> T:
    """Bind the configured engine (or ``engine``), run ``work`` in a fresh event loop, close it.

    Unless the command itself creates the schema (``migrate``, ``demo``), a missing, unreachable
    or unmigrated database stops the command with one line saying how to fix it.
    """
    from pb import db

    if not creates_schema:
        _exit_unless_ready(lambda: db.check_file_exists(settings.database_url))

    async def main() -> T:
        nonlocal engine
        from pb.audit.service import configure_checkpoints

        configure_checkpoints(settings.secrets_dir)
        engine = engine or db.engine_for(settings)
        db.bind_engine(engine)
        try:
            await db.start(engine)
            await db.prepare_engine(engine)
        except (OSError, *_connection_errors()) as error:
            raise db.DatabaseNotReady(
                f"Cannot connect to the database {db.describe_url(settings.database_url)}: {error}. "
                "Is the server running, does the database exist, is PB_DATABASE_URL right?"
            ) from error
        try:
            if not creates_schema:
                await db.check_migrated(settings.database_url)
            return await work()
        finally:
            await db.stop(engine)

    with warnings.catch_warnings():  # Piccolo's own coloured warning would repeat our one line
        warnings.filterwarnings("ignore", message=".*Unable to (fetch server version|connect to database)")
        return _exit_unless_ready(lambda: asyncio.run(main()))


def _connection_errors() -> tuple[type[BaseException], ...]:
    try:
        from asyncpg import PostgresError
    except ImportError:  # pragma: no cover - PostgreSQL support not installed
        return ()
    return (PostgresError,)


def _exit_unless_ready(call: Callable[[], T]) -> T:
    from pb.db import DatabaseNotReady

    try:
        return call()
    except DatabaseNotReady as problem:
        raise click.ClickException(str(problem)) from problem


def _serve(settings: Settings, host: str | None, port: int | None, workers: int = 1) -> None:
    import uvicorn

    from pb import serving
    from pb.app import create_app

    if workers > 1 and not settings.is_postgres:
        click.echo("pb serve --workers needs PostgreSQL: on SQLite, writers queue inside one process, "
                   "so serve with one worker (the default).", err=True)
        sys.exit(2)
    _check_payments(settings)
    _run(settings, _nothing)  # the database must be there and migrated before we listen
    settings = settings.serving_at(host or settings.host, port or settings.port)
    several = workers > 1 and serving.reuse_port_available()
    if several:
        try:
            serving.refuse_if_taken(settings.host, settings.port)
        except serving.PortTaken as taken:
            click.echo(f"pb serve: {taken} Stop the other server or choose another port (--port).", err=True)
            sys.exit(2)
    url = f"http://{settings.host}:{settings.port}"
    click.echo(f"pb is serving at {url}/  (API docs: {url}/schema/swagger)"
               + (f" with {workers} worker processes" if workers > 1 else ""))
    if settings.public_url != url:
        click.echo(f"public URL (links, token issuer): {settings.public_url}")
    # X-Forwarded-For is read by pb itself, only from security.trusted_proxies.
    # No access log: at "warning" it printed nothing, yet uvicorn still formatted each response's
    # client address and raw path (which can hold a receipt) for it.
    options = dict(log_level="warning", access_log=False, proxy_headers=False)
    if workers == 1:
        uvicorn.run(create_app(settings), host=settings.host, port=settings.port, **options)
        return
    # Worker processes build their own app from the settings (config + PB_* variables), so the
    # host and port chosen here travel to them in the environment.
    os.environ.update(PB_SERVER_HOST=settings.host, PB_SERVER_PORT=str(settings.port))
    if not several:  # no SO_REUSEPORT (not Linux/BSD): uvicorn's workers share one socket
        uvicorn.run("pb.app:create_app", factory=True, workers=workers, host=settings.host, port=settings.port,
                    **options)
        return
    sys.exit(serving.serve_workers(settings.host, settings.port, workers, options))


async def _nothing() -> None:
    return None


@click.group()
@click.version_option(pb.__version__, "--version", prog_name="pb", message="%(prog)s %(version)s")
def main() -> None:
    """pb: participatory budgeting and micro-grants."""


@main.command()
@click.option("--host", default=None, help="Interface to listen on (default: server.host).")
@click.option("--port", type=int, default=None, help="Port to listen on (default: server.port).")
@click.option("--workers", type=click.IntRange(min=1), default=1, show_default=True,
              help="Worker processes (more than one needs PostgreSQL).")
def serve(host: str | None, port: int | None, workers: int) -> None:
    """Serve the web app and the JSON API (prints the URL)."""
    _serve(load_settings(), host, port, workers)


@main.command()
def migrate() -> None:
    """Run pending database migrations on the configured engine (SQLite or PostgreSQL)."""
    from pb import db

    settings = load_settings()
    _run(settings, db.migrate, creates_schema=True)
    click.echo(f"migrations applied ({'PostgreSQL' if settings.is_postgres else 'SQLite'})")


@main.command()
@click.option("--serve", "then_serve", is_flag=True, help="Serve the app once the demo data is ready.")
@click.option("--host", default=None, help="With --serve: interface to listen on (default: server.host).")
@click.option("--port", type=int, default=None, help="With --serve: port to listen on (default: server.port).")
@click.option("--reset", is_flag=True, help="Throw away the existing demo data and build it again.")
def demo(then_serve: bool, host: str | None, port: int | None, reset: bool) -> None:
    """Build a demonstration city (idempotent) and print the accounts to log in with."""
    from pb import demo as demo_data

    settings = load_settings()
    if (host or port) and not then_serve:
        raise click.UsageError("--host and --port go with --serve.")
    if reset:
        demo_data.reset_database(settings)
    report = _run(settings, lambda: demo_data.ensure_demo(settings), demo_data.build_engine(settings),
                  creates_schema=True)
    click.echo(demo_data.describe(report, settings))
    if then_serve:
        _serve(settings, host, port)


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


# --- pb payments: the Stripe gateway's worker, reconciliation and configuration check -------------

def _check_payments(settings: Settings):
    """The Stripe secrets, or a readable refusal (never a traceback, never the secret)."""
    from pb.payments.runtime import check
    from pb.payments.stripe_config import StripeConfigError

    try:
        return check(settings)
    except StripeConfigError as error:
        raise click.ClickException(str(error)) from None


def _with_stripe(settings: Settings, work: Callable[[], Awaitable[T]]) -> T:
    """Run ``work`` with the Stripe gateway registered (refuses in words if it is not configured)."""
    from pb.payments import runtime

    secrets = _check_payments(settings)
    if secrets is None:
        raise click.ClickException("The Stripe gateway is not enabled: set payments.stripe_enabled = true "
                                   "(PB_PAYMENTS_STRIPE_ENABLED=1) and put its secrets in the secrets folder.")

    async def with_gateway() -> T:
        runtime.start(settings, secrets)
        try:
            return await work()
        finally:
            runtime.stop()

    return _run(settings, with_gateway)


@main.group()
def payments() -> None:
    """Stripe payments: the worker, reconciliation, the configuration check."""


@payments.command("check")
def payments_check() -> None:
    """Check the Stripe configuration (secret key, webhook secrets, mode) without calling Stripe."""
    secrets = _check_payments(load_settings())
    click.echo("the Stripe gateway is not enabled (ledger only)" if secrets is None
               else f"Stripe gateway ready: {secrets.mode} mode, key and both webhook secrets present")


@payments.command("use")
@click.argument("slug")
@click.argument("gateway", type=click.Choice(["ledger", "stripe"]))
def payments_use(slug: str, gateway: str) -> None:
    """Platform operation: organisation SLUG pays new tranches through GATEWAY (audited)."""
    from pb.accounts import repo
    from pb.core.errors import DomainError
    from pb.payments import service

    async def use() -> int:
        organisation = await repo.organisation_by_slug(slug)
        if organisation is None:
            raise click.ClickException(f"No organisation with the slug {slug!r}.")
        await service.set_gateway(organisation.id, gateway, "platform:cli")
        return organisation.id

    settings = load_settings()
    try:
        organisation_id = _with_stripe(settings, use) if gateway == "stripe" else _run(settings, use)
    except DomainError as error:
        raise click.ClickException(error.detail) from error
    click.echo(f"organisation {organisation_id} ({slug}) pays new tranches through the {gateway}")


@payments.command("work")
@click.option("--once", is_flag=True, help="One pass over due payments and stored events, then exit.")
def payments_work(once: bool) -> None:
    """Send due payments to Stripe and process stored webhook events (the server can do this too)."""
    from pb.payments import worker

    settings = load_settings()
    if once:
        outcomes = _with_stripe(settings, worker.run_once)
        click.echo(", ".join(f"{name}: {count}" for name, count in sorted(outcomes.items())))
    else:
        _with_stripe(settings, lambda: worker.run_forever(max(settings.payments_worker_seconds, 1),
                                                          settings.payments_reconcile_minutes))


@payments.command("reconcile")
@click.option("--org", "organisation_id", type=int, default=None, help="Only this organisation.")
def payments_reconcile(organisation_id: int | None) -> None:
    """Compare every Stripe tranche with Stripe's transfers; print each discrepancy; exit 1 if any."""
    from pb.payments import reconcile

    async def work():
        return [await reconcile.reconcile(organisation_id)] if organisation_id else await reconcile.reconcile_all()

    reports = _with_stripe(load_settings(), work)
    for report in reports:
        click.echo(f"organisation {report.organisation_id}: {report.tranches_checked} tranches, "
                   f"{report.transfers_seen} transfers, {len(report.findings)} findings ({report.seconds:.2f} s)")
        for finding in report.findings:
            click.echo(f"  {finding.kind}{' (fixed)' if finding.fixed else ''}: {finding.subject}: {finding.detail}")
    if any(f for r in reports for f in r.findings if not f.fixed):
        sys.exit(1)


@main.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True,
                                "help_option_names": []})
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def tally(args: tuple[str, ...]) -> None:
    """Run a voting rule on a Pabulib .pb file and explain each project's result."""
    if "--help" in args or "-h" in args:
        click.echo(_tally_help())
        return
    from pb.tally.cli import main as tally_main

    sys.exit(tally_main(list(args)))


def _tally_help() -> str:
    """pb.tally.cli's argparse options, laid out as click lays out every other command's help."""
    from pb.tally.cli import build_parser

    parser = build_parser()
    positionals = [action for action in parser._actions if not action.option_strings]
    formatter = click.HelpFormatter()
    formatter.write_usage("pb tally", " ".join(["[OPTIONS]", *(a.dest.upper() for a in positionals)]))
    formatter.write_paragraph()
    with formatter.indentation():
        formatter.write_text(parser.description or "")
    rows = []
    for action in parser._actions:
        if not action.option_strings:
            continue
        name = ", ".join(action.option_strings)
        if action.choices:
            name += f" [{'|'.join(map(str, action.choices))}]"
        elif action.nargs != 0:
            name += f" {action.metavar or action.dest.upper()}"
        rows.append((name, "Show this message and exit." if action.dest == "help" else action.help or ""))
    with formatter.section("Options"):
        formatter.write_dl(rows)
    return formatter.getvalue().rstrip("\n")


def _add_record_commands() -> None:
    from pb.record.cli import record, verify

    main.add_command(record)
    main.add_command(verify)


_add_record_commands()

if __name__ == "__main__":
    main()
