"""办件查询 by 查询码 (public, no sign-in): the case's public status for whoever holds its code. The
lookup is a POST (the code stays out of addresses and logs) and is rate-limited per client address."""
from __future__ import annotations

from flask import render_template, request
from flask_babel import gettext as _

from engine.db import utcnow
from engine.errors import NotFound
from services.platform.case_tracking import public_status
from web.context import runtime, uow
from web.pages import pages
from web.ratelimit import RateLimited, count_query_code_lookup


@pages.get("/track")
def track_form():
    return render_template("track.html", code="", status=None, error=None)


@pages.post("/track")
def track():
    code = (request.form.get("code") or "").strip()[:40]
    try:
        count_query_code_lookup()
    except RateLimited as limited:
        return render_template("track.html", code=code, status=None, error=limited.message), 429, \
            {"Retry-After": str(limited.retry_after)}
    try:
        status = public_status(uow().session, runtime().engine, code, utcnow())
    except NotFound:
        return render_template("track.html", code=code, status=None, error=_("查询码不正确，或没有对应的办件")), 404
    return render_template("track.html", code=code, status=status, error=None)
