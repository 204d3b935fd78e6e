"""导出: the inbox's current list (待办 or 已办, same filters and order) as an Excel workbook."""
from __future__ import annotations

from flask import request

from engine.db import utcnow
from services.platform.exports import inbox_workbook
from services.platform.spreadsheets import XLSX
from web.api.downloads import file_response
from web.context import uow
from web.pages import pages
from web.pages.formatting import ymd
from web.pages.inbox import task_filter
from web.pages.params import InboxQuery, load
from web.pages.session import login_required, page_actor


@pages.get("/inbox/export.xlsx")
@login_required
def inbox_export():
    session = uow().session
    query, _errors = load(InboxQuery(), request.args)  # a bad filter is dropped, as on the page
    now = utcnow()
    content = inbox_workbook(session, page_actor(), task_filter(session, query), now)
    name = "已办" if query["scope"] == "done" else "待办"
    return file_response(content, f"{name}-{ymd(now)}.xlsx", XLSX)
