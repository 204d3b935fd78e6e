"""企业申报省级抽查 (seed 000, 4.5) and 特殊工种名录维护 (6.1)."""
from __future__ import annotations

from datetime import date

import pytest

from engine.errors import Conflict, Forbidden, InvalidData, NotFound
from services.platform import queries
from services.special_work import catalogue, register, spot_checks
from tests.services.review_helpers import actor, in_register


def histories(runtime, number):
    with runtime.unit_of_work() as uow:
        return register.histories_of(uow.session, register.find_person(uow.session, number).id)


def test_invalid_entry_becomes_suspicious_and_the_others_stay(runtime):
    number = in_register(runtime, 1, histories=[("110101000001", "MT001", date(1995, 7, 1), date(2000, 6, 30)),
                                                ("110101000001", "MT002", date(2001, 1, 1), date(2005, 1, 1))])
    first, second = histories(runtime, number)
    with runtime.unit_of_work() as uow:
        spot_checks.spot_check_work_histories(uow.session, actor("spot_checker"), [second.id], "fail", "无工资记录")
        spot_checks.spot_check_work_histories(uow.session, actor("spot_checker"), [first.id], "pass")
        uow.commit()
    first, second = histories(runtime, number)
    assert (first.valid, first.suspicious) == (True, False)
    assert (second.valid, second.suspicious) == (False, True)
    with runtime.unit_of_work() as uow:
        rows, total = queries.run(uow.session, actor("reviewer"), "suspicious-data", {})
        people, _ = queries.run(uow.session, actor("reviewer"), "persons", {"suspicious": "true"})
    assert total == 1 and rows[0]["record_id"] == second.id and rows[0]["source_label"] == "企业申报抽查无效的从业经历"
    assert [p["id_number"] for p in people] == [number]


def test_spot_check_is_provincial_and_a_failure_needs_a_reason(runtime):
    number = in_register(runtime, 2)
    [entry] = histories(runtime, number)
    with runtime.unit_of_work() as uow:
        with pytest.raises(NotFound):  # a county checker does not see another county's register
            spot_checks.spot_check_work_histories(uow.session, actor("county_spot_checker"), [entry.id], "pass")
        with pytest.raises(Forbidden):  # a reviewer of the province sees it but does not check
            spot_checks.spot_check_work_histories(uow.session, actor("reviewer"), [entry.id], "pass")
        with pytest.raises(InvalidData, match="原因"):
            spot_checks.spot_check_work_histories(uow.session, actor("spot_checker"), [entry.id], "fail")


def test_catalogue_is_maintained_by_the_ministry_only(runtime):
    with runtime.unit_of_work() as uow, pytest.raises(Forbidden):
        catalogue.add_work_type(uow.session, actor("province_catalogue_admin"), "JZ009", "测试工种", "建筑",
                                "high_altitude_heavy")
    with runtime.unit_of_work() as uow:
        with pytest.raises(InvalidData) as refused:
            catalogue.add_work_type(uow.session, actor("catalogue_admin"), "jz 9", "", "建筑", "nope")
        assert set(refused.value.fields) == {"code", "name", "nature"}
        entry = catalogue.add_work_type(uow.session, actor("catalogue_admin"), "jz009", "测试工种", "建筑",
                                        "high_altitude_heavy")
        assert entry.code == "JZ009"
        catalogue.delete_work_type(uow.session, actor("catalogue_admin"), "JZ009")  # unused: really deleted
        uow.commit()
    with runtime.unit_of_work() as uow:
        assert uow.session.get(catalogue.WorkType, "JZ009") is None


def test_an_entry_in_use_can_only_be_retired(runtime):
    in_register(runtime, 3, histories=[("110101000001", "MT002", date(1995, 7, 1), date(2000, 6, 30))])
    with runtime.unit_of_work() as uow:
        with pytest.raises(Conflict, match="只能停用"):
            catalogue.delete_work_type(uow.session, actor("catalogue_admin"), "MT002")
        with pytest.raises(Conflict):
            catalogue.update_work_type(uow.session, actor("catalogue_admin"), "MT002", "井下掘进工", "冶金",
                                       "underground")
        catalogue.set_work_type_active(uow.session, actor("catalogue_admin"), "MT002", False)
        uow.commit()
    try:
        with runtime.unit_of_work() as uow:
            assert "MT002" not in {w.code for w in catalogue.list_work_types(uow.session)}
            rows, _ = queries.run(uow.session, actor("enterprise"), "catalogue", {"active": "false"})
            assert [r["code"] for r in rows] == ["MT002"] and rows[0]["active_label"] == "停用"
    finally:
        with runtime.unit_of_work() as uow:
            catalogue.set_work_type_active(uow.session, actor("catalogue_admin"), "MT002", True)
            uow.commit()


def test_work_type_declared_in_an_open_batch_is_in_use(runtime):
    from tests.services.review_helpers import person, submit

    submit(runtime, [person(4, work_type="MT003")])
    with runtime.unit_of_work() as uow:
        assert catalogue.work_type_in_use(uow.session, "MT003")
        assert not catalogue.work_type_in_use(uow.session, "JZ001")


def test_nature_rules_are_validated(runtime):
    with runtime.unit_of_work() as uow, pytest.raises(InvalidData) as refused:
        catalogue.update_nature_rule(uow.session, actor("catalogue_admin"), "underground", 0, 70, 30)
    assert set(refused.value.fields) == {"required_years", "min_age_male", "min_age_female"}
