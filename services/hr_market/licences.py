"""行政许可 (003 §2.1–2.3): the grant that 准予许可 makes (who may apply: ``applications``).

准予许可 (service task ``hr.grant_licence``) draws the 许可证编号 and the 文号 — patterns and the
validity in years are parameters of the BPMN step, numbers are gap-free per scope and skip those
already held by imported licences — and records the licence with the granted items (never more than
were applied for). The case then prints the 准予行政许可决定书 and the certificate with those numbers.
"""
from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import numbering
from engine.case_clock import CST
from engine.db import utcnow
from engine.operators import OperatorContext, OperatorError, OperatorRegistry
from services.hr_market import holdings
from services.hr_market.labels import LICENCE_ITEMS, items_text
from services.hr_market.models import ACTIVE, HrLicence, HrOrganisation
from services.platform.documents import CaseDocument

PROCESS = "hr_licence"  # processes/hr_market/hr_licence.bpmn


def grant(session: Session, organisation_id: int, items: list[str], *, region_code: str, instance_id: int,
          pattern: str, document_pattern: str, valid_years: int, granted_by: str) -> HrLicence:
    """Record the licence 准予许可 grants, with its two numbers drawn in the caller's transaction."""
    organisation = session.get(HrOrganisation, organisation_id)
    if organisation is None or organisation.status != ACTIVE:
        raise OperatorError("申请机构不存在或已注销，不能准予许可")
    if holdings.active_licence(session, organisation.id) is not None:
        raise OperatorError("%(name)s 已持有有效的人力资源服务许可证，不能重复发证" % dict(name=organisation.name))
    if not 1 <= valid_years <= 20:
        raise OperatorError("许可证有效期应为 1 到 20 年")
    now = utcnow()
    issued_on = (now + CST).date()
    number = numbering.draw(session, pattern, at=now, region=region_code, taken=lambda candidate: session.scalar(
        select(HrLicence.id).where(HrLicence.licence_number == candidate)) is not None)
    document_number = numbering.draw(
        session, document_pattern, at=now, region=region_code, taken=lambda candidate: session.scalar(
            select(CaseDocument.id).where(CaseDocument.number == candidate)) is not None or session.scalar(
            select(HrLicence.id).where(HrLicence.document_number == candidate)) is not None)
    licence = HrLicence(organisation_id=organisation.id, licence_number=number, document_number=document_number,
                        items=[code for code in LICENCE_ITEMS if code in items], issued_on=issued_on,
                        valid_until=_years_later(issued_on, valid_years), instance_id=instance_id,
                        source="application", granted_by=granted_by)
    session.add(licence)
    session.flush()
    return licence


def _years_later(day: date, years: int) -> date:
    """The last day of ``years`` years from ``day``: 5 years from 2026-03-01 run through 2031-02-28."""
    try:
        anniversary = day.replace(year=day.year + years)
    except ValueError:  # 29 February in a year that has none
        anniversary = day.replace(year=day.year + years, day=28)
    return anniversary - timedelta(days=1)


def register_operators(registry: OperatorRegistry) -> None:
    @registry.register("hr.grant_licence", example={
        "licence_number": "11010120260001", "document_number": "110101人社许字〔2026〕第0001号",
        "issued_on": "2026年12月2日", "valid_until": "2031年12月1日", "items": "为用人单位推荐劳动者、组织开展招聘会"})
    def grant_operator(ctx: OperatorContext, pattern: str, document_pattern: str, valid_years: int = 5) -> dict:
        applied = [str(code) for code in ctx.data.get("licence_items") or []]
        granted = [str(code) for code in ctx.data.get("granted_items") or applied if str(code) in applied]
        if not granted:
            raise OperatorError("准予许可的事项为空（准予的事项须在申请的事项之内）")
        licence = grant(ctx.session, int(ctx.data["organisation_id"]), granted, region_code=ctx.region_code,
                        instance_id=ctx.instance_id, pattern=pattern, document_pattern=document_pattern,
                        valid_years=int(valid_years), granted_by=ctx.actor)
        return {"licence_number": licence.licence_number, "document_number": licence.document_number,
                "issued_on": _day(licence.issued_on), "valid_until": _day(licence.valid_until),
                "items": items_text(licence.items)}


def _day(value: date | None) -> str:
    return f"{value.year}年{value.month}月{value.day}日" if value else ""
