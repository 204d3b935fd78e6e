"""单位管理: list, create and edit with the manual's field errors (a bad input changes nothing),
portal access on / off, and the portal password reset shown once."""
from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from sqlalchemy import delete, select

from services.platform.identity import RoleGrant, User
from services.special_work.models import Enterprise

NEW_CODE = "110101990001"
VALID = {"name": "北京东城测试冶炼厂", "region_code": "110101", "industry": "冶金", "address": "东城区测试路 1 号",
         "postal_code": "100010", "contact_person": "王经办", "contact_phone": "010-12345678"}


def enterprise(runtime, code: str) -> Enterprise | None:
    with runtime.unit_of_work() as uow:
        return uow.session.get(Enterprise, code)


@pytest.fixture
def new_enterprise(runtime) -> Iterator[str]:
    """The code of an enterprise the test creates; it and its portal users are removed afterwards
    (enterprises and users are reference data, kept between tests)."""
    yield NEW_CODE
    with runtime.unit_of_work() as uow:
        users = list(uow.session.scalars(select(User.id).where(User.enterprise_code == NEW_CODE)))
        uow.session.execute(delete(RoleGrant).where(RoleGrant.user_id.in_(users)))
        uow.session.execute(delete(User).where(User.id.in_(users)))
        uow.session.execute(delete(Enterprise).where(Enterprise.code == NEW_CODE))
        uow.commit()


def test_list_is_scoped_to_the_users_region(browser):
    beijing = browser("clerk").get("/enterprises").get_data(as_text=True)
    assert "110101000001" in beijing and "120101000003" not in beijing
    assert "110101000001" not in browser("tj_clerk").get("/enterprises").get_data(as_text=True)
    assert browser("tj_clerk").get("/enterprises/110101000001").status_code == 404
    assert browser("designer").get("/enterprises").status_code == 403


def test_bad_postal_code_and_phone_show_the_manuals_errors_and_change_nothing(runtime, browser):
    before = enterprise(runtime, "110101000001")
    clerk = browser("clerk")
    clerk.get("/enterprises/110101000001")
    form = {**VALID, "name": before.name, "industry": before.industry, "postal_code": "1000",
            "contact_phone": "12345", "contact_person": "改过的人"}
    response = clerk.post("/enterprises/110101000001", form)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "邮政编码不足6位" in page and "单位经办人联系电话格式不正确" in page
    assert 'value="改过的人"' in page  # the user's input is kept
    after = enterprise(runtime, "110101000001")
    assert (after.postal_code, after.contact_phone, after.contact_person) == \
        (before.postal_code, before.contact_phone, before.contact_person)


def test_missing_required_field_is_named(browser, runtime, new_enterprise):
    response = browser("clerk").post("/enterprises", {**VALID, "code": new_enterprise, "address": ""})
    assert response.status_code == 400
    assert "必填信息未填写：单位地址" in response.get_data(as_text=True)
    assert enterprise(runtime, new_enterprise) is None


def test_create_edit_portal_and_password_reset(runtime, browser, new_enterprise):
    clerk = browser("clerk")
    created = clerk.post("/enterprises", {**VALID, "code": new_enterprise})
    assert created.status_code == 302 and created.headers["Location"] == f"/enterprises/{new_enterprise}"
    assert enterprise(runtime, new_enterprise).portal_enabled is False

    duplicate = clerk.post("/enterprises", {**VALID, "code": new_enterprise})
    assert duplicate.status_code == 409 and f"单位编号 {new_enterprise} 已存在" in duplicate.get_data(as_text=True)

    edited = clerk.post(f"/enterprises/{new_enterprise}", {**VALID, "contact_phone": "13912345678"},
                        follow_redirects=True)
    assert "单位信息已保存" in edited.get_data(as_text=True)
    assert enterprise(runtime, new_enterprise).contact_phone == "13912345678"

    opened = clerk.post(f"/enterprises/{new_enterprise}/portal", {"enabled": "true"}, follow_redirects=True)
    assert "已开启网厅权限" in opened.get_data(as_text=True) and enterprise(runtime, new_enterprise).portal_enabled

    reset = clerk.post(f"/enterprises/{new_enterprise}/password")
    assert reset.status_code == 200 and reset.headers["Cache-Control"] == "no-store"
    password = re.search(r'id="new-password">([^<]+)<', reset.get_data(as_text=True)).group(1)
    assert len(password) >= 12
    assert password not in clerk.get(f"/enterprises/{new_enterprise}").get_data(as_text=True)  # shown once
    signed_in = browser().post("/signin", {"username": new_enterprise, "password": password})
    assert signed_in.status_code == 302

    closed = clerk.post(f"/enterprises/{new_enterprise}/portal", {"enabled": "false"}, follow_redirects=True)
    assert "已关闭网厅权限" in closed.get_data(as_text=True)
    with runtime.unit_of_work() as uow:
        assert uow.session.scalar(select(User.active).where(User.username == new_enterprise)) is False

    log = clerk.get(f"/enterprises/{new_enterprise}").get_data(as_text=True)
    rows = re.findall(r"<td>([^<]*)</td>\s*<td>([^<]*)</td></tr>", log)  # (操作, 变更项) of the 操作记录
    assert rows == [("新增单位", ""), ("修改单位信息", "经办人联系电话"), ("开启网厅权限", ""),
                    ("重置网厅密码", ""), ("关闭网厅权限", "")]


def test_a_foreign_clerk_cannot_change_an_enterprise(runtime, browser):
    before = enterprise(runtime, "110101000001")
    response = browser("tj_clerk").post("/enterprises/110101000001", {**VALID, "name": before.name,
                                                                      "industry": before.industry})
    assert response.status_code == 404  # another region's enterprise: as if it did not exist
    assert enterprise(runtime, "110101000001").address == before.address
