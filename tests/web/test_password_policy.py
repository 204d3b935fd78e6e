"""The password policy through the pages, the API and the `banjian` command: one policy, its messages."""
from __future__ import annotations

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from services.platform.identity import User, authenticate
from services.platform.passwords import HAS_USERNAME, TOO_COMMON, TOO_SHORT
from tests.conftest import PASSWORD, account
from web import cli

RULES = [("short-1", [TOO_SHORT]), ("qwertyuiop", [TOO_COMMON]), ("{username}-2025", [HAS_USERNAME])]


def user_id(runtime, username: str) -> int:
    with runtime.unit_of_work() as uow:
        return uow.session.scalar(select(User.id).where(User.username == username))


@pytest.mark.parametrize(("password", "messages"), RULES)
def test_own_password_change_on_the_page(runtime, browser, password, messages):
    account(runtime, "policy_page")
    page = browser().sign_in("policy_page")
    new = password.format(username="policy_page")
    response = page.post("/password", {"old_password": PASSWORD, "new_password": new, "confirm": new})
    text = response.get_data(as_text=True)
    assert response.status_code == 400 and all(message in text for message in messages)


@pytest.mark.parametrize(("password", "messages"), RULES)
def test_admin_create_and_reset_on_the_page(runtime, browser, password, messages):
    account(runtime, "policy_reset")
    admin = browser("admin")
    admin.get("/admin/users")
    created = admin.client.post("/admin/users", data={
        "csrf_token": admin.token, "username": "policy_created", "password": password.format(username="policy_created"),
        "region_code": "110105", "roles": ["reviewer"]})
    assert created.status_code == 400 and all(m in created.get_data(as_text=True) for m in messages)
    uid = user_id(runtime, "policy_reset")
    reset = admin.post(f"/admin/users/{uid}/password", {"new_password": password.format(username="policy_reset")})
    assert reset.status_code == 400 and all(m in reset.get_data(as_text=True) for m in messages)
    assert user_id(runtime, "policy_created") is None


@pytest.mark.parametrize(("password", "messages"), RULES)
def test_own_password_change_through_the_api(runtime, client, password, messages):
    account(runtime, "policy_api")
    headers = {"Authorization": "Bearer " + client.post(
        "/api/auth/token", json={"username": "policy_api", "password": PASSWORD}).json["token"]}
    response = client.post("/api/auth/password", headers=headers, json={
        "old_password": PASSWORD, "new_password": password.format(username="policy_api")})
    assert response.status_code == 400 and response.json["fields"] == {"new_password": messages}


def test_banjian_create_user_applies_the_policy(runtime, monkeypatch):
    monkeypatch.setattr(cli, "_runtime", lambda: runtime)

    def create(password: str):
        return CliRunner().invoke(cli.main, ["create-user", "cli_user", "--region", "110000", "--role", "reviewer",
                                             "--password", password])

    for password, messages in [("a", [TOO_SHORT]), *RULES]:
        result = create(password.format(username="cli_user"))
        assert result.exit_code != 0 and all(message in result.output for message in messages), result.output
        assert user_id(runtime, "cli_user") is None
    result = create("Kai-shi-gong-zuo-88")
    assert result.exit_code == 0, result.output
    with runtime.unit_of_work() as uow:
        assert authenticate(uow.session, "cli_user", "Kai-shi-gong-zuo-88").username == "cli_user"
