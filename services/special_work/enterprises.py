"""Enterprises (单位): the applicants of declarations (seed 000, 3.1 特殊工种企业信息管理).

The local office creates and edits them, resets the portal (报送系统 / 网厅) password of their
users and opens or closes their portal access; each of these is audited.
"""
from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.actors import Actor, region_condition
from engine.errors import Conflict, Forbidden, InvalidData, NotFound
from engine.regions import REGION_CODE
from services.platform import audit
from services.platform.identity import APPLICANT_ROLES, User, create_user, end_sessions, hash_password
from services.special_work.models import Enterprise

MANAGERS = ("clerk", "reviewer", "admin")
POSTAL_CODE = re.compile(r"^\d{6}$")
# a mobile number, or a landline with its area code (010-12345678, 0571-1234567, optional extension)
PHONE = re.compile(r"^(1[3-9]\d{9}|0\d{2,3}-?\d{7,8}(-\d{1,6})?)$")
UNIT_CODE = re.compile(r"^[0-9A-Za-z]{6,30}$")
REQUIRED = {"name": "单位名称", "region_code": "所属区划", "industry": "行业大类", "address": "单位地址",
            "postal_code": "邮政编码", "contact_person": "单位经办人", "contact_phone": "经办人联系电话"}


@dataclass
class EnterpriseInput:
    name: str
    region_code: str
    industry: str
    address: str
    postal_code: str
    contact_person: str
    contact_phone: str


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
        raise NotFound("单位 %(code)s 不存在" % dict(code=code))
    return enterprise


def get_visible_enterprise(session: Session, actor: Actor, code: str) -> Enterprise:
    enterprise = session.get(Enterprise, code)
    if enterprise is None or (actor.party and actor.party != code) or (
            not actor.party and not any(actor.holds(role, enterprise.region_code) for role in actor.roles)):
        raise NotFound("单位不存在或不在您的管辖范围内")
    return enterprise


def audit_of(session: Session, actor: Actor, enterprise: Enterprise) -> list[audit.AuditEntry]:
    """The enterprise's 操作记录 for the office. The enterprise's own users do not read it: it names
    the staff who edited the unit or reset its password."""
    if actor.party is not None:
        return []
    return audit.entries_for(session, "enterprise", enterprise.code)


def enterprise_problems(data: EnterpriseInput) -> dict[str, list[str]]:
    """The manual's common errors: postal code not 6 digits, malformed phone, required fields."""
    problems: dict[str, list[str]] = {}
    for key, label in REQUIRED.items():
        if not str(getattr(data, key) or "").strip():
            problems[key] = [f"必填信息未填写：{label}"]
    if "postal_code" not in problems and not POSTAL_CODE.match(data.postal_code.strip()):
        problems["postal_code"] = ["邮政编码不足6位（应为 6 位数字）"]
    if "contact_phone" not in problems and not PHONE.match(data.contact_phone.strip().replace(" ", "")):
        problems["contact_phone"] = ["单位经办人联系电话格式不正确（手机号码或带区号的固定电话，如 010-12345678）"]
    if "region_code" not in problems and not REGION_CODE.match(data.region_code):
        problems["region_code"] = ["区划代码应为 6 位数字"]
    return problems


def may_manage(actor: Actor, region_code: str | None = None) -> bool:
    """Holds a managing role for ``region_code`` (or, without one, anywhere): the 单位管理 screens."""
    if region_code is None:
        return any(role in MANAGERS for role, _ in actor.grants)
    return any(actor.holds(role, region_code) for role in MANAGERS)


def require_any_manager(actor: Actor) -> None:
    if not may_manage(actor):
        raise Forbidden("您无权管理单位信息")


def _require_manager(actor: Actor, region_code: str) -> None:
    if not any(actor.holds(role, region_code) for role in MANAGERS):
        raise Forbidden("您无权管理该区划的单位信息")


def _apply(enterprise: Enterprise, data: EnterpriseInput) -> None:
    enterprise.name = data.name.strip()
    enterprise.region_code = data.region_code
    enterprise.industry = data.industry.strip()
    enterprise.address = data.address.strip()
    enterprise.postal_code = data.postal_code.strip()
    enterprise.contact_person = data.contact_person.strip()
    enterprise.contact_phone = data.contact_phone.strip().replace(" ", "")


def create_enterprise(session: Session, actor: Actor, code: str, data: EnterpriseInput) -> Enterprise:
    code = (code or "").strip()
    problems = enterprise_problems(data)
    if not UNIT_CODE.match(code):
        problems["code"] = ["单位编号应为 6 到 30 位字母或数字"]
    if problems:
        raise InvalidData("单位信息填写有误", fields=problems)
    _require_manager(actor, data.region_code)
    if session.get(Enterprise, code) is not None:
        raise Conflict("单位编号 %(code)s 已存在" % dict(code=code))
    if session.scalar(select(Enterprise.code).where(Enterprise.name == data.name.strip())) is not None:
        raise Conflict("单位 %(name)s 已存在，请查询后修改" % dict(name=data.name.strip()))
    enterprise = Enterprise(code=code, portal_enabled=False)
    _apply(enterprise, data)
    session.add(enterprise)
    audit.record(session, actor, "enterprise.create", "enterprise", code, data.region_code, name=enterprise.name)
    session.flush()
    return enterprise


def _managed_enterprise(session: Session, actor: Actor, code: str) -> Enterprise:
    """An enterprise the actor manages: one outside the actor's regions is not found, exactly like one
    that does not exist (scope, then permission)."""
    enterprise = get_visible_enterprise(session, actor, code)
    _require_manager(actor, enterprise.region_code)
    return enterprise


def update_enterprise(session: Session, actor: Actor, code: str, data: EnterpriseInput) -> Enterprise:
    enterprise = _managed_enterprise(session, actor, code)
    problems = enterprise_problems(data)
    if problems:
        raise InvalidData("单位信息填写有误", fields=problems)
    _require_manager(actor, data.region_code)
    before = {k: getattr(enterprise, k) for k in REQUIRED}
    _apply(enterprise, data)
    changed = {k: v for k, v in before.items() if getattr(enterprise, k) != v}
    audit.record(session, actor, "enterprise.update", "enterprise", code, enterprise.region_code, before=changed)
    return enterprise


def _portal_users(session: Session, code: str) -> list[User]:
    """The enterprise's portal accounts: bound to it and holding applicant roles only. A bound account
    with a staff role (possible before admins were kept from making one) is not the clerk's to reset
    or close: whoever resets a portal password reads the new one."""
    bound = session.scalars(select(User).where(User.enterprise_code == code).order_by(User.id))
    return [user for user in bound if {g.role for g in user.grants} <= APPLICANT_ROLES]


def reset_portal_password(session: Session, actor: Actor, code: str) -> dict[str, str]:
    """重置网厅密码: a new random password for the enterprise's portal account (created on first
    reset, username = unit code), shown once to the clerk; existing tokens stop working."""
    enterprise = _managed_enterprise(session, actor, code)
    password = secrets.token_urlsafe(9)
    users = _portal_users(session, code)
    if not users:
        users = [create_user(session, code, password, enterprise.region_code, ["enterprise"],
                             f"{enterprise.name}经办人", code)]
        users[0].active = enterprise.portal_enabled
    for user in users:
        user.password_hash = hash_password(password)
        user.failed_logins = 0
        user.locked_until = None
        end_sessions(session, user.id)
    audit.record(session, actor, "enterprise.reset_password", "enterprise", code, enterprise.region_code,
                 usernames=[u.username for u in users])
    return {"username": users[0].username, "password": password}


def set_portal_access(session: Session, actor: Actor, code: str, enabled: bool) -> Enterprise:
    """开启 / 关闭网厅权限: closing deactivates the enterprise's users and revokes their tokens."""
    enterprise = _managed_enterprise(session, actor, code)
    enterprise.portal_enabled = enabled
    for user in _portal_users(session, code):
        user.active = enabled
        if not enabled:
            end_sessions(session, user.id)
    audit.record(session, actor, "enterprise.portal_open" if enabled else "enterprise.portal_close",
                 "enterprise", code, enterprise.region_code)
    return enterprise
