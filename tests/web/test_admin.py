"""User administration: accounts and roles per region, only within the admin's regions."""
from __future__ import annotations

import re

from sqlalchemy import select

from services.platform.identity import User


def user_id(runtime, username: str) -> int:
    with runtime.unit_of_work() as uow:
        return uow.session.scalar(select(User.id).where(User.username == username))


def test_only_admins_reach_user_administration(browser):
    assert browser("reviewer").get("/admin/users").status_code == 403
    page = browser("admin").get("/admin/users")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "county_reviewer" in text  # 110105 lies in the admin's 110000
    assert "tj_reviewer" not in text  # 120000 does not


def test_admin_creates_a_user_with_roles_and_grants_another_region(runtime, browser):
    admin = browser("admin")
    admin.get("/admin/users")
    response = admin.client.post("/admin/users", data={
        "csrf_token": admin.token, "username": "x", "password": "short", "region_code": "110105", "roles": []})
    text = response.get_data(as_text=True)
    assert response.status_code == 400 and "请至少选择一个角色" in text and "用户名为 2–50 位" in text
    if user_id(runtime, "new_acceptor") is None:
        response = admin.client.post("/admin/users", data={
            "csrf_token": admin.token, "username": "new_acceptor", "display_name": "新受理员",
            "password": "long-enough", "region_code": "110105", "roles": ["acceptor", "reviewer"]})
        assert response.status_code == 302
    uid = user_id(runtime, "new_acceptor")
    page = admin.get(f"/admin/users/{uid}").get_data(as_text=True)
    assert "受理人员" in page and "审核人员" in page
    admin.post(f"/admin/users/{uid}/grants", {"role": "rechecker", "region_code": "110101"})
    page = admin.get(f"/admin/users/{uid}").get_data(as_text=True)
    assert "复核人员" in page
    grant = re.search(r'/admin/users/\d+/grants/(\d+)/revoke', page).group(1)
    assert admin.post(f"/admin/users/{uid}/grants/{grant}/revoke").status_code == 302
    new_user = browser()
    new_user.get("/signin")
    assert new_user.post("/signin", {"username": "new_acceptor", "password": "long-enough"}).status_code == 302


def test_admin_cannot_grant_outside_own_region_nor_manage_foreign_users(runtime, browser):
    admin = browser("admin")
    county = user_id(runtime, "county_reviewer")
    admin.get(f"/admin/users/{county}")
    response = admin.post(f"/admin/users/{county}/grants", {"role": "reviewer", "region_code": "120000"})
    assert response.status_code == 403
    assert admin.get(f"/admin/users/{user_id(runtime, 'tj_reviewer')}").status_code == 404


def test_disabled_user_is_signed_out_and_cannot_sign_in(runtime, browser):
    admin = browser("admin")
    designer = browser("province_designer")
    uid = user_id(runtime, "province_designer")
    admin.get(f"/admin/users/{uid}")
    assert admin.post(f"/admin/users/{uid}/active", {"active": "false"}).status_code == 302
    try:
        assert designer.get("/").status_code == 302
        fresh = browser()
        fresh.get("/signin")
        assert fresh.post("/signin", {"username": "province_designer", "password": "secret-pass"}).status_code == 401
    finally:
        admin.post(f"/admin/users/{uid}/active", {"active": "true"})
    assert browser("province_designer").get("/").status_code == 200


def _create(admin, **fields):
    admin.get("/admin/users")
    return admin.client.post("/admin/users", data={"csrf_token": admin.token, "password": "Qx7!long-enough",
                                                    "region_code": "110000", "roles": ["enterprise"], **fields})


def test_admin_cannot_bind_an_account_to_an_enterprise_outside_own_regions(runtime, browser):
    """An account bound to an enterprise is that enterprise's applicant: it reads its batches and
    declares in its name. A Beijing admin must not make one for a Tianjin enterprise (nor for one
    that does not exist, nor give a bound account a staff role)."""
    admin = browser("admin")
    for username, code, roles, words in [
            ("tj_spy", "120101000003", ["enterprise"], "不在您管辖的区划内"),
            ("ghost_unit", "999999999999", ["enterprise"], "不存在"),
            ("unit_reviewer", "110101000001", ["enterprise", "reviewer"], "只能授予申报单位的角色")]:
        response = _create(admin, username=username, enterprise_code=code, roles=roles)
        assert response.status_code == 400, (username, response.status_code)
        assert words in response.get_data(as_text=True)
        assert user_id(runtime, username) is None


def test_a_bound_account_gets_no_staff_role(runtime, browser):
    admin = browser("admin")
    if user_id(runtime, "unit_clerk") is None:
        assert _create(admin, username="unit_clerk", region_code="110101",
                       enterprise_code="110101000001").status_code == 302
    uid = user_id(runtime, "unit_clerk")
    admin.get(f"/admin/users/{uid}")
    response = admin.post(f"/admin/users/{uid}/grants", {"role": "reviewer", "region_code": "110101"})
    assert response.status_code == 400 and "只能授予申报单位的角色" in response.get_data(as_text=True)


def test_admin_cannot_take_over_an_account_that_holds_roles_elsewhere(runtime, browser):
    """A Beijing-homed reviewer who also reviews for Tianjin: the Beijing admin sees the account, but
    resetting its password or disabling it would hand over (or take away) Tianjin's powers."""
    from services.platform.identity import RoleGrant, create_user

    with runtime.unit_of_work() as uow:
        user = uow.session.scalar(select(User).where(User.username == "two_regions"))
        if user is None:
            user = create_user(uow.session, "two_regions", "secret-pass", "110105", ["reviewer"])
            user.grants.append(RoleGrant(role="reviewer", region_code="120000"))
            uow.commit()
        uid = user.id
    admin = browser("admin")
    assert admin.get(f"/admin/users/{uid}").status_code == 200
    assert admin.post(f"/admin/users/{uid}/password", {"new_password": "Qx7!taken-over"}).status_code == 403
    assert admin.post(f"/admin/users/{uid}/active", {"active": "false"}).status_code == 403
    fresh = browser()
    fresh.get("/signin")
    assert fresh.post("/signin", {"username": "two_regions", "password": "secret-pass"}).status_code == 302
