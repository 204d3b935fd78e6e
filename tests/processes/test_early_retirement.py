"""特殊工种提前退休信息登记 (seed 000, 5.3) and 提前退休审批抽查 (5.4)."""
from __future__ import annotations

from datetime import date

import pytest

from engine.errors import Conflict, Forbidden, InvalidData, NotFound
from engine.models import InstanceStatus
from services.platform import queries
from services.special_work import catalogue, early_retirement, register
from tests.services.review_helpers import actor, complete, in_register, open_task

RETIRE = date(2025, 6, 1)


def register_retirement(runtime, number, nature="underground", when=RETIRE, who="clerk"):
    with runtime.unit_of_work() as uow:
        registration = early_retirement.register(uow, runtime.engine, actor(who), number, nature, when, "材料齐全")
        uow.commit()
        return registration.id, registration.instance_id


def registration(runtime, registration_id):
    with runtime.unit_of_work() as uow:
        return early_retirement.get_registration(uow.session, registration_id)


def eligible_miner(runtime, serial, gender="male"):
    """Born 1969 (56 in 2025), 12 years underground coal mining: meets 9 years / 55 (men)."""
    return in_register(runtime, serial, birth=date(1969, 5, 1), gender=gender,
                       histories=[("110101000001", "MT001", date(1990, 1, 1), date(2001, 12, 31))])


def test_conditions_met_and_approver_approves(runtime):
    number = eligible_miner(runtime, 1)
    registration_id, instance_id = register_retirement(runtime, number)
    task = open_task(runtime, instance_id)
    assert (task.name, task.lane) == ("approve", "approver")
    pending = registration(runtime, registration_id)
    assert (pending.status, pending.check_passed, pending.suspicious) == ("pending_approval", True, False)
    assert pending.accumulated_years == pytest.approx(12.0, abs=0.01) and pending.age == 56
    assert complete(runtime, instance_id, "approver", {"decision": "approve"}) == InstanceStatus.COMPLETED
    done = registration(runtime, registration_id)
    assert (done.status, done.suspicious, done.decided_by) == ("approved", False, "approver")


def test_approver_doubt_flags_the_registration_as_suspicious(runtime):
    number = eligible_miner(runtime, 2)
    registration_id, instance_id = register_retirement(runtime, number)
    with pytest.raises(InvalidData):
        complete(runtime, instance_id, "approver", {"decision": "reject"})  # the doubt must be written down
    complete(runtime, instance_id, "approver", {"decision": "reject", "conclusion": "工作证明印章不符"})
    done = registration(runtime, registration_id)
    assert (done.status, done.suspicious, done.conclusion) == ("not_approved", True, "工作证明印章不符")
    with runtime.unit_of_work() as uow:
        rows, _ = queries.run(uow.session, actor("reviewer"), "suspicious-data", {"source": "early_retirement"})
    assert [r["id_number"] for r in rows] == [number]


def test_too_few_years_fails_the_check_without_an_approver(runtime):
    number = in_register(runtime, 3, birth=date(1969, 5, 1),
                         histories=[("110101000001", "MT001", date(1990, 1, 1), date(1997, 12, 31))])
    registration_id, instance_id = register_retirement(runtime, number)
    assert open_task(runtime, instance_id) is None
    done = registration(runtime, registration_id)
    assert (done.status, done.check_passed, done.suspicious) == ("not_approved", False, True)
    assert done.check_messages == ["从事“井下”工作累计 8 年，不足 9 年"]


def test_too_young_fails_the_check(runtime):
    number = in_register(runtime, 4, birth=date(1975, 3, 1),
                         histories=[("110101000001", "MT001", date(1995, 7, 1), date(2010, 6, 30))])
    registration_id, _ = register_retirement(runtime, number)
    assert registration(runtime, registration_id).check_messages == ["退休时年龄 50 周岁，未达到 55 周岁"]


def test_women_meet_the_lower_minimum_age(runtime):
    number = in_register(runtime, 5, birth=date(1978, 1, 1), gender="female",
                         histories=[("110105000002", "YJ001", date(1998, 1, 1), date(2010, 12, 31))])
    registration_id, _ = register_retirement(runtime, number, nature="high_temperature")
    assert registration(runtime, registration_id).check_passed is True


def test_rules_are_data_the_ministry_can_change(runtime):
    number = eligible_miner(runtime, 6)
    with runtime.unit_of_work() as uow:
        catalogue.update_nature_rule(uow.session, actor("catalogue_admin"), "underground", 15, 55, 45)
        uow.commit()
    try:
        registration_id, _ = register_retirement(runtime, number)
        assert registration(runtime, registration_id).check_messages == ["从事“井下”工作累计 12 年，不足 15 年"]
    finally:
        with runtime.unit_of_work() as uow:
            catalogue.update_nature_rule(uow.session, actor("catalogue_admin"), "underground", 9, 55, 45)
            uow.commit()


def test_earlier_registrations_are_listed_and_an_approved_one_blocks_another(runtime):
    number = eligible_miner(runtime, 7)
    first_id, instance_id = register_retirement(runtime, number)
    with pytest.raises(Conflict, match="尚未办结"):
        register_retirement(runtime, number)
    complete(runtime, instance_id, "approver", {"decision": "approve"})
    with pytest.raises(Conflict, match="已于"):
        register_retirement(runtime, number)
    with runtime.unit_of_work() as uow:
        person = register.get_person(uow.session, actor("clerk"), number)
        assert [r.id for r in early_retirement.registrations_of(uow.session, person.id)] == [first_id]


def test_only_the_local_clerk_registers(runtime):
    number = eligible_miner(runtime, 8)
    with pytest.raises(Forbidden):
        register_retirement(runtime, number, who="reviewer")


def test_invalid_history_no_longer_counts(runtime):
    from services.special_work import spot_checks

    number = eligible_miner(runtime, 9)
    with runtime.unit_of_work() as uow:
        person = register.find_person(uow.session, number)
        history = register.histories_of(uow.session, person.id)[0]
        spot_checks.spot_check_work_histories(uow.session, actor("spot_checker"), [history.id], "fail", "证明系伪造")
        uow.commit()
    registration_id, _ = register_retirement(runtime, number)
    assert registration(runtime, registration_id).check_messages == ["从事“井下”工作累计 0 年，不足 9 年"]


def test_spot_check_of_registrations(runtime):
    number = eligible_miner(runtime, 10)
    registration_id, instance_id = register_retirement(runtime, number)
    with runtime.unit_of_work() as uow, pytest.raises(Conflict):
        early_retirement.spot_check(uow.session, actor("spot_checker"), registration_id, "pass")
    complete(runtime, instance_id, "approver", {"decision": "approve"})
    with runtime.unit_of_work() as uow:
        to_check, _ = queries.run(uow.session, actor("spot_checker"), "early-retirements",
                                  {"status": "approved", "spot_checked": "false"})
    assert [(r["id"], r["status_label"], r["suspicious_label"]) for r in to_check] == [
        (registration_id, "登记通过", "否")]
    with runtime.unit_of_work() as uow:
        with pytest.raises(NotFound):  # another county's registration: as if it did not exist
            early_retirement.spot_check(uow.session, actor("county_spot_checker"), registration_id, "pass")
        with pytest.raises(Forbidden):  # the province's reviewer sees it but does not spot-check
            early_retirement.spot_check(uow.session, actor("reviewer"), registration_id, "pass")
        with pytest.raises(InvalidData, match="原因"):
            early_retirement.spot_check(uow.session, actor("spot_checker"), registration_id, "fail")
        early_retirement.spot_check(uow.session, actor("spot_checker"), registration_id, "fail", "年龄材料不实")
        uow.commit()
    done = registration(runtime, registration_id)
    assert (done.spot_check_result, done.suspicious) == ("fail", True)
    with runtime.unit_of_work() as uow:
        checks, _ = queries.run(uow.session, actor("reviewer"), "spot-check-results", {"kind": "early_retirement"})
        suspicious, _ = queries.run(uow.session, actor("reviewer"), "suspicious-data", {"id_number": number})
    assert [(c["result"], c["note"]) for c in checks] == [("fail", "年龄材料不实")]
    assert [s["source"] for s in suspicious] == ["early_retirement"]
