"""机构管理 (seed 003 §2.14): the register of human-resources service organisations, region-scoped,
audited; key particulars of a licensed organisation change only through 事项变更; deleting is for
mistakes only."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from engine.actors import Actor
from engine.errors import Conflict, Forbidden, InvalidData, NotFound
from services.hr_market import organisations
from services.hr_market.models import HrOrganisation
from services.platform.audit import AuditEntry
from tests.conftest import actor
from tests.processes.hr_helpers import act, apply, register_organisation

GOOD = organisations.OrganisationInput(credit_code="91350100M000100Y43", name="示范人力资源公司", kind="enterprise",
                                       legal_representative="王五", address="东城区一号", region_code="110101")


def count(runtime) -> int:
    with runtime.unit_of_work() as uow:
        return uow.session.scalar(select(func.count()).select_from(HrOrganisation)) or 0


def test_a_credit_code_with_a_wrong_check_character_is_refused_and_nothing_stored(runtime):
    with runtime.unit_of_work() as uow, pytest.raises(InvalidData) as refused:
        organisations.create(uow.session, actor("admin"), organisations.OrganisationInput(
            **(GOOD.__dict__ | {"credit_code": "91350100M000100Y44", "name": ""})))
    assert refused.value.fields["credit_code"] == ["统一社会信用代码校验位错误"]
    assert refused.value.fields["name"] == ["请填写机构名称"]
    assert count(runtime) == 0


def test_a_code_is_registered_once_and_only_in_the_staffs_regions(runtime):
    with runtime.unit_of_work() as uow:
        organisations.create(uow.session, actor("admin"), GOOD)
        uow.commit()
    with runtime.unit_of_work() as uow, pytest.raises(InvalidData) as twice:
        organisations.create(uow.session, actor("admin"), GOOD)
    assert "已登记" in twice.value.fields["credit_code"][0]
    district = Actor("district", frozenset({("acceptor", "110105")}))
    with runtime.unit_of_work() as uow, pytest.raises(InvalidData) as elsewhere:
        organisations.create(uow.session, district, organisations.OrganisationInput(
            **(GOOD.__dict__ | {"credit_code": "91110000600037341L"})))
    assert elsewhere.value.fields["region_code"] == ["所属区划不在您的管辖范围内"]
    with runtime.unit_of_work() as uow:
        [found] = organisations.search(uow.session, actor("admin"), "示范")[0]
        assert organisations.search(uow.session, district, "")[1] == 0
        with pytest.raises(NotFound):
            organisations.get_visible(uow.session, district, found.id)
        with pytest.raises(Forbidden):
            organisations.search(uow.session, actor("reviewer"), "")


def test_a_licensed_organisation_keeps_its_key_particulars_and_cannot_be_deleted(runtime):
    organisation_id = register_organisation(runtime)
    case = apply(runtime)
    act(runtime, case.id, "acceptor", {"decision": "approve"})
    act(runtime, case.id, "approver", {"decision": "approve"})
    with runtime.unit_of_work() as uow:
        current = uow.session.get(HrOrganisation, organisation_id)
        changed = organisations.OrganisationInput(**{k: getattr(current, k) for k in GOOD.__dict__})
    with runtime.unit_of_work() as uow, pytest.raises(InvalidData) as refused:
        organisations.update(uow.session, actor("admin"), organisation_id,
                             organisations.OrganisationInput(**(changed.__dict__ | {"name": "改名公司"})))
    assert "事项变更" in refused.value.fields["name"][0]
    with runtime.unit_of_work() as uow:
        organisations.update(uow.session, actor("admin"), organisation_id,
                             organisations.OrganisationInput(**(changed.__dict__ | {"contact_phone": "13800000000"})))
        uow.commit()
    with runtime.unit_of_work() as uow:
        assert uow.session.get(HrOrganisation, organisation_id).contact_phone == "13800000000"
        [entry] = uow.session.scalars(select(AuditEntry).where(AuditEntry.action == "hr_organisation.update")).all()
        assert entry.details["before"] == {"contact_phone": "010-1"}
    with runtime.unit_of_work() as uow, pytest.raises(Conflict, match="不能删除"):
        organisations.delete(uow.session, actor("admin"), organisation_id)


def test_an_organisation_added_by_mistake_is_deleted(runtime):
    with runtime.unit_of_work() as uow:
        organisation = organisations.create(uow.session, actor("admin"), GOOD)
        uow.commit()
    with runtime.unit_of_work() as uow:
        organisations.delete(uow.session, actor("admin"), organisation.id)
        uow.commit()
    assert count(runtime) == 0
