"""Attachments of a declaration batch: the commitment letter (承诺书), PDF or image.

Uploads are untrusted: the type is decided by the file's first bytes (magic numbers), never by
its name or the browser's content type, and the size is capped. The bytes are stored in the
database so that they share the batch's transaction and backups.
"""
from __future__ import annotations

import hashlib

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.actors import Actor
from engine.errors import Conflict, Forbidden, InvalidData, NotFound
from engine.runtime import WorkflowEngine
from services.platform.attachments import MAX_BYTES, sniff
from services.special_work.declarations import get_visible_batch
from services.special_work.models import Attachment

KINDS = {"commitment_letter": "承诺书"}
CLOSED = ("approved", "rejected")


def attach(session: Session, engine: WorkflowEngine, actor: Actor, batch_id: int, filename: str, content: bytes,
           kind: str = "commitment_letter") -> Attachment:
    batch = get_visible_batch(session, engine, actor, batch_id)
    if actor.party != batch.enterprise_code and not actor.holds("reviewer", batch.region_code):
        raise Forbidden("只有申报单位或审核人员可以上传承诺书")
    if batch.status in CLOSED:
        raise Conflict("批次已办结，不能再上传附件")
    if kind not in KINDS:
        raise InvalidData("未知的附件类型", fields={"kind": [f"附件类型应为 {', '.join(KINDS)}"]})
    if not content:
        raise InvalidData("上传的文件为空", fields={"file": ["上传的文件为空"]})
    if len(content) > MAX_BYTES:
        raise InvalidData("承诺书文件不能超过 %(mb)s MB" % dict(mb=MAX_BYTES // 1024 // 1024),
                          fields={"file": [f"文件不能超过 {MAX_BYTES // 1024 // 1024} MB"]})
    sniffed = sniff(content)
    if sniffed is None:
        raise InvalidData("承诺书只能是 PDF、PNG 或 JPEG 文件", fields={"file": ["文件内容不是 PDF 或图片"]})
    content_type, extension = sniffed
    stem = (filename or "").rsplit("/", 1)[-1].rsplit("\\", 1)[-1].rsplit(".", 1)[0][:150] or KINDS[kind]
    attachment = Attachment(batch_id=batch.id, kind=kind, filename=f"{stem}.{extension}", content_type=content_type,
                            size=len(content), sha256=hashlib.sha256(content).hexdigest(), content=content,
                            uploaded_by=actor.username)
    session.add(attachment)
    session.flush()
    return attachment


def list_attachments(session: Session, engine: WorkflowEngine, actor: Actor, batch_id: int) -> list[Attachment]:
    get_visible_batch(session, engine, actor, batch_id)
    return list(session.scalars(select(Attachment).where(Attachment.batch_id == batch_id).order_by(Attachment.id)))


def get_attachment(session: Session, engine: WorkflowEngine, actor: Actor, attachment_id: int) -> Attachment:
    attachment = session.get(Attachment, attachment_id)
    if attachment is None:
        raise NotFound("附件不存在")
    get_visible_batch(session, engine, actor, attachment.batch_id)
    return attachment
