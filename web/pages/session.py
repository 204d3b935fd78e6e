"""Cookie sessions for the pages: who is signed in, and the decorator that requires it.

The session stores the user id and the user's token generation; changing or resetting the
password, disabling the account or removing a role bumps the generation and so ends every
open session of that user.
"""
from __future__ import annotations

from functools import wraps
from urllib.parse import urlsplit

from flask import g, redirect, request, session, url_for

from engine.actors import Actor
from services.identity import User, actor_for, session_user
from web.context import runtime


def sign_in(user: User) -> None:
    session.clear()  # a fresh session (and CSRF token) on every sign-in: no session fixation
    session.permanent = True
    session["uid"], session["gen"] = user.id, user.token_generation


def sign_out() -> None:
    session.clear()


def load_user() -> User | None:
    """Read the signed-in user in a short session of its own, so that a request's actions start
    from a fresh unit of work (and SQLite's write lock is not held while a page renders)."""
    if "user" not in g:
        g.user = None
        if "uid" in session:
            with runtime().unit_of_work(read_only=True) as work:
                g.user = session_user(work.session, session["uid"], session.get("gen", -1))
        if g.user is not None:
            g.actor = actor_for(g.user)
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
