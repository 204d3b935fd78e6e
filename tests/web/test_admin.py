"""User administration: accounts and roles per region, only within the admin's regions."""
from __future__ import annotations

import re

from sqlalchemy import select

from services.identity import User


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
    designer = browser("designer")
    uid = user_id(runtime, "designer")
    admin.get(f"/admin/users/{uid}")
    assert admin.post(f"/admin/users/{uid}/active", {"active": "false"}).status_code == 302
    try:
        assert designer.get("/").status_code == 302
        fresh = browser()
        fresh.get("/signin")
        assert fresh.post("/signin", {"username": "designer", "password": "secret-pass"}).status_code == 401
    finally:
        admin.post(f"/admin/users/{uid}/active", {"active": "true"})
    assert browser("designer").get("/").status_code == 200
