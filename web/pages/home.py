"""Home: open tasks per step (待审核, 待复核…) with overdue counts, and recent cases."""
from __future__ import annotations

from flask import render_template

from engine.db import utcnow
from engine.definitions import list_definitions
from engine.inbox import count_open_by_step, list_instances
from web.context import runtime, uow
from web.pages import pages
from web.pages.session import login_required, page_actor


@pages.get("/")
@login_required
def home():
    session, actor = uow().session, page_actor()
    steps = count_open_by_step(session, actor, utcnow())
    recent, _total = list_instances(session, actor, runtime().engine.applicant_roles, per_page=10)
    names = {d.key: d.name for d in list_definitions(session)}
    return render_template("home.html", steps=steps, recent=recent, process_names=names)
