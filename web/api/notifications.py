"""/api/notifications: the in-app notification centre of the signed-in user."""
from __future__ import annotations

from marshmallow import Schema, fields

from engine.fields import DateTime, Integer
from services.platform import notifications
from web.api import api, documented
from web.api.paging import PageArgs, page_body, query_args
from web.auth import api_login_required, current_actor
from web.context import uow


class NotificationSchema(Schema):
    id = Integer()
    kind = fields.String()
    subject = fields.String()
    body = fields.String()
    instance_id = Integer(allow_none=True)
    task_id = fields.String(allow_none=True)
    created_at = DateTime()
    read_at = DateTime(allow_none=True)


class UnreadCountSchema(Schema):
    unread = Integer(minimum=0)


class NotificationQuery(PageArgs):
    unread = fields.Boolean(load_default=False, metadata={"description": "只看未读"})


@api.get("/notifications")
@api_login_required
@documented("我的通知（?unread=1 只看未读）", response=NotificationSchema, many=True, envelope="page",
            query=NotificationQuery)
def list_notifications():
    args = query_args(NotificationQuery)
    rows, total = notifications.list_notifications(uow().session, current_actor().username,
                                                   unread_only=args["unread"], page=args["page"],
                                                   per_page=args["per_page"])
    return page_body(NotificationSchema(many=True).dump(rows), total, args["page"], args["per_page"])


@api.get("/notifications/unread-count")
@api_login_required
@documented("未读通知数（页眉角标）", response=UnreadCountSchema)
def unread_count():
    return {"unread": notifications.unread_count(uow().session, current_actor().username)}


@api.post("/notifications/<int:notification_id>/read")
@api_login_required
@documented("标记一条通知为已读", response=NotificationSchema)
def mark_read(notification_id: int):
    work = uow()
    row = notifications.mark_read(work.session, current_actor().username, notification_id)
    work.commit()
    return NotificationSchema().dump(row)


@api.post("/notifications/read-all")
@api_login_required
@documented("全部标记为已读", response=UnreadCountSchema)
def mark_all_read():
    work = uow()
    notifications.mark_all_read(work.session, current_actor().username)
    work.commit()
    return {"unread": 0}
