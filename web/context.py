"""Per-request access to the runtime and the request's unit of work."""
from __future__ import annotations

from flask import current_app, g, request

from engine.db import UnitOfWork
from services.bootstrap import Runtime
from services.platform.sessions import SignedIn


def runtime() -> Runtime:
    return current_app.extensions["banjian"]


def uow() -> UnitOfWork:
    """The request's unit of work, opened on first use and rolled back at teardown unless committed.
    A GET or HEAD request only reads (routes never commit there), so it does not wait for writers."""
    if "uow" not in g:
        g.uow = runtime().unit_of_work(read_only=request.method in ("GET", "HEAD")).__enter__()
    return g.uow


def resolve_session(secret: str, kind: str) -> SignedIn | None:
    """The user signed in with ``secret``, read without taking a write lock; at most once a minute per
    session a second, short unit of work records the use (the idle deadline)."""
    rt = runtime()
    with rt.unit_of_work(read_only=True) as work:
        signed_in = rt.sessions.resolve(work.session, secret, kind)
    if signed_in is not None and signed_in.stale:
        with rt.unit_of_work() as work:
            rt.sessions.touch(work.session, signed_in.session_id, kind)
            work.commit()
    return signed_in
