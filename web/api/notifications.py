"""/api/notifications: the in-app notification centre of the signed-in user."""
from __future__ import annotations

from flask import request
from marshmallow import Schema, fields

from services import notifications
from web.api import api, documented
from web.api.paging import page_args, page_body
from web.auth import api_login_required, current_actor
from web.context import uow


class NotificationSchema(Schema):
    id = fields.Integer()
    kind = fields.String()
    subject = fields.String()
    body = fields.String()
    instance_id = fields.Integer(allow_none=True)
    task_id = fields.String(allow_none=True)
    created_at = fields.DateTime()
    read_at = fields.DateTime(allow_none=True)


class UnreadCountSchema(Schema):
    unread = fields.Integer()


@api.get("/notifications")
@api_login_required
@documented("我的通知（?unread=1 只看未读）", response=NotificationSchema, many=True)
def list_notifications():
    page, per_page = page_args()
    rows, total = notifications.list_notifications(uow().session, current_actor().username,
                                                   unread_only=request.args.get("unread") in ("1", "true"),
                                                   page=page, per_page=per_page)
    return page_body(NotificationSchema(many=True).dump(rows), total, page, per_page)


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
