"""Sessions for the pages: who is signed in, and the decorator that requires it.

The signed cookie holds only the secret of a server-side session (``auth_session``, see
services/sessions.py); the row decides whether it is still valid. Signing out deletes the row, and
so do a password change, disabling the account, a password reset and a revoked role.
"""
from __future__ import annotations

from functools import wraps
from urllib.parse import urlsplit

from flask import g, redirect, request, session, url_for
from sqlalchemy.orm import Session

from engine.actors import Actor
from services.platform.identity import User, actor_for
from services.platform.sessions import PAGE
from web.context import resolve_session, runtime

SESSION_KEY = "sid"


def sign_in(db: Session, user: User) -> None:
    """Start a server-side session in the caller's unit of work (the caller commits) and put its
    secret into a fresh cookie: a new session id and CSRF token on every sign-in, no session fixation."""
    secret = runtime().sessions.start(db, user, PAGE, request.remote_addr or "", request.user_agent.string)
    session.clear()
    session.permanent = True
    session[SESSION_KEY] = secret


def sign_out(db: Session) -> None:
    """End this browser's session (the caller commits) and forget the cookie."""
    secret = session.get(SESSION_KEY)
    if secret:
        runtime().sessions.end(db, secret)
    session.clear()


def load_user() -> User | None:
    """Read the signed-in user in a short read of its own (``resolve_session``), so that a request's
    actions start from a fresh unit of work."""
    if "user" not in g:
        g.user = None
        secret = session.get(SESSION_KEY)
        if secret:
            signed_in = resolve_session(secret, PAGE)
            if signed_in is not None:
                g.user, g.session_id = signed_in.user, signed_in.session_id
                g.actor = actor_for(signed_in.user)
    return g.user


def page_actor() -> Actor:
    return g.actor


def safe_next(target: str | None) -> str:
    """Only a local path may be a redirect target after sign-in (no open redirect)."""
    if target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc:
        return target
    return url_for("pages.home")


def login_required(view):
    @wraps(view)
    def wrapper(*args, **kwargs):
        if load_user() is None:
            return redirect(url_for("pages.signin", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)

    return wrapper
