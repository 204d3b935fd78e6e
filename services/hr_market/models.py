"""The tables of the human-resources market licence system (seed 003): the register of 人力资源服务机构,
their 行政许可 (licences) and 业务备案 (filings). The cases themselves are the platform's."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from engine.db import Base, utcnow

ACTIVE = "active"
CANCELLED = "cancelled"  # 已注销


class HrOrganisation(Base):
    """人力资源服务机构: who applies. Its applicants' accounts are bound to it by the credit code."""

    __tablename__ = "hr_organisation"

    id: Mapped[int] = mapped_column(primary_key=True)
    credit_code: Mapped[str] = mapped_column(String(18), unique=True)  # 统一社会信用代码 (GB 32100)
    name: Mapped[str] = mapped_column(String(200), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # 机构类型: labels.ORGANISATION_KINDS
    legal_representative: Mapped[str] = mapped_column(String(50))
    address: Mapped[str] = mapped_column(String(200))  # 住所: decides the region that licenses it
    region_code: Mapped[str] = mapped_column(String(6), index=True)
    contact_person: Mapped[str] = mapped_column(String(50), default="")
    contact_phone: Mapped[str] = mapped_column(String(30), default="")
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("hr_organisation.id"), default=None)  # a branch's
    status: Mapped[str] = mapped_column(String(20), default=ACTIVE)
    source: Mapped[str] = mapped_column(String(20), default="staff")  # staff / history (历史数据采集)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class HrLicence(Base):
    """人力资源服务许可证: granted by 审批 (准予许可) or imported; its numbers never change."""

    __tablename__ = "hr_licence"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("hr_organisation.id"), index=True)
    licence_number: Mapped[str] = mapped_column(String(40), unique=True)  # 许可证编号
    document_number: Mapped[str] = mapped_column(String(100), default="")  # 文号 of the 准予许可决定书
    items: Mapped[list[Any]] = mapped_column(JSON, default=list)  # 许可事项: codes of labels.LICENCE_ITEMS
    issued_on: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date | None] = mapped_column(Date, default=None)
    status: Mapped[str] = mapped_column(String(20), default=ACTIVE)
    cancelled_on: Mapped[date | None] = mapped_column(Date, default=None)
    cancel_mode: Mapped[str] = mapped_column(String(20), default="")  # labels.CANCEL_MODES
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("hr_licence.id"), default=None)  # a branch's: derived
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("process_instance.id"), default=None)
    source: Mapped[str] = mapped_column(String(20), default="application")  # application / history
    granted_by: Mapped[str] = mapped_column(String(100), default="")


class HrFiling(Base):
    """业务备案: recorded by 资料核查 (核查通过) or imported; its number never changes."""

    __tablename__ = "hr_filing"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("hr_organisation.id"), index=True)
    filing_number: Mapped[str] = mapped_column(String(40), unique=True)  # 备案编号
    items: Mapped[list[Any]] = mapped_column(JSON, default=list)  # 备案事项: codes of labels.FILING_ITEMS
    filed_on: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), default=ACTIVE)
    cancelled_on: Mapped[date | None] = mapped_column(Date, default=None)
    cancel_mode: Mapped[str] = mapped_column(String(20), default="")  # labels.CANCEL_MODES
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("hr_filing.id"), default=None)  # a branch's: derived
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("process_instance.id"), default=None)
    source: Mapped[str] = mapped_column(String(20), default="application")  # application / history
    recorded_by: Mapped[str] = mapped_column(String(100), default="")


class HrLicenceCancellation(Base):
    """注销单位行政许可 (003 §2.13): the authority cancels some or all items of a licence, at once and for
    good; the licence itself is cancelled when no item is left."""

    __tablename__ = "hr_licence_cancellation"

    id: Mapped[int] = mapped_column(primary_key=True)
    licence_id: Mapped[int] = mapped_column(ForeignKey("hr_licence.id"), index=True)
    items: Mapped[list[Any]] = mapped_column(JSON, default=list)  # the 许可事项 cancelled
    whole: Mapped[bool] = mapped_column(default=False)  # the licence ended with it
    reason: Mapped[str] = mapped_column(String(20))  # labels.CANCEL_REASONS
    basis: Mapped[str] = mapped_column(String(200), default="")  # 注销依据 / 文号
    cancelled_on: Mapped[date] = mapped_column(Date)
    note: Mapped[str] = mapped_column(String(500), default="")
    cancelled_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class HrAnnualReport(Base):
    """年度报告 (003 §2.19): one per organisation and year, its figures as last submitted; a report
    returned after 通过 (退回重填) is submitted again by a new case, its revision one higher."""

    __tablename__ = "hr_annual_report"
    __table_args__ = (UniqueConstraint("organisation_id", "year", name="uq_hr_annual_report_year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("hr_organisation.id"), index=True)
    year: Mapped[int] = mapped_column(Integer)  # 报告年度
    revision: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[str] = mapped_column(String(20))  # labels.REPORT_STATUSES
    figures: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # the report's form values
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("process_instance.id"), default=None)
    submitted_at: Mapped[datetime] = mapped_column(default=utcnow)
    reviewed_on: Mapped[date | None] = mapped_column(Date, default=None)
    reviewed_by: Mapped[str] = mapped_column(String(100), default="")
    return_reason: Mapped[str] = mapped_column(String(500), default="")


class HrChangeRecord(Base):
    """One particular changed by an approved 事项变更 (003 §2.7–2.8): its value before and after."""

    __tablename__ = "hr_change_record"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("hr_organisation.id"), index=True)
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("process_instance.id"), default=None)
    field: Mapped[str] = mapped_column(String(30))  # labels.CHANGE_TYPES
    before: Mapped[str] = mapped_column(String(500))
    after: Mapped[str] = mapped_column(String(500))
    changed_on: Mapped[date] = mapped_column(Date)
    changed_by: Mapped[str] = mapped_column(String(100))


class HrJobFair(Base):
    """现场招聘会 an organisation holds (003 §2.21)."""

    __tablename__ = "hr_job_fair"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("hr_organisation.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    venue: Mapped[str] = mapped_column(String(200))
    region_code: Mapped[str] = mapped_column(String(6), index=True)  # the venue's
    booths: Mapped[int | None] = mapped_column(Integer, default=None)
    contact_person: Mapped[str] = mapped_column(String(50))
    contact_phone: Mapped[str] = mapped_column(String(30))
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
