"""业务备案 (003 §2.4–2.6): the record that 核查通过 makes. The 备案编号 pattern is a parameter of the
BPMN step; numbers are gap-free per scope and skip those already held by imported filings."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import numbering
from engine.case_clock import CST
from engine.db import utcnow
from engine.operators import OperatorContext, OperatorError, OperatorRegistry
from services.hr_market import holdings
from services.hr_market.labels import FILING_ITEMS, items_text
from services.hr_market.models import ACTIVE, HrFiling, HrOrganisation

PROCESS = "hr_filing"  # processes/hr_market/hr_filing.bpmn


def record(session: Session, organisation_id: int, items: list[str], *, region_code: str, instance_id: int,
           pattern: str, recorded_by: str) -> HrFiling:
    """Record the filing 核查通过 accepts, its number drawn in the caller's transaction."""
    organisation = session.get(HrOrganisation, organisation_id)
    if organisation is None or organisation.status != ACTIVE:
        raise OperatorError("备案机构不存在或已注销，不能备案")
    if holdings.active_filing(session, organisation.id) is not None:
        raise OperatorError("%(name)s 已办理业务备案，不能重复备案" % dict(name=organisation.name))
    now = utcnow()
    number = numbering.draw(session, pattern, at=now, region=region_code, taken=lambda candidate: session.scalar(
        select(HrFiling.id).where(HrFiling.filing_number == candidate)) is not None)
    filing = HrFiling(organisation_id=organisation.id, filing_number=number,
                      items=[code for code in FILING_ITEMS if code in items], filed_on=(now + CST).date(),
                      instance_id=instance_id, source="application", recorded_by=recorded_by)
    session.add(filing)
    session.flush()
    return filing


def register_operators(registry: OperatorRegistry) -> None:
    @registry.register("hr.record_filing", example={"filing_number": "110101B20260001", "filed_on": "2026年12月2日",
                                                    "items": "人力资源供求信息的收集和发布、人力资源培训"})
    def record_operator(ctx: OperatorContext, pattern: str) -> dict:
        items = [str(code) for code in ctx.data.get("filing_items") or []]
        if not items:
            raise OperatorError("备案事项为空")
        filing = record(ctx.session, int(ctx.data["organisation_id"]), items, region_code=ctx.region_code,
                        instance_id=ctx.instance_id, pattern=pattern, recorded_by=ctx.actor)
        day = filing.filed_on
        return {"filing_number": filing.filing_number, "filed_on": f"{day.year}年{day.month}月{day.day}日",
                "items": items_text(filing.items, FILING_ITEMS)}
