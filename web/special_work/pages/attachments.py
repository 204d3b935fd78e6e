"""A declaration's files (the commitment letter …), downloaded from the case, task and batch pages."""
from __future__ import annotations

from services.special_work import attachments
from web.api.downloads import file_response
from web.context import runtime, uow
from web.pages import pages
from web.pages.session import login_required, page_actor


@pages.get("/attachments/<int:attachment_id>")
@login_required
def attachment(attachment_id: int):
    """A case's file (e.g. the commitment letter), always downloaded, never rendered inline."""
    item = attachments.get_attachment(uow().session, runtime().engine, page_actor(), attachment_id)
    return file_response(item.content, item.filename, item.content_type)
