"""设立分支机构报告 (003 §2.11–2.12): a branch reports its parent's licence and filing; once 资料核查
passes, "分支机构也可获得对应的行政许可和业务备案": the branch — registered in its own region, where it
applies — is linked to its parent and obtains a licence and a filing derived from the parent's: the
same items, the licence numbered after the parent's (``<parent's number>-01``) and valid as long as
the parent's, the filing numbered from the filing sequence of the branch's region. Derived items end
with the parent's (注销, 注销单位行政许可)."""
from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import numbering
from engine.case_clock import CST
from engine.db import utcnow
from engine.errors import Conflict, InvalidData
from engine.operators import OperatorContext, OperatorError, OperatorRegistry
from services.hr_market import holdings, organisations
from services.hr_market.models import ACTIVE, HrFiling, HrLicence, HrOrganisation

PROCESS = "hr_branch"  # processes/hr_market/hr_branch.bpmn


def parent_of(session: Session, organisation: HrOrganisation, data: dict[str, Any]) -> HrOrganisation:
    """The parent the form names, checked: registered, active, holding a licence or a filing."""
    if organisation.kind != "branch":
        raise InvalidData("只有机构类型为“分支机构”的单位可以提交设立分支机构报告，请先由人社局更正机构类型")
    parent = organisations.by_credit_code(session, str(data.get("parent_credit_code") or ""))
    if parent is None or parent.id == organisation.id:
        raise InvalidData("上级机构不存在：请填写已登记的上级机构统一社会信用代码",
                          fields={"parent_credit_code": ["上级机构未登记"]})
    if parent.status != ACTIVE or (holdings.active_licence(session, parent.id) is None
                                   and holdings.active_filing(session, parent.id) is None):
        raise Conflict("上级机构没有有效的行政许可或业务备案，分支机构无从取得")
    return parent


def already_derived(session: Session, organisation: HrOrganisation, data: dict[str, Any]) -> str | None:
    """Why the branch may not report (start check), or None; the parent is checked as well."""
    parent_of(session, organisation, data)
    if organisation.parent_id is not None:
        return "您单位已办理设立分支机构报告"
    return None


def parent_values(session: Session, organisation: HrOrganisation, data: dict[str, Any]) -> dict[str, Any]:
    parent = parent_of(session, organisation, data)
    licence, filing = holdings.active_licence(session, parent.id), holdings.active_filing(session, parent.id)
    return {"parent_id": parent.id, "parent_name": parent.name,
            "parent_licence_number": licence.licence_number if licence else "",
            "parent_filing_number": filing.filing_number if filing else ""}


def derive(session: Session, organisation_id: int, parent_id: int, *, region_code: str, instance_id: int,
           filing_pattern: str, by: str) -> tuple[HrLicence | None, HrFiling | None]:
    """Link the branch to its parent and give it the licence and filing derived from the parent's."""
    branch = session.get(HrOrganisation, organisation_id)
    parent = session.get(HrOrganisation, parent_id)
    if branch is None or parent is None or parent.status != ACTIVE or branch.parent_id is not None:
        raise OperatorError("分支机构或上级机构状态已变化，不能取得许可和备案")
    now = utcnow()
    today = (now + CST).date()
    branch.parent_id = parent.id
    licence = filing = None
    if (held := holdings.active_licence(session, parent.id)) is not None:
        number = numbering.draw(session, f"{held.licence_number}-{{seq:2}}", at=now, taken=lambda n: session.scalar(
            select(HrLicence.id).where(HrLicence.licence_number == n)) is not None)
        licence = HrLicence(organisation_id=branch.id, licence_number=number, document_number=held.document_number,
                            items=list(held.items), issued_on=today, valid_until=held.valid_until,
                            parent_id=held.id, instance_id=instance_id, granted_by=by)
        session.add(licence)
    if (on_record := holdings.active_filing(session, parent.id)) is not None:
        number = numbering.draw(session, filing_pattern, at=now, region=region_code, taken=lambda n: session.scalar(
            select(HrFiling.id).where(HrFiling.filing_number == n)) is not None)
        filing = HrFiling(organisation_id=branch.id, filing_number=number, items=list(on_record.items), filed_on=today,
                          parent_id=on_record.id, instance_id=instance_id, recorded_by=by)
        session.add(filing)
    session.flush()
    return licence, filing


def register_operators(registry: OperatorRegistry) -> None:
    @registry.register("hr.derive_branch", example={"licence_number": "11010120260001-01",
                                                    "filing_number": "110105B20260003"})
    def derive_operator(ctx: OperatorContext, filing_pattern: str) -> dict:
        licence, filing = derive(ctx.session, int(ctx.data["organisation_id"]), int(ctx.data["parent_id"]),
                                 region_code=ctx.region_code, instance_id=ctx.instance_id,
                                 filing_pattern=filing_pattern, by=ctx.actor)
        return {"licence_number": licence.licence_number if licence else "",
                "filing_number": filing.filing_number if filing else ""}
