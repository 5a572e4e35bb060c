"""Queries for browser sessions."""

from __future__ import annotations

from datetime import datetime

from pb.core.clock import utcnow
from pb.web.tables import BrowserSession


async def insert_session(token_hash: str, user_id: int, expires_at: datetime) -> None:
    await BrowserSession.insert(
        BrowserSession(token_hash=token_hash, user=user_id, created_at=utcnow(), expires_at=expires_at)
    )


async def session_user(token_hash: str, now: datetime) -> int | None:
    """The user of a live session, or None (unknown or expired)."""
    row = await BrowserSession.select(BrowserSession.user).where(
        (BrowserSession.token_hash == token_hash) & (BrowserSession.expires_at > now)
    ).first()
    return row["user"] if row else None


async def delete_session(token_hash: str) -> None:
    await BrowserSession.delete().where(BrowserSession.token_hash == token_hash)


async def delete_expired(now: datetime) -> None:
    await BrowserSession.delete().where(BrowserSession.expires_at <= now)
