"""Template helpers: dates as YYYY-MM-DD in China Standard Time, Chinese labels for codes."""
from __future__ import annotations

import re
from datetime import date, datetime, timedelta

from flask import Flask, g
from flask_babel import gettext as _
from flask_babel import pgettext
from markupsafe import Markup
from sqlalchemy import select

from engine import lifecycle, query_code
from engine.db import utcnow
from engine.forms import FormDefinition
from services.platform import region_names
from services.platform.identity import ROLES, Region
from web.context import uow

# Times are stored as naive UTC; China has one time zone and no daylight saving time.
CST = timedelta(hours=8)


def to_local(value: datetime) -> datetime:
    return value + CST


def local_day_start_utc(day: date) -> datetime:
    """The UTC instant at which a local (CST) calendar day begins: for date filters."""
    return datetime(day.year, day.month, day.day) - CST


def ymd(value: datetime | date | None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = to_local(value)
    return value.strftime("%Y-%m-%d")


def ymdhm(value: datetime | None) -> str:
    return to_local(value).strftime("%Y-%m-%d %H:%M") if value else ""


def due(value: datetime | None) -> str:
    """A due date: the day for a limit in (working) days, which ends the day; day and hour for an
    hour-based one."""
    if value is None:
        return ""
    local = to_local(value)
    return ymd(value) if (local.hour, local.minute) == (23, 59) else local.strftime("%Y-%m-%d %H:%M")


def document_day(text: str) -> str:
    """A document's day as documents write it (2026年12月3日, services.platform.documents) in the
    page's language: 2026-12-03 in English."""
    from web.pages.i18n import DEFAULT, current_language

    found = re.fullmatch(r"(\d{4})年(\d{1,2})月(\d{1,2})日", text or "")
    if current_language() == DEFAULT or not found:
        return text or ""
    return f"{found.group(1)}-{int(found.group(2)):02d}-{int(found.group(3)):02d}"


def overdue(value: datetime | None) -> bool:
    return value is not None and value < utcnow()


def instance_status(code: str) -> str:
    labels = {"running": _("运行中"), "waiting": _("办理中"), "completed": _("已办结"),
              "terminated": _("已终止"), "error": _("异常")}
    return labels.get(code, code)


def decision_label(code: str | None) -> str:
    label = lifecycle.DECISION_LABELS.get(code or "")
    return _(label) if label else code or ""


def event_label(kind: str) -> str:
    labels = {"started": _("发起"), "task_completed": _("办理"), "task_delegated": _("转交"),
              "service_task": _("自动处理"), "completed": _("办结"), "error": _("异常"),
              "retried": pgettext("event", "重试"), "terminated": pgettext("event", "终止"), "supervised": _("督办"),
              "clock_started": _("开始计时"), "clock_paused": _("暂停计时"), "clock_resumed": _("恢复计时"),
              "task_returned": _("退回"), "task_withdrawn": _("撤回"), "signers_added": _("加签"),
              "signers_removed": _("减签"), "completion_held": _("提交（待加签人员办理）"),
              "message_received": _("收到消息"), "timer_fired": _("定时器到期"), "moved": _("移交机构"),
              "task_extended": _("延期"), "migrated": _("迁移版本"), "data_edited": _("修改业务数据"),
              "moved_to_step": _("调整环节")}
    return labels.get(kind, kind)


def case_status(code: str | None) -> str:
    """办件状态 in words (engine.lifecycle; the words are in the catalogue)."""
    return _(lifecycle.label(code)) if code else ""


def region_name(name: str | None) -> str:
    """A region's name in the page's language (历下区, Lixia District: services.platform.region_names)."""
    from web.pages.i18n import DEFAULT, current_language

    if not name or current_language() == DEFAULT:
        return name or ""
    return region_names.english(name)


def region_label(code: str | None) -> str:
    """A region code in words (历下区; Lixia District in English), once per code and request; the
    code itself when unknown."""
    if not code:
        return ""
    names = g.setdefault("region_names", {})
    if code not in names:
        found = uow().session.scalar(select(Region.name).where(Region.code == code))
        names[code] = region_name(found) if found else code
    return names[code]


def user_data(value: object) -> Markup:
    """What a user typed (a name, a conclusion), marked as such in the page (``data-user``): for a
    value placed inside a translated sentence. tests/web/test_english_pages.py leaves it out."""
    return Markup('<span data-user>%s</span>') % ("" if value is None else value)


def role_label(code: str) -> str:
    return _(ROLES[code]) if code in ROLES else code


def filesize(size: int) -> str:
    return f"{size / 1024 / 1024:.1f} MB" if size >= 1024 * 1024 else f"{max(1, round(size / 1024))} KB"


def has_files(form: FormDefinition) -> bool:
    """The form has material (filepicker) fields: it is posted as multipart/form-data."""
    return any(f.type == "filepicker" for f in form.fields)


def setup(app: Flask) -> None:
    app.jinja_env.filters.update(ymd=ymd, ymdhm=ymdhm, due=due, instance_status=instance_status,
                                 decision_label=decision_label, event_label=event_label, role_label=role_label,
                                 case_status=case_status, query_code=query_code.shown, filesize=filesize,
                                 has_files=has_files, region_label=region_label,
                                 region_name=region_name, user=user_data,
                                 document_day=document_day)
    app.jinja_env.tests["overdue"] = overdue
