"""Per-request access to the runtime and the request's unit of work."""
from __future__ import annotations

from flask import current_app, g, request

from engine.db import UnitOfWork
from services.bootstrap import Runtime


def runtime() -> Runtime:
    return current_app.extensions["banjian"]


def uow() -> UnitOfWork:
    """The request's unit of work, opened on first use and rolled back at teardown unless committed.
    A GET or HEAD request only reads (routes never commit there), so it does not wait for writers."""
    if "uow" not in g:
        g.uow = runtime().unit_of_work(read_only=request.method in ("GET", "HEAD")).__enter__()
    return g.uow
