"""hr_branch (设立分支机构报告, seed 003 §2.11–2.12) and hr_deregistration (注销, §2.9–2.10): a branch obtains
a licence and a filing derived from its parent's; an organisation's deregistration ends what it names
with what its branches derived, and the organisation once it holds nothing; a deregistration is
refused while other applications are under way, and nothing else starts while it is."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from engine.errors import Conflict, InvalidData
from services.hr_market import cancellations, organisations
from services.hr_market.models import HrFiling, HrLicence, HrOrganisation
from tests.conftest import USERS, actor
from tests.processes.hr_helpers import PDF, act, apply, register_organisation

BRANCH_FILES = {"branch_licence": [("营业执照.pdf", PDF)], "parent_authorisation": [("决定.pdf", PDF)]}
DEREGISTRATION_FILES = {"deregistration_proof": [("注销登记.pdf", PDF)]}


def licensed_and_filed(runtime) -> int:
    """The parent in 东城区 (account hr_org) with a licence and a filing."""
    organisation_id = register_organisation(runtime)
    for process in ("hr_licence", "hr_filing"):
        case = apply(runtime, process=process)
        act(runtime, case.id, "acceptor", {"decision": "approve"})
        act(runtime, case.id, "approver", {"decision": "approve"})
    return organisation_id


def branch_reported(runtime) -> int:
    """A branch in 朝阳区 (account hr_org_chaoyang), registered as a 分支机构, whose report passed."""
    parent_code = USERS["hr_org"][2]
    branch_id = register_organisation(runtime, "hr_org_chaoyang", "北京东城人才服务有限公司朝阳分公司")
    with runtime.unit_of_work() as uow:
        uow.session.get(HrOrganisation, branch_id).kind = "branch"
        uow.commit()
    case = apply(runtime, "hr_org_chaoyang", {"parent_credit_code": parent_code, "branch_registered_on": "2026-11-02",
                                              "contact_phone": "010-2"}, BRANCH_FILES, "hr_branch")
    act(runtime, case.id, "acceptor", {"decision": "approve"})
    act(runtime, case.id, "approver", {"decision": "approve"})
    return branch_id


def holdings_of(runtime, organisation_id: int) -> list[tuple[str, str]]:
    with runtime.unit_of_work() as uow:
        return sorted([(row.licence_number, row.status) for row in uow.session.scalars(
            select(HrLicence).where(HrLicence.organisation_id == organisation_id))]
            + [(f.filing_number, f.status) for f in uow.session.scalars(
                select(HrFiling).where(HrFiling.organisation_id == organisation_id))])


def test_a_branch_obtains_licence_and_filing_derived_from_its_parents(runtime):
    parent_id = licensed_and_filed(runtime)
    branch_id = branch_reported(runtime)
    with runtime.unit_of_work() as uow:
        parent_licence = uow.session.scalars(select(HrLicence).where(HrLicence.organisation_id == parent_id)).one()
        branch_licence = uow.session.scalars(select(HrLicence).where(HrLicence.organisation_id == branch_id)).one()
        branch_filing = uow.session.scalars(select(HrFiling).where(HrFiling.organisation_id == branch_id)).one()
        assert uow.session.get(HrOrganisation, branch_id).parent_id == parent_id
    assert branch_licence.licence_number == f"{parent_licence.licence_number}-01"
    assert (branch_licence.items, branch_licence.valid_until, branch_licence.parent_id) == (
        parent_licence.items, parent_licence.valid_until, parent_licence.id)
    assert branch_filing.filing_number.startswith("110105B")
    with pytest.raises(Conflict, match="已办理设立分支机构报告"):
        apply(runtime, "hr_org_chaoyang", {"parent_credit_code": USERS["hr_org"][2],
                                           "branch_registered_on": "2026-11-02", "contact_phone": "1"},
              BRANCH_FILES, "hr_branch")


def test_only_a_branch_of_a_licensed_parent_may_report(runtime):
    register_organisation(runtime)  # the parent, holding nothing yet
    register_organisation(runtime, "hr_org_chaoyang", "朝阳分公司")
    data = {"parent_credit_code": USERS["hr_org"][2], "branch_registered_on": "2026-11-02", "contact_phone": "1"}
    with pytest.raises(InvalidData, match="分支机构"):
        apply(runtime, "hr_org_chaoyang", data, BRANCH_FILES, "hr_branch")  # not registered as a branch
    with runtime.unit_of_work() as uow:
        organisations.by_credit_code(uow.session, USERS["hr_org_chaoyang"][2]).kind = "branch"
        uow.commit()
    with pytest.raises(Conflict, match="没有有效的行政许可或业务备案"):
        apply(runtime, "hr_org_chaoyang", data, BRANCH_FILES, "hr_branch")


def test_deregistration_ends_what_it_names_with_the_branches_and_then_the_organisation(runtime):
    parent_id = licensed_and_filed(runtime)
    branch_id = branch_reported(runtime)
    case = apply(runtime, data={"targets": ["licence"], "reason": "停止职业中介业务"}, uploads=DEREGISTRATION_FILES,
                 process="hr_deregistration")
    act(runtime, case.id, "acceptor", {"decision": "approve"})
    act(runtime, case.id, "approver", {"decision": "approve"})
    assert [status for _n, status in holdings_of(runtime, parent_id)] == ["cancelled", "active"]  # licence, filing
    branch = dict(holdings_of(runtime, branch_id))
    assert sorted(branch.values()) == ["active", "cancelled"]  # its derived licence ended, its filing not
    with runtime.unit_of_work() as uow:
        assert uow.session.get(HrOrganisation, parent_id).status == "active"  # it still holds its filing
        ended = uow.session.scalars(select(HrLicence).where(HrLicence.organisation_id == parent_id)).one()
        assert (ended.cancel_mode, ended.cancelled_on is not None) == ("application", True)
    last = apply(runtime, data={"targets": ["filing"], "reason": "终止经营"}, uploads=DEREGISTRATION_FILES,
                 process="hr_deregistration")
    act(runtime, last.id, "acceptor", {"decision": "approve"})
    act(runtime, last.id, "approver", {"decision": "approve"})
    with runtime.unit_of_work() as uow:
        assert uow.session.get(HrOrganisation, parent_id).status == "cancelled"
    with pytest.raises(Conflict, match="已注销"):
        apply(runtime, process="hr_filing")


def test_a_deregistration_waits_for_the_other_applications_and_blocks_new_ones(runtime):
    licensed_and_filed(runtime)
    report = apply(runtime, data={"report_year": 2025, "staff_count": 3, "persons_served": 1, "employers_served": 1,
                                  "revenue": 1, "penalised": "no", "contact_person": "李", "contact_phone": "1"},
                   uploads={}, process="hr_annual_report")
    with pytest.raises(Conflict, match="尚有正在办理的申请（年度报告"):
        apply(runtime, data={"targets": ["licence"], "reason": "x"}, uploads=DEREGISTRATION_FILES,
              process="hr_deregistration")
    act(runtime, report.id, "approver", {"decision": "approve"})
    apply(runtime, data={"targets": ["licence"], "reason": "x"}, uploads=DEREGISTRATION_FILES,
          process="hr_deregistration")
    with pytest.raises(Conflict, match="注销申请正在办理"):
        apply(runtime, data={"change_types": ["name"], "new_name": "新名", "reason": "x"},
              uploads={"change_proof": [("p.pdf", PDF)]}, process="hr_change")


def test_an_authority_cancellation_of_the_parents_licence_ends_the_branches(runtime):
    parent_id = licensed_and_filed(runtime)
    branch_id = branch_reported(runtime)
    with runtime.unit_of_work() as uow:
        number = uow.session.scalars(select(HrLicence.licence_number).where(
            HrLicence.organisation_id == parent_id)).one()
        cancellations.cancel(uow.session, actor("approver"), cancellations.CancellationInput(
            number, [], "revoked", "", date(2026, 12, 1)))
        uow.commit()
    with runtime.unit_of_work() as uow:
        derived = uow.session.scalars(select(HrLicence).where(HrLicence.organisation_id == branch_id)).one()
        assert (derived.status, derived.cancel_mode) == ("cancelled", "authority")
