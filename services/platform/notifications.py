"""Notifications (消息通知): the in-app notification centre, e-mail through SMTP and a pluggable SMS
channel. Texts are Jinja2 templates in ``services/templates/notifications/`` whose first line is
the subject and the rest the body.

:meth:`Notifier.notify` writes in-app rows in the caller's transaction. When e-mail or SMS is
configured it also submits a delivery job, so that nothing is sent before the commit and a mail
server that is slow or down never holds a transaction (the job retries; each row records when it
was mailed or texted, so a redelivered job does not send it twice).
"""
from __future__ import annotations

import logging
import pkgutil
import smtplib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Protocol

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from sqlalchemy import Boolean, Index, Integer, String, Text, func, insert, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from engine.db import Base, UnitOfWork, rowcount, utcnow
from engine.errors import NotFound
from services.platform.jobs import JobContext, JobService

log = logging.getLogger(__name__)
TEMPLATES = Path(__file__).resolve().parent / "templates" / "notifications"
DELIVER = "notifications.deliver"
_templates = Environment(loader=FileSystemLoader(TEMPLATES), undefined=StrictUndefined, autoescape=False,
                         keep_trailing_newline=False)


class Notification(Base):
    __tablename__ = "notification"
    __table_args__ = (Index("ix_notification_inbox", "recipient", "read_at", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    recipient: Mapped[str] = mapped_column(String(100))  # username
    kind: Mapped[str] = mapped_column(String(30))  # the template's name: reminder_due_soon, escalation…
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    instance_id: Mapped[int | None] = mapped_column(Integer, default=None)
    task_id: Mapped[str | None] = mapped_column(String(36), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(default=None)
    emailed_at: Mapped[datetime | None] = mapped_column(default=None)
    texted_at: Mapped[datetime | None] = mapped_column(default=None)


class Contact(Base):
    """Where a user wants to be told besides the in-app centre."""

    __tablename__ = "notification_contact"

    username: Mapped[str] = mapped_column(String(100), primary_key=True)
    email: Mapped[str | None] = mapped_column(String(200), default=None)
    mobile: Mapped[str | None] = mapped_column(String(20), default=None)
    email_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    sms_enabled: Mapped[bool] = mapped_column(Boolean, default=False)


def render(template: str, context: dict[str, Any]) -> tuple[str, str]:
    """(subject, body) of ``<template>.txt``."""
    text = _templates.get_template(f"{template}.txt").render(**context)
    subject, _, body = text.partition("\n")
    return subject.strip(), body.strip() + "\n"


# ---------------------------------------------------------------------- channels
class SmsGateway(Protocol):
    """What an SMS provider adapter implements (configured with BANJIAN_SMS_GATEWAY=module:factory)."""

    def send(self, mobile: str, text: str) -> None: ...


@dataclass
class SmtpSettings:
    host: str
    port: int = 25
    username: str = ""
    password: str = ""
    sender: str = "banjian@localhost"
    starttls: bool = False
    timeout: float = 10.0


class EmailChannel:
    def __init__(self, settings: SmtpSettings):
        self.settings = settings

    def send(self, to: str, subject: str, body: str) -> None:
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = self.settings.sender, to, subject
        message.set_content(body)
        s = self.settings
        with smtplib.SMTP(s.host, s.port, timeout=s.timeout) as smtp:
            if s.starttls:
                smtp.starttls()
            if s.username:
                smtp.login(s.username, s.password)
            smtp.send_message(message)


# ---------------------------------------------------------------------- sending
class Notifier:
    def __init__(self, jobs: JobService, email: EmailChannel | None = None, sms: SmsGateway | None = None):
        self.jobs = jobs
        self.email = email
        self.sms = sms
        jobs.register(DELIVER, self._deliver)

    def notify(self, uow: UnitOfWork, recipients: Iterable[str], template: str, context: dict[str, Any], *,
               instance_id: int | None = None, task_id: str | None = None) -> list[int]:
        """One in-app notification per recipient (duplicates removed); e-mail/SMS after the commit."""
        subject, body = render(template, context)
        rows = [{"recipient": r, "kind": template, "subject": subject[:200], "body": body,
                 "instance_id": instance_id, "task_id": task_id, "created_at": utcnow()}
                for r in dict.fromkeys(recipients)]
        return self.add(uow, rows)

    def add(self, uow: UnitOfWork, rows: list[dict[str, Any]]) -> list[int]:
        """Insert prepared rows (recipient, kind, subject, body, …) in bulk; returns the ids handed to the
        delivery job (none when only the in-app centre is configured)."""
        if not rows:
            return []
        if self.email is None and self.sms is None:  # in-app only: no ids needed, a plain bulk insert
            uow.session.execute(insert(Notification), rows)
            return []
        ids = list(uow.session.scalars(insert(Notification).returning(Notification.id), rows))
        self.jobs.submit(uow.session, uow.after_commit, DELIVER, {"ids": ids}, created_by="system", total=len(ids))
        return ids

    def _deliver(self, ctx: JobContext) -> dict[str, int]:
        ids = [int(i) for i in ctx.params["ids"]]
        sent = {"emailed": 0, "texted": 0}
        for done, notification_id in enumerate(ids, start=1):
            with self.jobs.unit_of_work() as uow:
                sent_now = self._deliver_one(uow.session, notification_id)
                uow.commit()
            for key, value in sent_now.items():
                sent[key] += value
            if done % 50 == 0 or done == len(ids):
                ctx.progress(done, len(ids))
        return sent

    def _deliver_one(self, session: Session, notification_id: int) -> dict[str, int]:
        row = session.get(Notification, notification_id)
        contact = session.get(Contact, row.recipient) if row is not None else None
        if row is None or contact is None:
            return {}
        sent: dict[str, int] = {}
        if self.email is not None and contact.email and contact.email_enabled and row.emailed_at is None:
            self.email.send(contact.email, row.subject, row.body)
            row.emailed_at = utcnow()
            sent["emailed"] = 1
        if self.sms is not None and contact.mobile and contact.sms_enabled and row.texted_at is None:
            self.sms.send(contact.mobile, f"{row.subject}：{row.body}"[:300])
            row.texted_at = utcnow()
            sent["texted"] = 1
        return sent


def notifier_from_settings(jobs: JobService, settings: Any) -> Notifier:
    """E-mail when ``smtp_host`` is set; SMS when ``sms_gateway`` names a factory (``module:callable``)."""
    email = None
    if settings.smtp_host:
        email = EmailChannel(SmtpSettings(settings.smtp_host, settings.smtp_port, settings.smtp_username,
                                          settings.smtp_password, settings.smtp_sender, settings.smtp_starttls))
    sms = pkgutil.resolve_name(settings.sms_gateway)() if settings.sms_gateway else None
    return Notifier(jobs, email, sms)


# ---------------------------------------------------------------------- the notification centre
def unread_count(session: Session, username: str) -> int:
    return session.scalar(select(func.count()).where(Notification.recipient == username,
                                                     Notification.read_at.is_(None))) or 0


def list_notifications(session: Session, username: str, *, unread_only: bool = False, page: int = 1,
                       per_page: int = 20) -> tuple[list[Notification], int]:
    query = select(Notification).where(Notification.recipient == username)
    if unread_only:
        query = query.where(Notification.read_at.is_(None))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(Notification.id.desc()).limit(per_page).offset((page - 1) * per_page))
    return list(rows), total


def mark_read(session: Session, username: str, notification_id: int) -> Notification:
    row = session.get(Notification, notification_id)
    if row is None or row.recipient != username:
        raise NotFound("通知不存在")
    row.read_at = row.read_at or utcnow()
    return row


def mark_all_read(session: Session, username: str) -> int:
    return rowcount(session.execute(update(Notification).where(Notification.recipient == username,
                                                               Notification.read_at.is_(None))
                                    .values(read_at=utcnow())))


def set_contact(session: Session, username: str, *, email: str | None = None, mobile: str | None = None,
                email_enabled: bool = True, sms_enabled: bool = False) -> Contact:
    contact = session.get(Contact, username) or Contact(username=username)
    contact.email, contact.mobile = email, mobile
    contact.email_enabled, contact.sms_enabled = email_enabled, sms_enabled
    session.add(contact)
    return contact
