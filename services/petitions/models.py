"""The tables of the petition system (seed 004, 山东省网上信访信息系统): 信访人 accounts of the portal,
信访事项 (matters), 信访件 (items: one letter, visit or online complaint), the 办理记录 of each item at
each organisation, and the petitioners' 满意度评价. The cases themselves are the platform's: an
item's intake case, and one 办理 case per organisation it reaches (services.petitions.handling)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from engine.db import Base, utcnow


class Petitioner(Base):
    """A portal account's 信访人 particulars (用户注册, 004 §2.2). 姓名, 性别, 证件类型 never change
    (§2.6); the ID number neither, once the real-name check passed."""

    __tablename__ = "xf_petitioner"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), unique=True)
    name: Mapped[str] = mapped_column(String(50))
    gender: Mapped[str] = mapped_column(String(10), default="")
    id_type: Mapped[str] = mapped_column(String(20), default="")  # labels.ID_TYPES
    id_number: Mapped[str] = mapped_column(String(30), default="", index=True)
    phone: Mapped[str] = mapped_column(String(20), index=True)
    household_address: Mapped[str] = mapped_column(String(200), default="")  # 户口所在地
    usual_address: Mapped[str] = mapped_column(String(200), default="")  # 常用地址
    mail_address: Mapped[str] = mapped_column(String(200), default="")  # 通讯地址
    anonymous: Mapped[bool] = mapped_column(Boolean, default=False)
    verified: Mapped[bool] = mapped_column(Boolean, default=False)  # 实名认证 passed
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class PetitionMatter(Base):
    """信访事项: what is complained about; one matter, many items (相同信访事项)."""

    __tablename__ = "xf_matter"

    id: Mapped[int] = mapped_column(primary_key=True)
    region_code: Mapped[str] = mapped_column(String(6))  # 问题属地 of its first item
    first_registered_at: Mapped[datetime] = mapped_column(default=utcnow)
    # where the statutory procedure stands: "" | 复查办结 (reviewed) | 复核办结 (finally reviewed: 不再受理)
    stage: Mapped[str] = mapped_column(String(20), default="")


class Petition(Base):
    """信访件. Created when it arrives (a complaint submitted on the portal) or is registered (a letter,
    a visit); its handling state follows its cases (labels.STATUSES)."""

    __tablename__ = "xf_petition"
    __table_args__ = (
        # 判重: exact matches on the ID number, the phone and the normalised name. The name's index
        # carries the id so that "this name, newest first, at most 50" reads only that name's items in
        # order: with (name_key, place_region) PostgreSQL walked the primary key backwards through all
        # 1,000,000 items for a frequent name (王伟) whose address matched none (bench/petition_duplicates.py)
        Index("ix_xf_petition_id_number", "id_number"),
        Index("ix_xf_petition_phone", "phone"),
        Index("ix_xf_petition_name_id", "name_key", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(40), unique=True)  # 信访件编号 = its cases' business key
    matter_id: Mapped[int | None] = mapped_column(ForeignKey("xf_matter.id"), default=None, index=True)
    form: Mapped[str] = mapped_column(String(10))  # 信访形式: online / letter / visit
    intake_instance_id: Mapped[int | None] = mapped_column(ForeignKey("process_instance.id"), default=None)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))  # 登记机构
    responsible_org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))  # 责任单位 (where it is now)
    petitioner_username: Mapped[str | None] = mapped_column(String(100), default=None)  # a portal account's
    name: Mapped[str] = mapped_column(String(50))
    name_key: Mapped[str] = mapped_column(String(50))  # 姓名 normalised (duplicates.normalise_name)
    id_number: Mapped[str] = mapped_column(String(30), default="")
    phone: Mapped[str] = mapped_column(String(20), default="")
    address: Mapped[str] = mapped_column(String(200), default="")
    title: Mapped[str] = mapped_column(String(200))
    content: Mapped[str] = mapped_column(Text)
    place_region: Mapped[str] = mapped_column(String(6))  # 问题属地 (问题发生地)
    place_address: Mapped[str] = mapped_column(String(200), default="")
    purpose: Mapped[str] = mapped_column(String(20), default="")  # 信访目的: labels.PURPOSES
    category: Mapped[str] = mapped_column(String(20), default="")  # 问题类别: labels.CATEGORIES
    law_related: Mapped[bool] = mapped_column(Boolean, default=False)  # 涉法涉诉
    anonymous: Mapped[bool] = mapped_column(Boolean, default=False)
    first: Mapped[bool] = mapped_column(Boolean, default=True)  # 初次 (判重: not a 相同信访事项)
    linked_petition_id: Mapped[int | None] = mapped_column(ForeignKey("xf_petition.id"), default=None)
    in_scope: Mapped[bool] = mapped_column(Boolean, default=False)  # 纳入满意度评价 (scope.py decides)
    visitors: Mapped[int] = mapped_column(Integer, default=1)  # 来访人数
    status: Mapped[str] = mapped_column(String(20), default="submitted")
    registered_at: Mapped[datetime | None] = mapped_column(default=None)
    replied_at: Mapped[datetime | None] = mapped_column(default=None)
    reply: Mapped[str] = mapped_column(Text, default="")  # 处理意见 / 答复 the petitioner reads
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class HandlingRecord(Base):
    """办理记录: one 办理方式 taken on an item at one organisation (§6.1), in order."""

    __tablename__ = "xf_handling_record"

    id: Mapped[int] = mapped_column(primary_key=True)
    petition_id: Mapped[int] = mapped_column(ForeignKey("xf_petition.id"), index=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id"))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    mode: Mapped[str] = mapped_column(String(30))  # labels.MODES
    destination_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"), default=None)
    opinion: Mapped[str] = mapped_column(Text, default="")
    handled_by: Mapped[str] = mapped_column(String(100))
    handled_at: Mapped[datetime] = mapped_column(default=utcnow)


class Evaluation(Base):
    """满意度评价 by the petitioner (§2.9): both objects, three levels, at most twice; the latest counts."""

    __tablename__ = "xf_evaluation"
    __table_args__ = (UniqueConstraint("petition_id", "seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    petition_id: Mapped[int] = mapped_column(ForeignKey("xf_petition.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)  # 1 or 2
    bureau_level: Mapped[str] = mapped_column(String(20))  # 对信访部门: labels.LEVELS
    unit_level: Mapped[str] = mapped_column(String(20))  # 对责任单位
    reason: Mapped[str] = mapped_column(String(20), default="")  # 不满意原因: labels.REASONS
    message: Mapped[str] = mapped_column(String(500), default="")
    evaluated_at: Mapped[datetime] = mapped_column(default=utcnow)


class SimpleRegistration(Base):
    """来信简单登记 (004 §4.2): a letter that needs no handling — 内容不清信, 重信, 转外省, 涉法涉诉信,
    三级终结信 — recorded with where it went, never a case (L959–960)."""

    __tablename__ = "xf_simple_registration"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    name: Mapped[str] = mapped_column(String(50))
    address: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))  # labels.SIMPLE_KINDS
    letters: Mapped[int] = mapped_column(Integer, default=1)  # 来信数量
    recipient: Mapped[str] = mapped_column(String(100), default="")  # 受信人
    note: Mapped[str] = mapped_column(String(1000), default="")  # 说明
    mode: Mapped[str] = mapped_column(String(20), default="file")  # 办理方式: labels.SIMPLE_MODES
    destination: Mapped[str] = mapped_column(String(200), default="")  # 去向
    registered_by: Mapped[str] = mapped_column(String(100))
    registered_at: Mapped[datetime] = mapped_column(default=utcnow)
