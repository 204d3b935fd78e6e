"""现场招聘会 (seed 003 §2.21): an organisation licensed to organise job fairs enters its fairs; others
may not; the office of the organiser's region and of the venue's reads them."""
from __future__ import annotations

from datetime import date

import pytest

from engine.errors import Forbidden, InvalidData
from services.hr_market import job_fairs
from services.platform import queries
from tests.conftest import actor
from tests.processes.hr_helpers import act, apply, register_organisation

FAIR = job_fairs.JobFairInput("2026 年冬季人才交流会", date(2026, 12, 20), date(2026, 12, 21), "朝阳区会展中心 1 号馆",
                              "110105", 200, "王会务", "010-5")


def licensed(runtime, items: list[str]) -> None:
    register_organisation(runtime)
    case = apply(runtime)
    act(runtime, case.id, "acceptor", {"decision": "approve"})
    act(runtime, case.id, "approver", {"decision": "approve", "granted_items": items})


def test_a_licensed_organiser_enters_a_fair_that_both_offices_read(runtime):
    licensed(runtime, ["job_fairs"])
    with runtime.unit_of_work() as uow:
        job_fairs.add(uow.session, actor("hr_org"), FAIR)
        uow.commit()
    with runtime.unit_of_work() as uow:
        assert [f.name for f in job_fairs.own_fairs(uow.session, actor("hr_org"))] == [FAIR.name]
        for office in ("acceptor", "county_reviewer"):  # 北京市 (the organiser's 东城区), 朝阳区 (the venue)
            rows, total = queries.run(uow.session, actor(office), "hr-job-fairs", {})
            assert total == 1 and rows[0]["organisation_name"] == "北京东城人才服务有限公司"
        assert queries.run(uow.session, actor("tj_reviewer"), "hr-job-fairs", {})[1] == 0


def test_only_an_organisation_licensed_for_job_fairs_may_enter_one_and_bad_dates_are_refused(runtime):
    licensed(runtime, ["recommend_workers"])
    with runtime.unit_of_work() as uow, pytest.raises(Forbidden, match="组织开展招聘会"):
        job_fairs.add(uow.session, actor("hr_org"), FAIR)
    with runtime.unit_of_work() as uow, pytest.raises(Forbidden):
        job_fairs.add(uow.session, actor("hr_org_chaoyang"), FAIR)  # not in the register


def test_a_fair_ending_before_it_starts_is_refused(runtime):
    licensed(runtime, ["job_fairs"])
    wrong = job_fairs.JobFairInput(FAIR.name, date(2026, 12, 21), date(2026, 12, 20), "", "999999", 0, "", "")
    with runtime.unit_of_work() as uow, pytest.raises(InvalidData) as refused:
        job_fairs.add(uow.session, actor("hr_org"), wrong)
    assert set(refused.value.fields) == {"ends_on", "venue", "region_code", "booths", "contact_person",
                                         "contact_phone"}
