"""The special-work-type catalogue (特殊工种名录): industry × work type × nature."""
from __future__ import annotations

from sqlalchemy import Boolean, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from engine.db import Base

NATURES = {
    "high_altitude_heavy": "高空和特别繁重体力劳动",
    "underground": "井下",
    "high_temperature": "高温",
    "toxic_hazardous": "其他有害身体健康",
}


class WorkType(Base):
    __tablename__ = "work_type"

    code: Mapped[str] = mapped_column(String(20), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    industry: Mapped[str] = mapped_column(String(100), index=True)
    nature: Mapped[str] = mapped_column(String(30))
    active: Mapped[bool] = mapped_column(Boolean, default=True)


def list_work_types(session: Session, industry: str | None = None, include_retired: bool = False) -> list[WorkType]:
    query = select(WorkType).order_by(WorkType.industry, WorkType.code)
    if industry:
        query = query.where(WorkType.industry == industry)
    if not include_retired:
        query = query.where(WorkType.active.is_(True))
    return list(session.scalars(query))
