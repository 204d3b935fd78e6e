"""Home: open tasks per step (待审核, 待复核…) with overdue counts, and recent cases."""
from __future__ import annotations

from flask import current_app, redirect, render_template, url_for

from engine.db import utcnow
from engine.definitions import list_definitions
from engine.inbox import count_open_by_step, list_instances
from services.platform.identity import is_applicant
from web.context import runtime, uow
from web.pages import pages
from web.pages.session import login_required, page_actor


@pages.get("/")
@login_required
def home():
    """The office's home; an applicant's is 我的办件 (the cases they started and follow)."""
    session, actor = uow().session, page_actor()
    if is_applicant(actor):
        return redirect(url_for("pages.my_case_list"))
    steps = count_open_by_step(session, actor, utcnow())
    recent, _total = list_instances(session, actor, runtime().engine.applicant_roles, per_page=10)
    names = {d.key: d.name or d.key for d in list_definitions(session)}
    return render_template("home.html", steps=steps, recent=recent, process_names=names)


@pages.get("/favicon.ico")
def favicon():
    """Browsers and bookmarks ask for it at the root, whatever the page's <link rel="icon"> says."""
    return current_app.send_static_file("img/favicon.ico")
