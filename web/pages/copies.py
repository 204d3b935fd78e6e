"""待阅: the cases sent to the user to read (抄送), apart from 待办; opening one marks it 已阅."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from services.platform import carbon_copies
from web.context import uow
from web.pages import pages
from web.pages.session import login_required, page_actor


@pages.app_template_global()
def unread_copies() -> int:
    return carbon_copies.unread_count(uow().session, page_actor())


@pages.get("/inbox/cc")
@login_required
def copies():
    unread_only = request.args.get("unread") == "1"
    items = carbon_copies.inbox(uow().session, page_actor(), unread_only)
    return render_template("copies.html", items=items, unread_only=unread_only)


@pages.post("/inbox/cc/<int:copy_id>/read")
@login_required
def read_copy(copy_id: int):
    work = uow()
    carbon_copies.mark_read(work, page_actor(), copy_id)
    work.commit()
    flash(_("已标记为已阅"), "success")
    return redirect(url_for("pages.copies"))


@pages.post("/inbox/cc/<int:copy_id>/open")
@login_required
def open_copy(copy_id: int):
    """Open the case of a 抄送 item, marking it 已阅 (a POST: it changes the item)."""
    work = uow()
    instance_id = carbon_copies.mark_read(work, page_actor(), copy_id)
    work.commit()
    return redirect(url_for("pages.case", instance_id=instance_id))
