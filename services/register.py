"""The register (人员及从业经历库): persons and their approved special-work-type histories."""
from __future__ import annotations

from datetime import date

from sqlalchemy import Boolean, Date, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from engine.db import Base


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
    suspicious: Mapped[bool] = mapped_column(Boolean, default=False)
