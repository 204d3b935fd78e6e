"""Server-side sign-in sessions: the pages' cookie and the API's bearer tokens.

Each sign-in is an ``auth_session`` row holding the SHA-256 of a random secret; the client holds
the secret (inside the signed session cookie, or as the bearer token). A request is accepted while
its row exists and has not expired, so signing out, a password change, disabling an account, a
reset or a revoked role (all of which delete rows) take effect on the next request.
"""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, joinedload

from engine.db import rowcount, utcnow
from engine.errors import NotFound
from services.platform.identity import AuthSession, User

PAGE = "page"
API = "api"
# last_seen_at (and with it the idle deadline) is written at most once a minute per session, not on
# every request: the idle limit is thus exact to a minute.
TOUCH_INTERVAL = timedelta(minutes=1)
PURGE_BATCH = 100  # expired rows deleted per sign-in: enough to keep the table small, never a long delete


@dataclass(frozen=True)
class Lifetime:
    """How long a session lasts: at most ``absolute`` after its start, and — with ``idle`` — no
    longer than ``idle`` after the last request."""

    absolute: timedelta
    idle: timedelta | None = None

    def expiry(self, created_at: datetime, seen_at: datetime) -> datetime:
        end = created_at + self.absolute
        return min(end, seen_at + self.idle) if self.idle else end


@dataclass(frozen=True)
class SignedIn:
    """The user behind a valid session, and that session's id (to keep it, or to mark it as "this one")."""

    user: User
    session_id: int
    stale: bool = False  # last seen more than TOUCH_INTERVAL ago: the caller records this use (``touch``)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class SessionStore:
    """Starts, resolves and ends sessions of each kind with its :class:`Lifetime`."""

    def __init__(self, lifetimes: dict[str, Lifetime]):
        self.lifetimes = lifetimes

    def start(self, session: Session, user: User, kind: str, client_ip: str = "", user_agent: str = "") -> str:
        """A new session for ``user``; returns its secret, which is stored nowhere else."""
        now = utcnow()
        self._purge(session, now)
        secret = secrets.token_urlsafe(32)
        session.add(AuthSession(token_hash=_digest(secret), user_id=user.id, kind=kind, created_at=now,
                                last_seen_at=now, expires_at=self.lifetimes[kind].expiry(now, now),
                                client_ip=client_ip[:45], user_agent=user_agent[:200]))
        session.flush()
        return secret

    def resolve(self, session: Session, secret: str, kind: str) -> SignedIn | None:
        """The signed-in user (with their role grants and posts) in one indexed query, or None once the session
        ended or expired. Only reads: a page view must not wait for SQLite's write lock."""
        now = utcnow()
        found = session.execute(
            select(AuthSession, User).join(User, User.id == AuthSession.user_id)
            .where(AuthSession.token_hash == _digest(secret), AuthSession.kind == kind,
                   AuthSession.expires_at > now, User.active.is_(True))
            .options(joinedload(User.grants), joinedload(User.posts))).unique().first()
        if found is None:
            return None
        row, user = found
        return SignedIn(user, row.id, stale=now - row.last_seen_at >= TOUCH_INTERVAL)

    def touch(self, session: Session, session_id: int, kind: str) -> None:
        """Record that the session was used now, pushing its idle deadline (the caller commits). Called
        only for a ``stale`` session, i.e. at most once a minute per session."""
        row = session.get(AuthSession, session_id)
        if row is not None:
            now = utcnow()
            row.last_seen_at = now
            row.expires_at = self.lifetimes[kind].expiry(row.created_at, now)

    def end(self, session: Session, secret: str) -> None:
        """Sign-out: the session of this secret ends (nothing happens for an unknown one)."""
        session.execute(delete(AuthSession).where(AuthSession.token_hash == _digest(secret)))

    @staticmethod
    def _purge(session: Session, now: datetime) -> None:
        """Delete a bounded batch of expired rows (SKIP LOCKED: two sign-ins never wait on each other)."""
        expired = (select(AuthSession.id).where(AuthSession.expires_at <= now).order_by(AuthSession.expires_at)
                   .limit(PURGE_BATCH).with_for_update(skip_locked=True))
        session.execute(delete(AuthSession).where(AuthSession.id.in_(expired))
                        .execution_options(synchronize_session=False))


def list_sessions(session: Session, user_id: int) -> list[AuthSession]:
    """The user's open sessions and tokens, most recently used first ("where am I signed in")."""
    return list(session.scalars(select(AuthSession).where(AuthSession.user_id == user_id,
                                                          AuthSession.expires_at > utcnow())
                                .order_by(AuthSession.last_seen_at.desc(), AuthSession.id.desc())))


def end_own_session(session: Session, user_id: int, session_id: int) -> None:
    """Sign out one of one's own sessions or tokens (another user's id is not found)."""
    deleted = session.execute(delete(AuthSession).where(AuthSession.id == session_id,
                                                        AuthSession.user_id == user_id))
    if rowcount(deleted) == 0:
        raise NotFound("该登录会话不存在或已结束")
