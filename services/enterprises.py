"""Enterprises (单位): the applicants of declarations."""
from __future__ import annotations

from sqlalchemy import Boolean, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from engine.actors import Actor, region_condition
from engine.db import Base
from engine.errors import NotFound


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


def visible_enterprises(session: Session, actor: Actor) -> list[Enterprise]:
    """An enterprise user sees its own enterprise; staff see those of their regions and below."""
    query = select(Enterprise).order_by(Enterprise.code)
    if actor.party:
        query = query.where(Enterprise.code == actor.party)
    else:
        query = query.where(region_condition(Enterprise.region_code, [g for _, g in actor.grants]))
    return list(session.scalars(query))


def get_enterprise(session: Session, code: str) -> Enterprise:
    enterprise = session.get(Enterprise, code)
    if enterprise is None:
        raise NotFound(f"单位 {code} 不存在")
    return enterprise
