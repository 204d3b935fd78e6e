"""机构管理: the register of human-resources service organisations, kept by the authority (003 §2.14).

Staff of a region (受理 / 审批 / 管理员) add organisations of their region and correct contact details.
Key particulars — name, legal representative, 住所 — change only through an application (事项变更)
once an organisation holds a licence, so that what a certificate says stays what was granted; until
then staff may correct them. An organisation is deleted only when it was added by mistake: never
once it has a licence or a case. Every change is audited. The credit code is checked by its GB 32100
check character, and is what binds an applicant's account to the organisation.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.actors import Actor, region_condition
from engine.errors import Conflict, Forbidden, InvalidData, NotFound
from engine.models import InstanceStatus, ProcessInstance
from services.hr_market.labels import ORGANISATION_KINDS
from services.hr_market.models import ACTIVE, HrLicence, HrOrganisation
from services.platform import audit
from services.platform.credit_code import credit_code_problem, normalised
from services.platform.identity import Region, User

MANAGERS = ("acceptor", "approver", "admin")
NOT_FOUND = "机构不存在或不在您的管辖范围内"
KEY_FIELDS = ("name", "legal_representative", "address")
CONTACT_FIELDS = ("contact_person", "contact_phone")
REQUIRED = {"credit_code": "统一社会信用代码", "name": "机构名称", "kind": "机构类型",
            "legal_representative": "法定代表人", "address": "住所", "region_code": "所属区划"}
LIMITS = {"name": 200, "legal_representative": 50, "address": 200, "contact_person": 50, "contact_phone": 30}


@dataclass(frozen=True)
class OrganisationInput:
    credit_code: str
    name: str
    kind: str
    legal_representative: str
    address: str
    region_code: str
    contact_person: str = ""
    contact_phone: str = ""


def may_manage(actor: Actor, region_code: str | None = None) -> bool:
    """Holds a managing role for ``region_code`` (or, without one, anywhere): the 机构管理 screens."""
    if region_code is None:
        return any(role in MANAGERS for role, _ in actor.grants)
    return any(actor.holds(role, region_code) for role in MANAGERS)


def _regions(actor: Actor) -> list[str]:
    return [region for role, region in actor.grants if role in MANAGERS]


def get_visible(session: Session, actor: Actor, organisation_id: int) -> HrOrganisation:
    organisation = session.get(HrOrganisation, organisation_id)
    if organisation is None or not may_manage(actor, organisation.region_code):
        raise NotFound(NOT_FOUND)
    return organisation


def search(session: Session, actor: Actor, text: str = "", page: int = 1,
           per_page: int = 20) -> tuple[list[HrOrganisation], int]:
    """The organisations of the actor's regions whose name or credit code contains ``text``."""
    if not may_manage(actor):
        raise Forbidden("您无权查看人力资源服务机构")
    query = select(HrOrganisation).where(region_condition(HrOrganisation.region_code, _regions(actor)))
    if text.strip():
        query = query.where(HrOrganisation.name.contains(text.strip(), autoescape=True)
                            | (HrOrganisation.credit_code == normalised(text)))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(HrOrganisation.region_code, HrOrganisation.name)
                           .limit(per_page).offset((page - 1) * per_page))
    return list(rows), total


def problems(session: Session, actor: Actor, data: OrganisationInput) -> dict[str, list[str]]:
    """What is wrong with an organisation's particulars, by field, in Chinese."""
    found: dict[str, list[str]] = {}
    for key, label in REQUIRED.items():
        if not str(getattr(data, key) or "").strip():
            found[key] = [f"请填写{label}"]
    for key, limit in LIMITS.items():
        if len(getattr(data, key) or "") > limit:
            found.setdefault(key, []).append(f"不能超过 {limit} 个字")
    if data.credit_code and (problem := credit_code_problem(data.credit_code)):
        found.setdefault("credit_code", []).append(problem)
    if data.kind and data.kind not in ORGANISATION_KINDS:
        found.setdefault("kind", []).append(f"机构类型应为 {'、'.join(ORGANISATION_KINDS.values())} 之一")
    if data.region_code:
        if session.get(Region, data.region_code) is None:
            found.setdefault("region_code", []).append("区划代码不存在")
        elif not may_manage(actor, data.region_code):
            found.setdefault("region_code", []).append("所属区划不在您的管辖范围内")
    return found


def create(session: Session, actor: Actor, data: OrganisationInput, source: str = "staff") -> HrOrganisation:
    if not may_manage(actor):
        raise Forbidden("您无权添加人力资源服务机构")
    data = _cleaned(data)
    found = problems(session, actor, data)
    if not found and session.scalar(select(HrOrganisation.id).where(
            HrOrganisation.credit_code == data.credit_code)) is not None:
        found["credit_code"] = [f"统一社会信用代码 {data.credit_code} 已登记"]
    if found:
        raise InvalidData("机构信息有误，请修改后重新提交", fields=found)
    organisation = HrOrganisation(**data.__dict__, status=ACTIVE, source=source)
    session.add(organisation)
    session.flush()
    audit.record(session, actor, "hr_organisation.create", "hr_organisation", organisation.id,
                 organisation.region_code, credit_code=organisation.credit_code, name=organisation.name)
    return organisation


def update(session: Session, actor: Actor, organisation_id: int, data: OrganisationInput) -> HrOrganisation:
    """Correct an organisation's particulars; the credit code and region never change here, and the
    key particulars of a licensed organisation change only by 事项变更."""
    organisation = get_visible(session, actor, organisation_id)
    data = _cleaned(data)
    data = OrganisationInput(**(data.__dict__ | {"credit_code": organisation.credit_code,
                                                  "region_code": organisation.region_code}))
    found = problems(session, actor, data)
    licensed = has_licence(session, organisation.id)
    if licensed:
        for key in KEY_FIELDS:
            if getattr(data, key) != getattr(organisation, key):
                found.setdefault(key, []).append("已持证机构的名称、法定代表人和住所只能通过事项变更申请修改")
    if found:
        raise InvalidData("机构信息有误，请修改后重新提交", fields=found)
    before = {key: getattr(organisation, key) for key in (*KEY_FIELDS, *CONTACT_FIELDS, "kind")
              if getattr(organisation, key) != getattr(data, key)}
    for key in before:
        setattr(organisation, key, getattr(data, key))
    if before:
        audit.record(session, actor, "hr_organisation.update", "hr_organisation", organisation.id,
                     organisation.region_code, before=before)
    return organisation


def delete(session: Session, actor: Actor, organisation_id: int) -> None:
    organisation = get_visible(session, actor, organisation_id)
    if has_licence(session, organisation.id) or _has_cases(session, organisation.credit_code) or \
            session.scalar(select(HrOrganisation.id).where(HrOrganisation.parent_id == organisation.id)) is not None:
        raise Conflict("该机构已有许可、备案或申请记录，不能删除")
    audit.record(session, actor, "hr_organisation.delete", "hr_organisation", organisation.id,
                 organisation.region_code, credit_code=organisation.credit_code, name=organisation.name)
    session.delete(organisation)


def has_licence(session: Session, organisation_id: int) -> bool:
    return session.scalar(select(HrLicence.id).where(HrLicence.organisation_id == organisation_id).limit(1)) is not None


def _has_cases(session: Session, credit_code: str) -> bool:
    """Any case started by an account bound to the organisation."""
    return session.scalar(select(ProcessInstance.id).join(User, User.username == ProcessInstance.started_by)
                          .where(User.enterprise_code == credit_code).limit(1)) is not None


def open_cases(session: Session, credit_code: str, process_keys: list[str]) -> list[tuple[str, str]]:
    """(business key, process id) of the organisation's open cases of ``process_keys``."""
    return [(key, process) for key, process in session.execute(
        select(ProcessInstance.business_key, ProcessInstance.process_key)
        .join(User, User.username == ProcessInstance.started_by)
        .where(User.enterprise_code == credit_code, ProcessInstance.process_key.in_(process_keys),
               ProcessInstance.status.in_((InstanceStatus.RUNNING, InstanceStatus.WAITING, InstanceStatus.ERROR))))]


def by_credit_code(session: Session, credit_code: str) -> HrOrganisation | None:
    return session.scalar(select(HrOrganisation).where(HrOrganisation.credit_code == normalised(credit_code)))


def _cleaned(data: OrganisationInput) -> OrganisationInput:
    values = {key: str(value or "").strip() for key, value in data.__dict__.items()}
    values["credit_code"] = normalised(values["credit_code"])
    return OrganisationInput(**values)
