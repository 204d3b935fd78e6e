"""通知 (notification centre): the unread badge of the header, the list, and marking as read.
The rules live in services.platform.notifications."""
from __future__ import annotations

import logging
from math import ceil

from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from marshmallow import fields
from sqlalchemy.exc import SQLAlchemyError

from services.platform import notifications
from web.context import uow
from web.pages import pages
from web.pages.params import PageForm, load, page_number
from web.pages.session import login_required, safe_next

PER_PAGE = 20
log = logging.getLogger(__name__)


class NotificationQuery(PageForm):
    unread = fields.Boolean(load_default=False)
    page = page_number()


@pages.app_template_global()
def unread_notifications() -> int:
    """The header's badge: one count over the index (recipient, read_at) in the request's unit of
    work. An error page whose transaction a failed statement aborted shows no badge."""
    if g.get("user") is None:
        return 0
    try:
        return notifications.unread_count(uow().session, g.user.username)
    except SQLAlchemyError:
        log.warning("unread count unavailable", exc_info=True)
        return 0


@pages.get("/notifications")
@login_required
def notification_list():
    query, errors = load(NotificationQuery(), request.args)
    page = query.get("page", 1)
    rows, total = notifications.list_notifications(uow().session, g.user.username,
                                                   unread_only=query.get("unread", False), page=page,
                                                   per_page=PER_PAGE)
    args = {"unread": "true"} if query.get("unread") else {}
    return render_template("notifications.html", rows=rows, total=total, page=page,
                           pages=max(1, ceil(total / PER_PAGE)), unread_only=query.get("unread", False), args=args)


@pages.post("/notifications/<int:notification_id>/read")
@login_required
def notification_read(notification_id: int):
    work = uow()
    notifications.mark_read(work.session, g.user.username, notification_id)
    work.commit()
    return redirect(safe_next(request.form.get("back") or url_for("pages.notification_list")))


@pages.post("/notifications/read-all")
@login_required
def notifications_read_all():
    work = uow()
    count = notifications.mark_all_read(work.session, g.user.username)
    work.commit()
    flash(_("已将 %(n)s 条通知标为已读", n=count), "success")
    return redirect(url_for("pages.notification_list"))
