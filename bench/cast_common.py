"""Shared parts of the casting benches (``cast_load.py``, ``cast_kill.py``).

A scratch database (SQLite file or a fresh PostgreSQL database), a real ``pb serve`` process, a city
with a round in voting set up through the public HTTP API and the ``pb`` command line, voters
written in bulk through pb's own table classes (signing up thousands over HTTP would take minutes),
a load generator of one or more processes with httpx async clients, and CPU readings of the
server's processes and of the PostgreSQL backends from ``/proc``.

Nothing here reaches into pb's services or repositories, so the benches keep measuring the same
thing while the cast path and the connection layer change underneath.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import multiprocessing
import os
import random
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Sequence

import httpx

REPO = Path(__file__).resolve().parent.parent
PB_COMMAND = str(Path(sys.executable).with_name("pb"))
POSTGRES_ADMIN = os.environ.get("PB_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
PASSWORD = "bench-voter-password-2026"
OFFICIAL_PASSWORD = "staple tuba lantern meadow 4711"
EMAIL_DOMAIN = "bench.pb.example"
PROJECTS = 10  # projects on the bench ballot (one city-wide approval budget, at most 3 per ballot)
MAX_PER_BALLOT = 3
ARGON2_TIME_COST, ARGON2_MEMORY_KIB = 1, 1024  # cheap hashes: the bench logs thousands of voters in
BULK_ROWS = 400  # rows per INSERT (SQLite allows 32,766 parameters per statement)
CLK_TCK = os.sysconf("SC_CLK_TCK")


# --- the scratch database ---------------------------------------------------------------------------


@dataclass
class Scratch:
    """A temporary folder (server working directory, secrets, logs) and an empty database."""

    engine: str  # "sqlite" | "postgres"
    folder: Path
    database_url: str
    postgres_name: str | None = None

    @property
    def is_postgres(self) -> bool:
        return self.engine == "postgres"

    @property
    def secrets_dir(self) -> Path:
        return self.folder / "secrets"


async def _postgres_admin(sql: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(POSTGRES_ADMIN)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


@contextmanager
def scratch_database(engine: str, label: str, keep: bool = False) -> Iterator[Scratch]:
    """A fresh SQLite file in a temporary folder, or a fresh PostgreSQL database ``pb_<label>_<pid>``
    next to ``PB_TEST_POSTGRES_URL`` (dropped afterwards unless ``keep``)."""
    folder = Path(tempfile.mkdtemp(prefix=f"pb-{label}-"))
    scratch = Scratch(engine, folder, f"sqlite:///{folder}/pb.sqlite")
    if engine == "postgres":
        scratch.postgres_name = f"pb_{label}_{os.getpid()}"
        asyncio.run(_postgres_admin(f'DROP DATABASE IF EXISTS "{scratch.postgres_name}" WITH (FORCE)'))
        asyncio.run(_postgres_admin(f'CREATE DATABASE "{scratch.postgres_name}"'))
        scratch.database_url = POSTGRES_ADMIN.rpartition("/")[0] + "/" + scratch.postgres_name
    try:
        yield scratch
    finally:
        if keep:
            print(f"kept: {folder} ({scratch.database_url})")
        else:
            if scratch.postgres_name:
                asyncio.run(_postgres_admin(f'DROP DATABASE IF EXISTS "{scratch.postgres_name}" WITH (FORCE)'))
            shutil.rmtree(folder, ignore_errors=True)


# The caller's connection-layer tuning reaches the server (e.g. PB_DATABASE_SQLITE_SYNCHRONOUS=normal
# to compare the durability settings); every other PB_* setting of the caller is dropped.
SERVER_TUNING = ("PB_DATABASE_POOL_SIZE", "PB_DATABASE_QUEUE_SECONDS", "PB_DATABASE_SQLITE_SYNCHRONOUS")


def pb_env(scratch: Scratch) -> dict[str, str]:
    """The environment of every ``pb`` process of the bench: the caller's PB_* settings removed
    (but the connection-layer tuning of ``SERVER_TUNING``), the scratch database and secrets, rate
    limits off, cheap password hashes."""
    env = {name: value for name, value in os.environ.items()
           if not name.startswith("PB_") or name in SERVER_TUNING}
    return {**env, "PB_DATABASE_URL": scratch.database_url, "PB_SECRETS_DIR": str(scratch.secrets_dir),
            "PB_SECURITY_RATE_LIMIT_PER_MINUTE": "0", "PB_SECURITY_RATE_LIMIT_ACCOUNT_PER_MINUTE": "0",
            "PB_SECURITY_PASSWORD_TIME_COST": str(ARGON2_TIME_COST),
            "PB_SECURITY_PASSWORD_MEMORY_KIB": str(ARGON2_MEMORY_KIB)}


def pb_cli(scratch: Scratch, *args: str) -> subprocess.CompletedProcess:
    """Run ``pb ARGS`` against the scratch database; raises with its output if it fails."""
    done = subprocess.run([PB_COMMAND, *args], cwd=scratch.folder, env=pb_env(scratch), capture_output=True,
                          text=True, timeout=600)
    if done.returncode != 0:
        raise RuntimeError(f"pb {' '.join(args)} failed ({done.returncode}):\n{done.stdout}{done.stderr}")
    return done


def serve_supports_workers() -> bool:
    """Whether this checkout's ``pb serve`` has a ``--workers`` option."""
    help_text = subprocess.run([PB_COMMAND, "serve", "--help"], capture_output=True, text=True, timeout=60).stdout
    return "--workers" in help_text


def usable_workers(requested: int | None) -> int | None:
    """``requested`` if this ``pb serve`` takes ``--workers``; otherwise None (one process), said aloud."""
    if requested and not serve_supports_workers():
        print(f"note: this pb serve has no --workers option; running one process, not {requested}")
        return None
    return requested


# The ASGI servers the benches can run pb and the bare endpoint under. ``uvicorn`` is what ``pb serve``
# runs; ``granian`` (HTTP in Rust; ``pip install granian``, not a pb dependency) serves pb's factory
# ``pb.app:create_app`` directly, with the options ``pb serve`` gives uvicorn: HTTP/1.1, no access log,
# no proxy headers (granian reads none), the app's lifespan hooks in every worker.
SERVERS = ("uvicorn", "granian")
GRANIAN_COMMAND = str(Path(sys.executable).with_name("granian"))


def check_server_choice(args) -> None:
    """Refuse, in words, a server choice the bench cannot run (a RuntimeError ends the bench).
    ``args.workers``: one number, None, or the list of ``worker_counts``."""
    if args.server != "granian":
        if args.granian_args:
            raise RuntimeError("--granian-args goes with --server granian")
        return
    if not Path(GRANIAN_COMMAND).is_file():
        raise RuntimeError(f"--server granian needs granian: {sys.executable} -m pip install granian")
    most_workers = max(args.workers) if isinstance(args.workers, list) else args.workers or 1
    if most_workers > 1 and args.engine != "postgres":
        # pb serve refuses this itself; granian is started without pb serve, so the bench refuses it
        raise RuntimeError("pb serve --workers needs PostgreSQL: on SQLite, writers queue inside one process")


def server_text(args) -> str:
    """The server choice, for a bench's first line."""
    return f"server {args.server}" + (f" {args.granian_args}" if args.granian_args else "")


def granian_command(target: str, port: int, workers: int | None, extra: str = "") -> list[str]:
    """granian serving the ASGI factory ``target`` on ``port`` as described above; ``extra``: more
    granian options (e.g. ``--runtime-mode st``), given to pb's server and the bare endpoint's alike."""
    command = [GRANIAN_COMMAND, "--interface", "asgi", "--factory", "--host", "127.0.0.1", "--port", str(port),
               "--http", "1", "--no-ws", "--log-level", "warning", "--no-access-log", "--workers", str(workers or 1)]
    return command + extra.split() + [target]


def worker_counts(text: str) -> list[int]:
    """``--workers 1,2``: the worker counts to compare, in the order given (the first is the reference)."""
    try:
        counts = [int(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a comma-separated list of worker counts: {text!r}") from None
    if any(count < 1 for count in counts):
        raise argparse.ArgumentTypeError(f"worker counts are 1 or more: {text!r}")
    if len(set(counts)) != len(counts):
        raise argparse.ArgumentTypeError(f"a worker count is listed twice: {text!r}")
    return counts


def add_common_options(parser, default_engine: str, worker_lists: bool = False) -> None:
    """The options both benches take; with ``worker_lists``, ``--workers`` takes ``worker_counts``
    (``1,2``: one server per count, compared in the same run)."""
    parser.add_argument("--engine", choices=("sqlite", "postgres"), default=default_engine)
    if worker_lists:
        parser.add_argument("--workers", type=worker_counts, default=None,
                            help="pb serve --workers N, when this pb has the option (default: pb's default); "
                                 "a comma list (1,2) runs one server per count, interleaved level by level")
    else:
        parser.add_argument("--workers", type=int, default=None,
                            help="pb serve --workers N, when this pb has the option (default: pb's default)")
    parser.add_argument("--server", choices=SERVERS, default="uvicorn",
                        help="ASGI server of pb and of the bare endpoint (default: uvicorn, what pb serve runs)")
    parser.add_argument("--granian-args", default="",
                        help="with --server granian: extra options of the granian command (e.g. "
                             "'--runtime-mode st'), given to pb's and the bare endpoint's servers alike")
    parser.add_argument("--clients-procs", type=int, default=1,
                        help="load-generating processes, each with its own event loop (default 1)")
    parser.add_argument("--login-concurrency", type=int, default=16, help="concurrent logins before casting")
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder and database")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# --- server processes and their CPU ----------------------------------------------------------------


def _stat_fields(pid: int) -> list[str] | None:
    """/proc/<pid>/stat after the command name (field 3, the state, is item 0)."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    return text.rpartition(")")[2].split()


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds of a live process (None once it is gone)."""
    fields = _stat_fields(pid)
    return None if fields is None else (int(fields[11]) + int(fields[12])) / CLK_TCK


def group_pids(pgid: int) -> list[int]:
    """Every live process of a process group (a server and its workers)."""
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            fields = _stat_fields(int(entry))
            if fields is not None and int(fields[2]) == pgid and fields[0] != "Z":
                pids.append(int(entry))
    return pids


class Server:
    """A server process started in its own session, so its workers can be killed all at once.
    ``application_name``: what its PostgreSQL sessions call themselves (``postgres_backend_pids``)."""

    def __init__(self, name: str, command: list[str], cwd: Path, env: dict[str, str], port: int,
                 application_name: str | None = None):
        self.name, self.command, self.cwd, self.env, self.port = name, command, cwd, env, port
        self.application_name = application_name
        self.base_url = f"http://127.0.0.1:{port}"
        self.log_path = cwd / f"{name}.log"
        self.process: subprocess.Popen | None = None

    def start(self, ready_path: str, timeout: float = 120) -> None:
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(self.command, cwd=self.cwd, env=self.env, stdout=log,
                                            stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.process.returncode}:\n{self.log_tail()}")
            try:
                if httpx.get(self.base_url + ready_path, timeout=5).status_code < 500:
                    return
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self.name} did not answer within {timeout:.0f} s:\n{self.log_tail()}")
            time.sleep(0.2)

    def pids(self) -> list[int]:
        return group_pids(self.process.pid) if self.process else []

    def kill(self) -> None:
        """kill -9 the whole process group and wait until every process of it is gone."""
        if self.process is None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait()
        deadline = time.monotonic() + 30
        while self.pids() and time.monotonic() < deadline:
            time.sleep(0.05)
        self.process = None

    def stop(self) -> None:
        """Ask politely (SIGTERM to the group), then kill."""
        if self.process is None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=30)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            pass
        self.kill()

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return "(no log)"


def with_application_name(scratch: Scratch, url: str, application_name: str | None) -> str:
    """``url`` whose PostgreSQL sessions carry ``application_name`` (asyncpg passes a DSN's unknown
    query parameters on as server settings); unchanged on SQLite or without a name."""
    if not (scratch.is_postgres and application_name):
        return url
    return f"{url}{'&' if '?' in url else '?'}application_name={application_name}"


def pb_server(scratch: Scratch, workers: int | None, port: int | None = None, server: str = "uvicorn",
              granian_args: str = "", name: str = "pb-serve", application_name: str | None = None) -> Server:
    """``pb serve`` on a free port; ``--workers`` only when given (the caller checks support). With
    ``server="granian"``: granian serving pb's app factory instead (see ``SERVERS``). ``name`` names
    its log; ``application_name`` tags its PostgreSQL sessions (through ``PB_DATABASE_URL``)."""
    port = port or free_port()
    env = {**pb_env(scratch),
           "PB_DATABASE_URL": with_application_name(scratch, scratch.database_url, application_name)}
    if server == "granian":
        env |= {"PB_SERVER_HOST": "127.0.0.1", "PB_SERVER_PORT": str(port)}
        return Server(name, granian_command("pb.app:create_app", port, workers, granian_args),
                      scratch.folder, env, port, application_name)
    command = [PB_COMMAND, "serve", "--host", "127.0.0.1", "--port", str(port)]
    if workers:
        command += ["--workers", str(workers)]
    return Server(name, command, scratch.folder, env, port, application_name)


class CpuMeter:
    """CPU seconds a set of processes spent between ``start()`` and ``stop()``.

    Samples every ``interval`` seconds and keeps each process's highest reading, so processes that
    start during the measurement count from zero; one that ends between two samples loses its last
    interval (the figures are a floor, good to a few per cent for long-lived workers and backends).
    """

    def __init__(self, list_pids, interval: float = 0.25):
        self.list_pids, self.interval = list_pids, interval
        self.baseline: dict[int, float] = {}
        self.latest: dict[int, float] = {}
        self._task: asyncio.Task | None = None

    async def _read(self) -> dict[int, float]:
        readings = {}
        for pid in await self.list_pids():
            seconds = cpu_seconds(pid)
            if seconds is not None:
                readings[pid] = seconds
        return readings

    async def start(self) -> None:
        self.baseline = await self._read()
        self.latest = dict(self.baseline)
        self._task = asyncio.create_task(self._sample())

    async def _sample(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            for pid, seconds in (await self._read()).items():
                self.latest[pid] = max(seconds, self.latest.get(pid, 0.0))

    async def stop(self) -> float:
        self._task.cancel()
        for pid, seconds in (await self._read()).items():
            self.latest[pid] = max(seconds, self.latest.get(pid, 0.0))
        return sum(seconds - self.baseline.get(pid, 0.0) for pid, seconds in self.latest.items())


# --- pb's tables, from the bench process ------------------------------------------------------------


BENCH_APPLICATION = "pb-cast-bench"  # the bench's own PostgreSQL sessions, left out of the CPU figures


async def open_database(scratch: Scratch):
    """Bind pb's table classes to the scratch database in this process (for bulk rows and counts)."""
    os.environ.setdefault("PICCOLO_CONF", "pb.piccolo_conf")
    from piccolo.engine.postgres import PostgresEngine

    from pb import db

    if scratch.is_postgres:
        engine = PostgresEngine(config={"dsn": scratch.database_url,
                                        "server_settings": {"application_name": BENCH_APPLICATION}})
    else:
        engine = db.make_engine(scratch.database_url)
    db.bind_engine(engine)
    if scratch.is_postgres:
        await engine.start_connection_pool(min_size=1, max_size=2)
    return engine


async def close_database(engine) -> None:
    if engine.engine_type == "postgres":
        await engine.close_connection_pool()


async def postgres_backend_pids(application_name: str | None = None) -> list[int]:
    """The PostgreSQL backends of the scratch database whose sessions carry ``application_name``
    (one server's); without a name, every backend of it but the bench's own."""
    from pb.voting.tables import Participation

    condition, value = ("=", application_name) if application_name else ("<>", BENCH_APPLICATION)
    rows = await Participation.raw(
        f"SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name {condition} {{}}",
        value)
    return [row["pid"] for row in rows]


def _voter_email(number: int) -> str:
    return f"voter{number:07d}@{EMAIL_DOMAIN}"


async def add_voters(organisation_id: int, first: int, count: int) -> list[str]:
    """``count`` citizens bound to census entries, written in bulk; returns their emails.

    They share one argon2id hash of PASSWORD (cheap parameters; the hash names them, so the server
    verifies it whatever its own settings). Their census entries carry random identifier HMACs:
    these voters never bind by identifier, they are bound here.
    """
    from argon2 import PasswordHasher

    from pb.accounts.tables import Membership, User
    from pb.voting.tables import CensusEntry

    password_hash = PasswordHasher(time_cost=ARGON2_TIME_COST, memory_cost=ARGON2_MEMORY_KIB).hash(PASSWORD)
    now = _utcnow()
    emails = [_voter_email(n) for n in range(first, first + count)]
    for start in range(0, count, BULK_ROWS):
        chunk = emails[start:start + BULK_ROWS]
        users = [User(email=email, display_name=email.partition("@")[0], password_hash=password_hash,
                      is_active=True, created_at=now) for email in chunk]
        ids = [row["id"] for row in await User.insert(*users).returning(User.id)]
        await Membership.insert(*[Membership(organisation=organisation_id, user=user_id, roles="citizen",
                                             created_at=now) for user_id in ids])
        await CensusEntry.insert(*[CensusEntry(organisation_id=organisation_id, identifier_hmac=secrets.token_hex(32),
                                               district="centre", user=user_id, bound_at=now) for user_id in ids])
    return emails


def _utcnow():
    from datetime import datetime, timezone

    return datetime.now(timezone.utc)


async def ballot_rows(round_id: int) -> tuple[int, int]:
    """(participation rows, sealed ballots) of a round in voting."""
    from pb.voting.tables import Participation, SealedBallot

    participation = await Participation.count().where(Participation.round == round_id)
    sealed = await SealedBallot.count().where(SealedBallot.round == round_id)
    return participation, sealed


# --- the city: a round in voting, through the HTTP API ---------------------------------------------


@dataclass
class City:
    base_url: str
    organisation_id: int
    round_id: int
    budget_id: int
    project_ids: list[int]
    next_voter: int = 1

    @property
    def cast_path(self) -> str:
        return f"/api/orgs/{self.organisation_id}/rounds/{self.round_id}/budgets/{self.budget_id}/ballots"

    @property
    def receipt_path(self) -> str:
        return f"/api/orgs/{self.organisation_id}/rounds/{self.round_id}/receipts/lookup"

    def ballot(self, rng: random.Random) -> dict[str, list[int]]:
        return {"projects": rng.sample(self.project_ids, rng.randint(1, MAX_PER_BALLOT))}


def _ok(response: httpx.Response, *statuses: int) -> dict:
    if response.status_code not in statuses:
        raise RuntimeError(f"{response.request.method} {response.request.url.path}: "
                           f"{response.status_code} {response.text[:500]}")
    return response.json() if response.content else {}


def _sign_up_and_log_in(client: httpx.Client, name: str) -> tuple[int, dict[str, str]]:
    email = f"{name}@{EMAIL_DOMAIN}"
    user = _ok(client.post("/api/auth/signup", json={"email": email, "password": OFFICIAL_PASSWORD,
                                                     "display_name": name.title()}), 201)
    token = _ok(client.post("/api/auth/login", json={"email": email, "password": OFFICIAL_PASSWORD}), 200)
    return user["id"], {"Authorization": f"Bearer {token['access_token']}"}


def set_up_city(scratch: Scratch, server: Server, voters: int) -> City:
    """An organisation (``pb org create``), a round with one city-wide approval budget of PROJECTS
    eligible projects (HTTP API), ``voters`` bound citizens (bulk rows), then voting opened."""
    with httpx.Client(base_url=server.base_url, timeout=60) as client:
        official_id, official = _sign_up_and_log_in(client, "official")
        pb_cli(scratch, "org", "create", "Bench city", "bench", "--official-email", f"official@{EMAIL_DOMAIN}")
        organisation_id = next(o["id"] for o in _ok(client.get("/api/orgs"), 200) if o["slug"] == "bench")
        org = f"/api/orgs/{organisation_id}"
        _ok(client.put(f"{org}/members/{official_id}/roles", json={"roles": ["official", "reviewer"]},
                       headers=official), 204)
        _, author = _sign_up_and_log_in(client, "author")
        _ok(client.post(f"{org}/join", headers=author), 204)
        criteria = [{"key": "feasible", "label": "Feasible"}]
        round_id = _ok(client.post(f"{org}/rounds", headers=official, json={
            "title": "Bench round", "max_proposal_amount": 100_000, "criteria": criteria, "tally_rule": "greedy",
            "budgets": [{"name": "City-wide", "kind": "citywide", "amount": 1_000_000, "ballot_format": "approval",
                         "max_projects": MAX_PER_BALLOT}]}), 201)["id"]
        phase = f"{org}/rounds/{round_id}/phase"
        budget_id = _ok(client.post(phase, json={"target": "submission"}, headers=official), 200)["budgets"][0]["id"]
        project_ids = []
        for number in range(PROJECTS):
            amount = 10_000 + 1_000 * number
            project_ids.append(_ok(client.post(f"{org}/rounds/{round_id}/proposals", headers=author, json={
                "budget_id": budget_id, "title": f"Bench project {number}", "summary": "A project of the bench.",
                "description": "", "category": "bench", "requested_amount": amount,
                "cost_lines": [{"label": "works", "amount": amount}]}), 201)["id"])
            _ok(client.post(f"{org}/proposals/{project_ids[-1]}/submit", headers=author), 200)
        _ok(client.post(phase, json={"target": "review"}, headers=official), 200)
        for proposal_id in project_ids:
            _ok(client.post(f"{org}/proposals/{proposal_id}/reviews", headers=official, json={
                "criteria": [{"key": "feasible", "passed": True, "note": "ok"}], "decision": "eligible",
                "public_reason": ""}), 201)
        city = City(server.base_url, organisation_id, round_id, budget_id, project_ids)
        asyncio.run(_bulk_voters(scratch, organisation_id, voters))
        _ok(client.post(phase, json={"target": "voting"}, headers=official), 200)
    return city


async def _bulk_voters(scratch: Scratch, organisation_id: int, voters: int) -> None:
    engine = await open_database(scratch)
    try:
        await add_voters(organisation_id, 1, voters)
    finally:
        await close_database(engine)


def take_voters(city: City, count: int) -> list[str]:
    """The emails of the next ``count`` voters who have not been used yet."""
    emails = [_voter_email(n) for n in range(city.next_voter, city.next_voter + count)]
    city.next_voter += count
    return emails


# --- the load generator -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Request:
    path: str
    body: dict
    token: str | None = None


@dataclass
class Load:
    """What a batch of requests got back, in request order."""

    statuses: list[int | str]  # HTTP status, or the transport error's class name (no answer)
    latencies: list[float]  # seconds
    values: list[Any]  # the requested field of each 2xx JSON answer
    wall: float  # first request sent to last answer, seconds
    client_cpu: float  # CPU seconds of the load-generating processes

    @property
    def ok(self) -> int:
        return sum(1 for status in self.statuses if isinstance(status, int) and 200 <= status < 300)

    def ok_latencies(self) -> list[float]:
        return [latency for status, latency in zip(self.statuses, self.latencies)
                if isinstance(status, int) and 200 <= status < 300]

    def errors(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for status in self.statuses:
            if not (isinstance(status, int) and 200 <= status < 300):
                counts[str(status)] = counts.get(str(status), 0) + 1
        return dict(sorted(counts.items()))


def percentile(samples: Sequence[float], share: float) -> float:
    """Nearest-rank percentile (``share`` in 0..1); NaN for no samples."""
    if not samples:
        return math.nan
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


class RawClient:
    """A minimal HTTP/1.1 client on one keep-alive connection, on an ``asyncio.Protocol`` (no stream
    reader, no per-line parsing): about a tenth of httpx's CPU per request and less than half of a
    stream-based client's, so on a small machine the generator leaves the cores to the server.
    Enough HTTP for JSON APIs: Content-Length or chunked answers, ``Connection: close`` honoured, a
    broken connection is reopened by the next request. The request is prepared bytes (``wire``)."""

    def __init__(self, base_url: str, timeout: float):
        parsed = httpx.URL(base_url)
        self.host, self.port, self.timeout = parsed.host, parsed.port or 80, timeout
        self.head = f"Host: {self.host}:{self.port}\r\nContent-Type: application/json\r\n"
        self.protocol: _Answers | None = None

    def wire(self, path: str, body: bytes, token: str | None) -> bytes:
        """The whole request, built before the timed phase."""
        authorization = f"Authorization: Bearer {token}\r\n" if token else ""
        return (f"POST {path} HTTP/1.1\r\n{self.head}{authorization}Content-Length: {len(body)}\r\n\r\n".encode()
                + body)

    async def send(self, wire: bytes) -> tuple[int, bytes]:
        try:
            if self.protocol is None or self.protocol.closed:
                _, self.protocol = await asyncio.get_running_loop().create_connection(_Answers, self.host, self.port)
            answer = self.protocol.expect()
            self.protocol.transport.write(wire)
            status, content, close = await asyncio.wait_for(answer, self.timeout)
            if close:
                await self.aclose()
            return status, content
        except BaseException:
            await self.aclose()
            raise

    async def post(self, path: str, body: bytes, token: str | None) -> tuple[int, bytes]:
        return await self.send(self.wire(path, body, token))

    async def aclose(self) -> None:
        if self.protocol is not None:
            self.protocol.transport.close()
            self.protocol = None


class _Answers(asyncio.Protocol):
    """Reads one answer at a time from the connection: the head at once (up to the blank line),
    then the body by Content-Length, or chunked up to its last chunk."""

    def __init__(self):
        self.transport = None
        self.buffer = b""
        self.waiting: asyncio.Future | None = None
        self.closed = False

    def connection_made(self, transport) -> None:
        self.transport = transport

    def expect(self) -> asyncio.Future:
        self.waiting = asyncio.get_running_loop().create_future()
        return self.waiting

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        head_end = self.buffer.find(b"\r\n\r\n")
        if head_end < 0 or self.waiting is None:
            return
        lines = self.buffer[:head_end].decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        headers = {name.strip().lower(): value.strip().lower()
                   for name, _, value in (line.partition(":") for line in lines[1:])}
        body_start = head_end + 4
        if headers.get("transfer-encoding") == "chunked":
            if self.buffer.find(b"0\r\n\r\n", body_start) < 0:
                return  # the last chunk has not arrived
            content, position = b"", body_start
            while True:
                size_end = self.buffer.index(b"\r\n", position)
                size = int(self.buffer[position:size_end].split(b";")[0], 16)
                position = size_end + 2
                if size == 0:
                    break
                content += self.buffer[position:position + size]
                position += size + 2
            end = self.buffer.index(b"\r\n", position) + 2  # the blank line after the last chunk
        else:
            end = body_start + int(headers.get("content-length", 0))
            if len(self.buffer) < end:
                return
            content = self.buffer[body_start:end]
        self.buffer = self.buffer[end:]
        waiting, self.waiting = self.waiting, None
        if not waiting.done():
            waiting.set_result((status, content, headers.get("connection") == "close"))

    def connection_lost(self, error) -> None:
        self.closed = True
        if self.waiting is not None and not self.waiting.done():
            self.waiting.set_exception(error or ConnectionResetError("the server closed the connection"))


class HttpxClient:
    """The same interface on httpx (one connection per client), to cross-check the raw client."""

    def __init__(self, base_url: str, timeout: float):
        self.client = httpx.AsyncClient(base_url=base_url, timeout=timeout, limits=httpx.Limits(max_connections=1))

    def wire(self, path: str, body: bytes, token: str | None) -> tuple[str, bytes, str | None]:
        """What ``send`` takes (httpx builds the request itself)."""
        return path, body, token

    async def send(self, prepared: tuple[str, bytes, str | None]) -> tuple[int, bytes]:
        return await self.post(*prepared)

    async def post(self, path: str, body: bytes, token: str | None) -> tuple[int, bytes]:
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        response = await self.client.post(path, content=body, headers=headers)
        return response.status_code, response.content

    async def aclose(self) -> None:
        await self.client.aclose()


CLIENTS = {"raw": RawClient, "httpx": HttpxClient}
NO_ANSWER = (OSError, EOFError, ValueError, asyncio.IncompleteReadError, asyncio.LimitOverrunError,
             asyncio.TimeoutError, httpx.HTTPError)


async def _send_all(base_url: str, requests: list[tuple[int, Request]], concurrency: int, field_name: str | None,
                    client_kind: str, start, progress) -> tuple[float, float, float, list]:
    """``concurrency`` workers, each with a client of its own on one keep-alive connection (one
    shared httpx pool of many connections costs milliseconds of CPU per request)."""
    outcomes: list = []
    clients = [CLIENTS[client_kind](base_url, 120) for _ in range(concurrency)]
    # Requests are encoded before the timed phase: the generator's CPU is what sending costs.
    queue = iter([(index, clients[0].wire(request.path, json.dumps(request.body).encode(), request.token))
                  for index, request in requests])

    async def worker(client) -> None:
        for index, prepared in queue:
            started = time.perf_counter()
            value = None
            try:
                status, content = await client.send(prepared)
                if 200 <= status < 300:
                    value = json.loads(content).get(field_name) if field_name else None
                    if progress is not None:
                        with progress.get_lock():
                            progress.value += 1
            except NO_ANSWER as error:
                status = type(error).__name__
            outcomes.append((index, status, time.perf_counter() - started, value))

    start.wait()
    began, cpu = time.monotonic(), time.process_time()
    await asyncio.gather(*(worker(client) for client in clients))
    finished, used = time.monotonic(), time.process_time() - cpu
    for client in clients:
        await client.aclose()
    return began, finished, used, outcomes


def _client_process(base_url, requests, concurrency, field_name, client_kind, start, results, progress) -> None:
    """One load-generating process, on uvloop (as the servers run) when it is installed."""
    try:
        import uvloop
        run = uvloop.run
    except ImportError:
        run = asyncio.run
    results.put(run(_send_all(base_url, requests, concurrency, field_name, client_kind, start, progress)))


class LoadRun:
    """POST ``requests`` at ``concurrency`` from ``processes`` spawned processes (each its own event
    loop and connection pool, the requests and concurrency shared out evenly)."""

    def __init__(self, base_url: str, requests: list[Request], concurrency: int, processes: int = 1,
                 field_name: str | None = None, progress=None, client_kind: str = "raw"):
        context = multiprocessing.get_context("spawn")
        processes = max(1, min(processes, concurrency, len(requests)))
        self.count = len(requests)
        self.start_signal = context.Event()
        self.results = context.Queue()
        indexed = list(enumerate(requests))
        self.processes = [
            context.Process(target=_client_process, daemon=True, args=(
                base_url, indexed[n::processes], concurrency // processes + (n < concurrency % processes),
                field_name, client_kind, self.start_signal, self.results, progress))
            for n in range(processes)]
        for process in self.processes:
            process.start()

    def go(self) -> None:
        self.start_signal.set()

    def wait(self) -> Load:
        parts = [self.results.get() for _ in self.processes]
        for process in self.processes:
            process.join()
        statuses: list = [None] * self.count
        latencies, values = [0.0] * self.count, [None] * self.count
        for _, _, _, outcomes in parts:
            for index, status, latency, value in outcomes:
                statuses[index], latencies[index], values[index] = status, latency, value
        wall = max(part[1] for part in parts) - min(part[0] for part in parts)
        return Load(statuses, latencies, values, wall, sum(part[2] for part in parts))


def run_load(base_url: str, requests: list[Request], concurrency: int, processes: int = 1,
             field_name: str | None = None) -> Load:
    """Send ``requests`` and wait for every answer (untimed work: logins, receipt look-ups)."""
    run = LoadRun(base_url, requests, concurrency, processes, field_name)
    run.go()
    return run.wait()


def log_in(city: City, emails: list[str], concurrency: int = 16, processes: int = 1,
           base_url: str | None = None) -> list[str]:
    """Access tokens of ``emails`` (POST /api/auth/login) from the server at ``base_url`` (default:
    the city's; a token is good only at the server that issued it); raises if any login fails."""
    load = run_load(base_url or city.base_url,
                    [Request("/api/auth/login", {"email": e, "password": PASSWORD}) for e in emails],
                    concurrency, processes, "access_token")
    if load.ok != len(emails):
        raise RuntimeError(f"{len(emails) - load.ok} of {len(emails)} logins failed: {load.errors()}")
    return load.values


def cast_requests(city: City, tokens: list[str], seed: int) -> list[Request]:
    rng = random.Random(seed)
    return [Request(city.cast_path, city.ballot(rng), token) for token in tokens]


def machine_load() -> str:
    """The load averages (1, 5, 15 minutes) as `uptime` prints them."""
    return " / ".join(f"{value:.2f}" for value in os.getloadavg())


def exit_on_setup_failure(main) -> int:
    """Run a bench's ``main``; a server that would not start or a refused setup step (a RuntimeError
    naming it, e.g. ``pb serve --workers`` refused on SQLite) ends the bench with that message."""
    try:
        return main()
    except RuntimeError as problem:
        print(f"bench stopped: {problem}", file=sys.stderr)
        return 2


def pb_source() -> str:
    """Which pb is measured: the commit of the checkout the ``pb`` package is imported from (the
    ``pb`` command imports the same one), with its folder when that is not this repository."""
    import pb

    folder = Path(pb.__file__).resolve().parent.parent
    done = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=folder, capture_output=True, text=True)
    commit = done.stdout.strip() if done.returncode == 0 else "no git commit"
    return f"pb {commit}" + ("" if folder == REPO else f" from {folder}")
