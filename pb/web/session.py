"""Browser sign-in: a random token in an HttpOnly cookie, its hash in the database.

Why a database row and not a signed cookie: log-out must end the session on the server (a stolen
cookie stops working at once), and any number of workers or machines share one PostgreSQL.
A new token is issued at every sign-in, so a session id planted before sign-in is useless.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from pathlib import Path

from litestar import Request, Response

from pb.core.clock import utcnow
from pb.core.keyring import _ensure_dir, _write_private
from pb.db import write_transaction
from pb.web import repo

SESSION_COOKIE = "pb_session"
CSRF_COOKIE = "pb_csrf"
SESSION_DAYS = 14
CSRF_SECRET_FILE = "web-csrf.key"


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def start(user_id: int) -> str:
    """A new session for ``user_id``; returns the cookie value."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    async with write_transaction():
        await repo.delete_expired(now)
        await repo.insert_session(_hash(token), user_id, now + timedelta(days=SESSION_DAYS))
    return token


async def end(token: str | None) -> None:
    if token:
        async with write_transaction():
            await repo.delete_session(_hash(token))


async def user_of(token: str | None) -> int | None:
    if not token or len(token) > 100:
        return None
    return await repo.session_user(_hash(token), utcnow())


def secure_cookies(request: Request) -> bool:
    """Cookies are Secure when the site is served over https (settings.public_url)."""
    return request.app.state.settings.public_url.startswith("https://")


def set_session_cookie(response: Response, request: Request, token: str) -> None:
    response.set_cookie(SESSION_COOKIE, token, max_age=SESSION_DAYS * 86400, path="/", httponly=True,
                        samesite="lax", secure=secure_cookies(request))


def clear_session_cookie(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/")


def csrf_secret(secrets_dir: Path) -> str:
    """The CSRF signing secret, kept with the other secrets so every worker shares it."""
    _ensure_dir(secrets_dir)
    path = secrets_dir / CSRF_SECRET_FILE
    if not path.exists():
        _write_private(path, secrets.token_hex(32))
    return path.read_text().strip()


RECEIPTS_COOKIE = "pb_receipts"
MAX_RECEIPTS = 40


def receipts_of(request: Request) -> list[tuple[int, int, int, str]]:
    """The receipts this browser keeps: (organisation, round, budget, receipt), newest first.

    Kept only in the voter's browser (an HttpOnly cookie), never in the database: the database must
    not link an account to a receipt, or the ballot's secrecy would rest on nobody reading it.
    """
    kept = []
    for item in request.cookies.get(RECEIPTS_COOKIE, "").split("."):
        parts = item.split("-")
        if len(parts) == 4 and all(p.isdigit() for p in parts[:3]) and len(parts[3]) == 64:
            kept.append((int(parts[0]), int(parts[1]), int(parts[2]), parts[3]))
    return kept


def keep_receipt(response: Response, request: Request, organisation_id: int, round_id: int, budget_id: int,
                 receipt: str) -> None:
    kept = [(organisation_id, round_id, budget_id, receipt), *receipts_of(request)][:MAX_RECEIPTS]
    value = ".".join(f"{o}-{r}-{b}-{code}" for o, r, b, code in kept)
    response.set_cookie(RECEIPTS_COOKIE, value, max_age=365 * 86400, path="/", httponly=True, samesite="lax",
                        secure=secure_cookies(request))
