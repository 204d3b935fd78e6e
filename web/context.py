"""Per-request access to the runtime and the request's unit of work."""
from __future__ import annotations

from flask import current_app, g

from engine.db import UnitOfWork
from services.bootstrap import Runtime


def runtime() -> Runtime:
    return current_app.extensions["banjian"]


def uow() -> UnitOfWork:
    """The request's unit of work, opened on first use and rolled back at teardown unless committed."""
    if "uow" not in g:
        g.uow = runtime().unit_of_work().__enter__()
    return g.uow
