"""注销 (003 §2.9–2.10): an organisation applies to end its licence and/or its filing (暂行条例 §20); 受理
as for every application, 审批 passes (已通过) or refuses it. 已通过 ends what was named on the approval
date (注销方式 主动申请) together with what its branches derived from it, and the organisation is 已注销
once it holds nothing more. An organisation with another application under way cannot apply (it is
refused at the start with the applications named), and no other application starts while its
deregistration is under way — so approving never leaves an application orphaned.
"""
from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.case_clock import CST
from engine.db import utcnow
from engine.operators import OperatorContext, OperatorError, OperatorRegistry
from services.hr_market import holdings
from services.hr_market.models import ACTIVE, CANCELLED, HrFiling, HrLicence, HrOrganisation

PROCESS = "hr_deregistration"  # processes/hr_market/hr_deregistration.bpmn
TARGETS = {"licence": "人力资源服务许可证", "filing": "业务备案"}


def needs_holding(session: Session, organisation: HrOrganisation, data: dict[str, Any]) -> str | None:
    """Why the organisation may not apply to deregister what the form names (start check), or None."""
    targets = set(data.get("targets") or [])
    if "licence" in targets and holdings.active_licence(session, organisation.id) is None:
        return "未找到有效的行政许可，不能申请注销行政许可"
    if "filing" in targets and holdings.active_filing(session, organisation.id) is None:
        return "未找到有效的业务备案，不能申请注销业务备案"
    return None


def end_holdings(session: Session, organisation_id: int, targets: list[str], *, on: date) -> list[str]:
    """End the named licence and/or filing and those its branches derived from them; the organisation
    ends when it holds nothing more. Returns the numbers ended."""
    organisation = session.scalar(select(HrOrganisation).where(HrOrganisation.id == organisation_id)
                                  .with_for_update())
    if organisation is None or organisation.status != ACTIVE:
        raise OperatorError("机构不存在或已注销")
    ended: list[str] = []
    if "licence" in targets:
        licence = holdings.active_licence(session, organisation.id)
        if licence is None:
            raise OperatorError("未找到有效的人力资源服务许可证")
        for row in (licence, *session.scalars(select(HrLicence).where(HrLicence.parent_id == licence.id,
                                                                      HrLicence.status == ACTIVE))):
            row.status, row.cancelled_on, row.cancel_mode = CANCELLED, on, "application"
            ended.append(row.licence_number)
    if "filing" in targets:
        filing = holdings.active_filing(session, organisation.id)
        if filing is None:
            raise OperatorError("未找到有效的业务备案")
        for entry in (filing, *session.scalars(select(HrFiling).where(HrFiling.parent_id == filing.id,
                                                                      HrFiling.status == ACTIVE))):
            entry.status, entry.cancelled_on, entry.cancel_mode = CANCELLED, on, "application"
            ended.append(entry.filing_number)
    if holdings.active_licence(session, organisation.id) is None and \
            holdings.active_filing(session, organisation.id) is None:
        organisation.status = CANCELLED
    session.flush()
    return ended


def register_operators(registry: OperatorRegistry) -> None:
    @registry.register("hr.deregister", example={"ended": "11010120260001、110101B20260001"})
    def deregister_operator(ctx: OperatorContext) -> dict:
        targets = [str(t) for t in ctx.data.get("targets") or [] if t in TARGETS]
        if not targets:
            raise OperatorError("未选择注销对象")
        ended = end_holdings(ctx.session, int(ctx.data["organisation_id"]), targets, on=(utcnow() + CST).date())
        return {"ended": "、".join(ended)}

