"""hr_annual_report (年度报告, seed 003 §2.19): submitted, 查阅 passes it or returns it (the same case,
resubmitted); a passed report can be returned later (退回重填) and is then submitted by a new case with
its revision one higher; one report per organisation and year; only passed reports are disclosed."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from engine.errors import Conflict, InvalidData
from engine.models import ProcessInstance
from services.hr_market import annual_reports
from services.hr_market.models import HrAnnualReport
from services.platform import queries
from tests.conftest import actor
from tests.processes.hr_helpers import act, apply, open_task, register_organisation

REPORT = {"report_year": 2025, "staff_count": 12, "persons_served": 3400, "employers_served": 120, "revenue": 560.5,
          "penalised": "no", "contact_person": "李联系", "contact_phone": "010-1"}


def submit(runtime, **changes):
    return apply(runtime, data=REPORT | changes, uploads={}, process="hr_annual_report")


def report(runtime) -> HrAnnualReport:
    with runtime.unit_of_work() as uow:
        row = uow.session.scalars(select(HrAnnualReport)).one()
        uow.session.expunge(row)
        return row


def test_returned_then_passed_then_reopened_and_submitted_again(runtime):
    register_organisation(runtime)
    first = submit(runtime)
    assert (report(runtime).status, open_task(runtime, first.id).name) == ("submitted", "review")
    act(runtime, first.id, "approver", {"decision": "correct", "conclusion": "营业收入与财务报表不符"})
    assert (report(runtime).status, report(runtime).return_reason) == ("returned", "营业收入与财务报表不符")
    act(runtime, first.id, "hr_org", REPORT | {"revenue": 580})
    assert (report(runtime).status, report(runtime).figures["revenue"], report(runtime).revision) == (
        "submitted", 580, 1)
    act(runtime, first.id, "approver", {"decision": "approve"})
    passed = report(runtime)
    assert (passed.status, passed.reviewed_by) == ("approved", "approver") and passed.reviewed_on is not None
    with runtime.unit_of_work() as uow:
        assert uow.session.get(ProcessInstance, first.id).case_status == "closed_approved"
        disclosed = queries.run(uow.session, actor("approver"), "hr-annual-report-disclosure", {"year": "2025"})[0]
    assert [row["organisation_name"] for row in disclosed] == ["北京东城人才服务有限公司"]
    with pytest.raises(Conflict, match="2025年度报告已提交"):
        submit(runtime)
    with runtime.unit_of_work() as uow, pytest.raises(InvalidData, match="退回原因"):
        annual_reports.reopen(uow.session, actor("approver"), passed.id, "")
    with runtime.unit_of_work() as uow:
        annual_reports.reopen(uow.session, actor("approver"), passed.id, "公示期间收到举报，从业人员数有误")
        uow.commit()
    with runtime.unit_of_work() as uow:
        assert queries.run(uow.session, actor("approver"), "hr-annual-report-disclosure", {"year": "2025"})[1] == 0
    second = submit(runtime, staff_count=9)
    assert second.id != first.id
    assert (report(runtime).status, report(runtime).revision, report(runtime).instance_id) == (
        "submitted", 2, second.id)


def test_a_report_for_a_future_year_or_with_an_unexplained_penalty_is_refused(runtime):
    register_organisation(runtime)
    with pytest.raises(InvalidData, match="不能晚于本年"):
        submit(runtime, report_year=2099)
    with pytest.raises(InvalidData) as refused:
        submit(runtime, penalised="yes")
    assert "行政处罚情况" in str(refused.value.fields)


def test_only_the_office_of_the_region_returns_a_passed_report(runtime):
    register_organisation(runtime)
    case = submit(runtime)
    with runtime.unit_of_work() as uow, pytest.raises(Conflict, match="查阅通过"):
        annual_reports.reopen(uow.session, actor("approver"), report(runtime).id, "太早")
    act(runtime, case.id, "approver", {"decision": "approve"})
    from engine.errors import NotFound

    for who in ("acceptor", "tj_reviewer", "hr_org"):
        with runtime.unit_of_work() as uow, pytest.raises(NotFound):
            annual_reports.reopen(uow.session, actor(who), report(runtime).id, "原因")


def test_the_resubmission_keeps_the_year_it_was_started_for(runtime):
    """The year was judged at the start (one report per year, not in the future): a resubmission after
    退回 shows it but cannot change it."""
    register_organisation(runtime)
    case = submit(runtime)
    act(runtime, case.id, "approver", {"decision": "correct", "conclusion": "补充处罚情况"})
    act(runtime, case.id, "hr_org", REPORT | {"report_year": 2099, "staff_count": 13})
    assert (report(runtime).year, report(runtime).figures["staff_count"], report(runtime).status) == (
        2025, 13, "submitted")
