"""属地企业管理 (seed 000, 3.1): the manual's three common errors, portal password and access."""
from __future__ import annotations

import pytest

from engine.errors import Conflict, Forbidden, InvalidData, NotFound, Unauthenticated
from services.platform import audit
from services.platform.identity import authenticate
from services.special_work import enterprises
from tests.services.review_helpers import actor

GOOD = dict(name="北京测试矿业有限公司", region_code="110101", industry="煤炭", address="东城区某路 1 号",
            postal_code="100010", contact_person="王经办", contact_phone="13800138000")


def data(**overrides) -> enterprises.EnterpriseInput:
    return enterprises.EnterpriseInput(**{**GOOD, **overrides})


def create(runtime, code, **overrides):
    with runtime.unit_of_work() as uow:
        enterprise = enterprises.create_enterprise(uow.session, actor("clerk"), code, data(**overrides))
        uow.commit()
        return enterprise


@pytest.mark.parametrize(("field", "value", "message"), [
    ("postal_code", "10001", "邮政编码不足6位（应为 6 位数字）"),
    ("postal_code", "10001a", "邮政编码不足6位（应为 6 位数字）"),
    ("contact_phone", "12345", "单位经办人联系电话格式不正确（手机号码或带区号的固定电话，如 010-12345678）"),
    ("contact_phone", "12345678", "单位经办人联系电话格式不正确（手机号码或带区号的固定电话，如 010-12345678）"),
    ("contact_person", " ", "必填信息未填写：单位经办人"),
    ("address", "", "必填信息未填写：单位地址"),
])
def test_bad_enterprise_data_is_refused_with_the_manual_messages(field, value, message):
    assert enterprises.enterprise_problems(data(**{field: value}))[field] == [message]


@pytest.mark.parametrize("phone", ["13800138000", "010-12345678", "0571-1234567", "01012345678", "010-12345678-123"])
def test_mobile_and_landline_with_area_code_are_accepted(phone):
    assert enterprises.enterprise_problems(data(contact_phone=phone)) == {}


def test_create_and_edit_are_audited_and_refuse_duplicates(runtime):
    create(runtime, "110101900001")
    with pytest.raises(Conflict, match="已存在"):
        create(runtime, "110101900001", name="另一家")
    with pytest.raises(Conflict, match="已存在"):
        create(runtime, "110101900002")  # same name
    with runtime.unit_of_work() as uow:
        with pytest.raises(InvalidData) as refused:
            enterprises.update_enterprise(uow.session, actor("clerk"), "110101900001", data(postal_code="1000"))
        assert "postal_code" in refused.value.fields
        enterprises.update_enterprise(uow.session, actor("clerk"), "110101900001", data(address="新地址 8 号"))
        uow.commit()
    with runtime.unit_of_work() as uow:
        assert enterprises.get_enterprise(uow.session, "110101900001").address == "新地址 8 号"
        entries = audit.entries_for(uow.session, "enterprise", "110101900001")
        assert [(e.action, e.actor) for e in entries] == [("enterprise.create", "clerk"),
                                                          ("enterprise.update", "clerk")]
        assert entries[1].details == {"before": {"address": "东城区某路 1 号"}}


def test_staff_of_another_region_cannot_manage(runtime):
    with runtime.unit_of_work() as uow, pytest.raises(Forbidden):
        enterprises.create_enterprise(uow.session, actor("tj_reviewer"), "110101900003", data(name="别处的单位"))


def test_portal_password_reset_and_access(runtime):
    create(runtime, "110101900004", name="网厅测试单位")
    with runtime.unit_of_work() as uow:
        with pytest.raises(NotFound):  # another region's enterprise: as if it did not exist
            enterprises.reset_portal_password(uow.session, actor("tj_reviewer"), "110101900004")
        credentials = enterprises.reset_portal_password(uow.session, actor("clerk"), "110101900004")
        enterprises.set_portal_access(uow.session, actor("clerk"), "110101900004", True)
        uow.commit()
    assert credentials["username"] == "110101900004" and len(credentials["password"]) >= 12
    with runtime.unit_of_work() as uow:
        authenticate(uow.session, credentials["username"], credentials["password"])
        again = enterprises.reset_portal_password(uow.session, actor("clerk"), "110101900004")
        uow.commit()
    with runtime.unit_of_work() as uow:
        with pytest.raises(Unauthenticated):
            authenticate(uow.session, credentials["username"], credentials["password"])  # the old one is gone
        authenticate(uow.session, again["username"], again["password"])
        enterprises.set_portal_access(uow.session, actor("clerk"), "110101900004", False)
        uow.commit()
    with runtime.unit_of_work() as uow:
        with pytest.raises(Unauthenticated):
            authenticate(uow.session, again["username"], again["password"])
        actions = [e.action for e in audit.entries_for(uow.session, "enterprise", "110101900004")]
    assert actions == ["enterprise.create", "enterprise.reset_password", "enterprise.portal_open",
                       "enterprise.reset_password", "enterprise.portal_close"]


def test_a_closed_portal_refuses_declarations(runtime):
    from services.special_work import declarations
    from tests.services.review_helpers import person

    create(runtime, "110101900005", name="关闭网厅单位")
    closed = actor("enterprise").__class__("u", frozenset({("enterprise", "110101")}), "110101900005")
    with runtime.unit_of_work() as uow, pytest.raises(Forbidden, match="网厅"):
        declarations.submit_declaration(uow, runtime.engine, closed, "110101900005", "first",
                                        [declarations.PersonInput(**person(1))])


def test_a_portal_password_reset_touches_only_applicant_accounts(runtime):
    """A clerk resets an enterprise's portal password and reads it: an account bound to the
    enterprise that also holds a staff role (made before bound accounts were limited to applicant
    roles) keeps its own password."""
    from sqlalchemy import select

    from services.platform.identity import User, create_user

    create(runtime, "110101900077", name="绑定账号测试单位")
    with runtime.unit_of_work() as uow:
        if uow.session.scalar(select(User).where(User.username == "bound_reviewer")) is None:
            create_user(uow.session, "bound_reviewer", "secret-pass", "110101", ["enterprise", "reviewer"],
                        enterprise_code="110101900077")
        credentials = enterprises.reset_portal_password(uow.session, actor("clerk"), "110101900077")
        uow.commit()
        assert credentials["username"] == "110101900077"
        assert authenticate(uow.session, "bound_reviewer", "secret-pass").username == "bound_reviewer"
