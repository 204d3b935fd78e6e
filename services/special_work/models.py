"""The tables of the special-work-type system (seed 000), in one place: the use-case modules import
them from here, never from each other, so that the catalogue, the register and the declarations do
not import one another for their models."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    true,
)
from sqlalchemy.orm import Mapped, deferred, mapped_column, relationship

from engine.db import Base, utcnow


# ------------------------------------------ 特殊工种名录 (catalogue)
class WorkType(Base):
    __tablename__ = "work_type"

    code: Mapped[str] = mapped_column(String(20), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    industry: Mapped[str] = mapped_column(String(100), index=True)
    nature: Mapped[str] = mapped_column(String(30))
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class WorkNature(Base):
    """A nature of work (特殊工种性质) with its early-retirement rule."""

    __tablename__ = "work_nature"

    code: Mapped[str] = mapped_column(String(30), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    required_years: Mapped[int] = mapped_column(Integer)  # accumulated years in this nature of work
    min_age_male: Mapped[int] = mapped_column(Integer)
    min_age_female: Mapped[int] = mapped_column(Integer)


# ------------------------------------------ 单位 (enterprises)
class Enterprise(Base):
    __tablename__ = "enterprise"

    code: Mapped[str] = mapped_column(String(30), primary_key=True)  # 单位编号
    name: Mapped[str] = mapped_column(String(200))
    region_code: Mapped[str] = mapped_column(String(6), index=True)
    industry: Mapped[str] = mapped_column(String(100))
    address: Mapped[str] = mapped_column(String(300), default="")
    postal_code: Mapped[str] = mapped_column(String(6), default="")
    contact_person: Mapped[str] = mapped_column(String(50), default="")
    contact_phone: Mapped[str] = mapped_column(String(30), default="")
    portal_enabled: Mapped[bool] = mapped_column(Boolean, default=True)


# ------------------------------------------ 人员库 (the register of persons and work histories)
class Person(Base):
    __tablename__ = "person"

    id: Mapped[int] = mapped_column(primary_key=True)
    id_number: Mapped[str] = mapped_column(String(18), unique=True)
    name: Mapped[str] = mapped_column(String(50))
    gender: Mapped[str] = mapped_column(String(10))
    birth_date: Mapped[date] = mapped_column(Date)
    region_code: Mapped[str] = mapped_column(String(6), index=True)


class WorkHistory(Base):
    __tablename__ = "work_history"
    __table_args__ = (Index("ix_work_history_person_dates", "person_id", "start_date"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    enterprise_code: Mapped[str] = mapped_column(String(30), index=True)
    work_type_code: Mapped[str] = mapped_column(ForeignKey("work_type.code"))
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)
    batch_no: Mapped[str] = mapped_column(String(40), default="")
    # 疑点数据: set by a failed spot check; an invalid entry no longer counts for early retirement
    suspicious: Mapped[bool] = mapped_column(Boolean, default=False)
    valid: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())


# ------------------------------------------ 申报 (declaration batches, declared persons, 校验 findings)
class DeclarationBatch(Base):
    __tablename__ = "declaration_batch"

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_no: Mapped[str] = mapped_column(String(40), unique=True)
    kind: Mapped[str] = mapped_column(String(10))
    enterprise_code: Mapped[str] = mapped_column(ForeignKey("enterprise.code"), index=True)
    region_code: Mapped[str] = mapped_column(String(6), index=True)
    status: Mapped[str] = mapped_column(String(20), default="submitted")
    submitted_by: Mapped[str] = mapped_column(String(100))
    submitted_at: Mapped[datetime] = mapped_column(default=utcnow)
    instance_id: Mapped[int | None] = mapped_column(Integer, default=None)
    person_count: Mapped[int] = mapped_column(Integer, default=0)
    error_count: Mapped[int] = mapped_column(Integer, default=0)

    persons: Mapped[list[DeclaredPerson]] = relationship(back_populates="batch", order_by="DeclaredPerson.id")


class DeclaredPerson(Base):
    __tablename__ = "declared_person"
    __table_args__ = (Index("ix_declared_person_batch_status", "batch_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("declaration_batch.id"), index=True)
    id_number: Mapped[str] = mapped_column(String(18), index=True)
    name: Mapped[str] = mapped_column(String(50))
    gender: Mapped[str] = mapped_column(String(10))
    birth_date: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), default="pending")
    work_histories: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    conclusion: Mapped[str | None] = mapped_column(String(500), default=None)  # why failed or sent back
    decided_by: Mapped[str | None] = mapped_column(String(100), default=None)

    batch: Mapped[DeclarationBatch] = relationship(back_populates="persons")


class DeclarationCheck(Base):
    """One finding of 校验 for one declared person."""

    __tablename__ = "declaration_check"

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("declaration_batch.id"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("declared_person.id"), index=True)
    field: Mapped[str] = mapped_column(String(50))
    message: Mapped[str] = mapped_column(String(300))


# ------------------------------------------ 提前退休登记 (early retirement)
class EarlyRetirement(Base):
    __tablename__ = "early_retirement"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    id_number: Mapped[str] = mapped_column(String(18), index=True)
    name: Mapped[str] = mapped_column(String(50))
    region_code: Mapped[str] = mapped_column(String(6), index=True)
    nature: Mapped[str] = mapped_column(String(30))
    retirement_date: Mapped[date] = mapped_column(Date)
    age: Mapped[int] = mapped_column(Integer, default=0)
    accumulated_years: Mapped[float] = mapped_column(Float, default=0.0)
    check_passed: Mapped[bool | None] = mapped_column(Boolean, default=None)
    check_messages: Mapped[list[str]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(20), default="checking")
    suspicious: Mapped[bool] = mapped_column(Boolean, default=False)
    note: Mapped[str] = mapped_column(String(500), default="")  # 审批情况 entered at registration
    conclusion: Mapped[str | None] = mapped_column(String(500), default=None)
    spot_check_result: Mapped[str | None] = mapped_column(String(10), default=None)
    registered_by: Mapped[str] = mapped_column(String(100))
    registered_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_by: Mapped[str | None] = mapped_column(String(100), default=None)
    instance_id: Mapped[int | None] = mapped_column(Integer, default=None)


# ------------------------------------------ 抽查 (spot checks)
class SpotCheck(Base):
    __tablename__ = "spot_check"
    __table_args__ = (Index("ix_spot_check_target", "kind", "target_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    target_id: Mapped[int] = mapped_column(Integer)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    id_number: Mapped[str] = mapped_column(String(18), index=True)
    region_code: Mapped[str] = mapped_column(String(6), index=True)
    result: Mapped[str] = mapped_column(String(10))
    note: Mapped[str] = mapped_column(String(500), default="")
    checked_by: Mapped[str] = mapped_column(String(100))
    checked_at: Mapped[datetime] = mapped_column(default=utcnow)


# ------------------------------------------ 承诺书等附件 (attachments of a batch)
class Attachment(Base):
    __tablename__ = "attachment"

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("declaration_batch.id"), index=True)
    kind: Mapped[str] = mapped_column(String(30))
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(50))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes] = deferred(mapped_column(LargeBinary, nullable=False))
    uploaded_by: Mapped[str] = mapped_column(String(100))
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)


# ------------------------------------------ 申报导入 (uploaded workbooks waiting for their import job)
class DeclarationUpload(Base):
    """An uploaded workbook (and commitment letter) waiting for its import job."""

    __tablename__ = "declaration_upload"

    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_code: Mapped[str] = mapped_column(ForeignKey("enterprise.code"), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    import_valid_rows: Mapped[bool] = mapped_column(Boolean, default=False)
    filename: Mapped[str] = mapped_column(String(200))
    size: Mapped[int] = mapped_column(Integer)
    content: Mapped[bytes] = deferred(mapped_column(LargeBinary, nullable=False))
    letter_filename: Mapped[str | None] = mapped_column(String(200), default=None)
    letter: Mapped[bytes | None] = deferred(mapped_column(LargeBinary, default=None))
    uploaded_by: Mapped[str] = mapped_column(String(100))
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)
