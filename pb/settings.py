"""Settings: config/default.toml, then an optional PB_CONFIG file, then PB_* environment variables.

One frozen dataclass, built once per process by ``get_settings()``; tests build their own with
``load_settings(overrides)`` and hand them to ``create_app``, so nothing global leaks between tests.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping

from pb.resources import DEFAULT_CONFIG

# Short environment names for the settings people change most.
ENV_ALIASES = {
    "PB_DATABASE_URL": ("database", "url"),
    "PB_SECRETS_DIR": ("security", "secrets_dir"),
}


@dataclass(frozen=True, slots=True)
class Settings:
    database_url: str = "sqlite:///var/pb.sqlite"
    database_pool_size: int = 10  # connections per server process (pb.engines)
    database_queue_seconds: float = 5.0  # a request waiting longer for a connection or a write turn gets 503
    database_sqlite_synchronous: str = "full"  # "normal": no fsync per commit (see config/default.toml)
    host: str = "127.0.0.1"
    port: int = 8000
    public_url: str = "http://127.0.0.1:8000"
    # False when public_url was not configured and is derived from host and port: it then
    # follows them (``pb serve --port 8101`` issues tokens for http://127.0.0.1:8101).
    public_url_explicit: bool = True
    secrets_dir: Path = Path("var/secrets")
    access_token_minutes: int = 10
    refresh_token_days: int = 14
    rate_limit_per_minute: int = 30
    rate_limit_account_per_minute: int = 10
    trusted_proxies: tuple[str, ...] = ()
    password_time_cost: int = 3
    password_memory_kib: int = 65536
    demo_voters: int = 300
    # payments (config [payments]); Stripe secrets stay in the secrets folder, never here
    stripe_enabled: bool = False
    stripe_mode: str = "test"
    stripe_api_base: str = ""  # empty: Stripe's servers; a URL points the SDK elsewhere (the test double)
    stripe_country: str = "DE"
    deployment_id: str = "pb-local"
    payments_send_inline: bool = True
    payments_lease_seconds: int = 120
    payments_worker_seconds: int = 0  # 0: no background worker in this process
    payments_reconcile_minutes: int = 60
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def is_postgres(self) -> bool:
        return self.database_url.startswith(("postgres://", "postgresql://"))

    def with_overrides(self, **changes: Any) -> "Settings":
        return replace(self, **changes)

    def serving_at(self, host: str, port: int) -> "Settings":
        """These settings for a server on ``host:port``; a derived public_url follows them."""
        public_url = self.public_url if self.public_url_explicit else local_url(host, port)
        return replace(self, host=host, port=port, public_url=public_url)


def local_url(host: str, port: int) -> str:
    """The base URL of a server listening on ``host:port`` (the default public_url)."""
    return f"http://{host}:{port}"


def _flatten(config: Mapping[str, Any]) -> dict[tuple[str, str], Any]:
    return {
        (section, key): value
        for section, values in config.items()
        if isinstance(values, dict)
        for key, value in values.items()
    }


def _read_toml(path: Path) -> dict[tuple[str, str], Any]:
    with path.open("rb") as handle:
        return _flatten(tomllib.load(handle))


def _coerce(value: str, like: Any) -> Any:
    if isinstance(like, list):  # lists come comma-separated from the environment
        return [item.strip() for item in value.split(",") if item.strip()]
    if isinstance(like, bool):
        return value.lower() in {"1", "true", "yes", "on"}
    if isinstance(like, int):
        return int(value)
    if isinstance(like, float):
        return float(value)
    return value


def load_settings(environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
    """Build settings from the config files and ``environ`` (default: the process environment)."""
    environ = os.environ if environ is None else environ
    values = _read_toml(DEFAULT_CONFIG)
    if environ.get("PB_CONFIG"):
        values.update(_read_toml(Path(environ["PB_CONFIG"])))
    for (section, key), current in list(values.items()):
        env_name = f"PB_{section}_{key}".upper()
        if env_name in environ:
            values[(section, key)] = _coerce(environ[env_name], current)
    for env_name, target in ENV_ALIASES.items():
        if env_name in environ:
            values[target] = environ[env_name]
    if environ.get("PB_DEMO_VOTERS"):
        values[("demo", "voters")] = int(environ["PB_DEMO_VOTERS"])
    host, port = values[("server", "host")], int(values[("server", "port")])
    configured_public_url = values.get(("server", "public_url")) or ""
    settings = Settings(
        database_url=values[("database", "url")],
        database_pool_size=int(values[("database", "pool_size")]),
        database_queue_seconds=float(values[("database", "queue_seconds")]),
        database_sqlite_synchronous=str(values[("database", "sqlite_synchronous")]).lower(),
        host=host,
        port=port,
        public_url=configured_public_url or local_url(host, port),
        public_url_explicit=bool(configured_public_url),
        secrets_dir=Path(values[("security", "secrets_dir")]),
        access_token_minutes=int(values[("security", "access_token_minutes")]),
        refresh_token_days=int(values[("security", "refresh_token_days")]),
        rate_limit_per_minute=int(values[("security", "rate_limit_per_minute")]),
        rate_limit_account_per_minute=int(values[("security", "rate_limit_account_per_minute")]),
        trusted_proxies=tuple(values[("security", "trusted_proxies")]),
        password_time_cost=int(values[("security", "password_time_cost")]),
        password_memory_kib=int(values[("security", "password_memory_kib")]),
        demo_voters=int(values[("demo", "voters")]),
        stripe_enabled=bool(values[("payments", "stripe_enabled")]),
        stripe_mode=str(values[("payments", "stripe_mode")]),
        stripe_api_base=str(values[("payments", "stripe_api_base")]),
        stripe_country=str(values[("payments", "stripe_country")]),
        deployment_id=str(values[("payments", "deployment_id")]),
        payments_send_inline=bool(values[("payments", "send_inline")]),
        payments_lease_seconds=int(values[("payments", "lease_seconds")]),
        payments_worker_seconds=int(values[("payments", "worker_seconds")]),
        payments_reconcile_minutes=int(values[("payments", "reconcile_minutes")]),
    )
    if settings.access_token_minutes > 10 or settings.access_token_minutes < 1:
        raise ValueError("security.access_token_minutes must be between 1 and 10")
    if settings.database_pool_size < 1 or settings.database_queue_seconds <= 0:
        raise ValueError("database.pool_size must be at least 1 and database.queue_seconds more than 0")
    if settings.database_sqlite_synchronous not in {"full", "normal"}:
        raise ValueError(f"database.sqlite_synchronous must be \"full\" or \"normal\", "
                         f"not {settings.database_sqlite_synchronous!r}")
    if "public_url" in overrides:
        overrides.setdefault("public_url_explicit", True)
    return replace(settings, **overrides) if overrides else settings


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (cached: read once at start-up)."""
    return load_settings()
