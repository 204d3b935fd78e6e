"""年度报告 (003 §2.19): an organisation reports its year (人力资源市场暂行条例 §22: by 31 March), the
office reads it (查阅) and passes it or returns it; the organisation edits and resubmits the same case.
"查阅通过完成后还支持【退回重填】": a passed report can be returned later too — the report row turns
退回 with the reason, and the organisation submits it again by a new case, the report's revision one
higher (a closed case is never reopened: its history stays what happened). One report per
organisation and year; only passed reports are disclosed (导出公示信息)."""
from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.actors import Actor
from engine.case_clock import CST
from engine.db import utcnow
from engine.errors import Conflict, InvalidData, NotFound
from engine.operators import OperatorContext, OperatorError, OperatorRegistry
from services.hr_market.labels import REPORT_STATUSES
from services.hr_market.models import HrAnnualReport, HrOrganisation
from services.platform import audit

PROCESS = "hr_annual_report"  # processes/hr_market/hr_annual_report.bpmn
FIGURES = ("staff_count", "persons_served", "employers_served", "revenue", "branch_count", "penalised",
           "penalty_note", "contact_person", "contact_phone")
REVIEWERS = ("approver",)


def report_for(session: Session, organisation_id: int, year: int) -> HrAnnualReport | None:
    return session.scalar(select(HrAnnualReport).where(HrAnnualReport.organisation_id == organisation_id,
                                                       HrAnnualReport.year == year))


def already_reported(session: Session, organisation: HrOrganisation, data: dict[str, Any]) -> str | None:
    """Why the organisation may not start a report for the form's year (start check), or None."""
    year = int(data.get("report_year") or 0)
    if year > (utcnow() + CST).year:
        raise InvalidData("报告年度不能晚于本年", fields={"report_year": ["报告年度不能晚于本年"]})
    report = report_for(session, organisation.id, year)
    if report is not None and report.status != "returned":
        return (f"您单位{year}年度报告已提交（{REPORT_STATUSES[report.status]}），"
                "如需修改请联系人社局退回重填")
    return None


def reopen(session: Session, actor: Actor, report_id: int, reason: str) -> HrAnnualReport:
    """退回重填 of a passed report by the office of its region, with the reason (audited)."""
    found = session.execute(select(HrAnnualReport, HrOrganisation).join(
        HrOrganisation, HrOrganisation.id == HrAnnualReport.organisation_id).where(
        HrAnnualReport.id == report_id).with_for_update(of=HrAnnualReport)).first()
    if found is None or not any(actor.holds(role, found[1].region_code) for role in REVIEWERS):
        raise NotFound("年度报告不存在或不在您的管辖范围内")
    report, organisation = found
    if report.status != "approved":
        raise Conflict("只有查阅通过的年度报告可以退回重填")
    reason = (reason or "").strip()
    if not reason or len(reason) > 500:
        raise InvalidData("请填写退回原因（不超过 500 字）", fields={"reason": ["请填写退回原因"]})
    report.status, report.return_reason = "returned", reason
    audit.record(session, actor, "hr_annual_report.reopen", "hr_organisation", organisation.id,
                 organisation.region_code, year=report.year, revision=report.revision, reason=reason)
    return report


def may_reopen(actor: Actor, region_code: str) -> bool:
    return any(actor.holds(role, region_code) for role in REVIEWERS)


def register_operators(registry: OperatorRegistry) -> None:
    @registry.register("hr.record_report", example={"revision": 1})
    def record_operator(ctx: OperatorContext) -> dict:
        """The report as submitted (first, after 退回 in the same case, or anew after 退回重填)."""
        organisation_id, year = int(ctx.data["organisation_id"]), int(ctx.data["report_year"])
        report = report_for(ctx.session, organisation_id, year)
        figures = {key: ctx.data.get(key) for key in FIGURES}
        if report is None:
            report = HrAnnualReport(organisation_id=organisation_id, year=year, revision=1)
            ctx.session.add(report)
        elif report.instance_id != ctx.instance_id:
            if report.status != "returned":
                raise OperatorError("%(year)s 年度报告已提交，不能重复提交" % dict(year=year))
            report.revision += 1
        report.status, report.figures, report.instance_id = "submitted", figures, ctx.instance_id
        report.submitted_at, report.return_reason = utcnow(), ""
        ctx.session.flush()
        return {"revision": report.revision}

    @registry.register("hr.review_report", example={"status": "approved"})
    def review_operator(ctx: OperatorContext, outcome: str) -> dict:
        """查阅's outcome on the report row: 通过, or 退回 with the reason."""
        if outcome not in ("approved", "returned"):
            raise OperatorError("查阅结果应为 approved 或 returned")
        report = report_for(ctx.session, int(ctx.data["organisation_id"]), int(ctx.data["report_year"]))
        if report is None:
            raise OperatorError("年度报告不存在")
        report.status, report.reviewed_by = outcome, ctx.actor
        report.reviewed_on = (utcnow() + CST).date()
        report.return_reason = str(ctx.data.get("conclusion") or "") if outcome == "returned" else ""
        return {"status": outcome}

