"""Server-side sessions: a cookie or token is valid only while its auth_session row exists."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from services.platform.identity import AuthSession, User
from tests.conftest import PASSWORD, account


def token(client, username: str, password: str = PASSWORD) -> dict[str, str]:
    answer = client.post("/api/auth/token", json={"username": username, "password": password})
    assert answer.status_code == 200, answer.json
    return {"Authorization": f"Bearer {answer.json['token']}"}


def kinds(runtime, username: str) -> list[str]:
    """The kinds of the user's sessions still on the server."""
    with runtime.unit_of_work() as uow:
        return sorted(uow.session.scalars(select(AuthSession.kind).join(User, User.id == AuthSession.user_id)
                                          .where(User.username == username)))


def user_id(runtime, username: str) -> int:
    with runtime.unit_of_work() as uow:
        return uow.session.scalar(select(User.id).where(User.username == username))


def replay(app, cookie: str):
    """A client that sends nothing but a saved session cookie."""
    client = app.test_client()
    client.set_cookie("session", cookie)
    return client


def test_a_cookie_saved_before_sign_out_no_longer_opens_the_inbox(app, browser):
    b = browser().sign_in("reviewer")  # a session of its own, not the suite's cached one
    saved = b.client.get_cookie("session").value
    assert replay(app, saved).get("/inbox").status_code == 200
    assert b.post("/signout").status_code == 302
    answer = replay(app, saved).get("/inbox")
    assert answer.status_code == 302 and answer.headers["Location"].startswith("/signin")


def test_a_password_change_ends_every_other_session_and_token_but_this_browser_goes_on(runtime, app, browser,
                                                                                       client):
    account(runtime, "pw_changer")
    mine, other = browser().sign_in("pw_changer"), browser().sign_in("pw_changer")
    before = mine.client.get_cookie("session").value
    api = token(client, "pw_changer")
    response = mine.post("/password", {"old_password": PASSWORD, "new_password": "Huan-le-xin-mima-2025",
                                       "confirm": "Huan-le-xin-mima-2025"})
    assert response.status_code == 302
    assert mine.get("/inbox").status_code == 200  # the changing browser goes on, on a new session id
    assert other.get("/inbox").status_code == 302
    assert replay(app, before).get("/inbox").status_code == 302  # its own cookie from before the change too
    assert client.get("/api/tasks", headers=api).status_code == 401
    assert kinds(runtime, "pw_changer") == ["page"]


def test_an_api_password_change_keeps_the_calling_token_and_ends_the_rest(runtime, browser, client):
    account(runtime, "api_pw_changer")
    calling, other = token(client, "api_pw_changer"), token(client, "api_pw_changer")
    page = browser().sign_in("api_pw_changer")
    wrong = client.post("/api/auth/password", json={"old_password": "nope", "new_password": "Api-xin-mima-2025"},
                        headers=calling)
    assert wrong.status_code == 400 and wrong.json["fields"] == {"old_password": ["原密码不正确"]}
    changed = client.post("/api/auth/password", json={"old_password": PASSWORD, "new_password": "Api-xin-mima-2025"},
                          headers=calling)
    assert changed.status_code == 204
    assert client.get("/api/tasks", headers=calling).status_code == 200
    assert client.get("/api/tasks", headers=other).status_code == 401
    assert page.get("/inbox").status_code == 302
    assert client.post("/api/auth/token", json={"username": "api_pw_changer", "password": PASSWORD}).status_code == 401
    token(client, "api_pw_changer", "Api-xin-mima-2025")


def test_a_revoked_token_is_refused_and_only_that_one(runtime, app, browser, client):
    account(runtime, "token_holder")
    first, second = token(client, "token_holder"), token(client, "token_holder")
    assert client.delete("/api/auth/token", headers=first).status_code == 204
    assert client.get("/api/tasks", headers=first).status_code == 401
    assert client.delete("/api/auth/token", headers=first).status_code == 401
    assert client.get("/api/tasks", headers=second).status_code == 200
    # a page session's secret is no bearer token, nor a token a page session
    page = browser().sign_in("token_holder")
    secret = app.session_interface.get_signing_serializer(app).loads(page.client.get_cookie("session").value)["sid"]
    assert client.get("/api/tasks", headers={"Authorization": f"Bearer {secret}"}).status_code == 401
    with app.test_request_context():
        forged = app.session_interface.get_signing_serializer(app).dumps({"sid": second["Authorization"][7:]})
    assert replay(app, forged).get("/inbox").status_code == 302


@pytest.mark.parametrize("action", ["disable", "reset", "revoke_role"])
def test_disabling_resetting_or_revoking_a_role_ends_every_session_and_token(runtime, browser, client, action):
    username = f"managed_{action}"
    account(runtime, username)
    page, api = browser().sign_in(username), token(client, username)
    uid = user_id(runtime, username)
    admin = browser("admin")
    user_page = admin.get(f"/admin/users/{uid}").get_data(as_text=True)
    if action == "disable":
        response = admin.post(f"/admin/users/{uid}/active", {"active": "false"})
    elif action == "reset":
        response = admin.post(f"/admin/users/{uid}/password", {"new_password": "Guan-li-yuan-chong-zhi-9"})
    else:
        grant = re.search(rf"/admin/users/{uid}/grants/(\d+)/revoke", user_page).group(1)
        response = admin.post(f"/admin/users/{uid}/grants/{grant}/revoke")
    assert response.status_code == 302
    assert page.get("/inbox").status_code == 302
    assert client.get("/api/tasks", headers=api).status_code == 401
    assert kinds(runtime, username) == []


def test_the_user_sees_where_they_are_signed_in_and_can_end_any_of_it(runtime, browser, client):
    account(runtime, "device_user")
    here, elsewhere = browser().sign_in("device_user"), browser().sign_in("device_user")
    api = token(client, "device_user")
    with runtime.unit_of_work() as uow:
        here_id, elsewhere_id, api_id = uow.session.scalars(
            select(AuthSession.id).join(User, User.id == AuthSession.user_id)
            .where(User.username == "device_user").order_by(AuthSession.id)).all()
    page = here.get("/sessions").get_data(as_text=True)
    assert page.count("（当前）") == 1 and page.count("127.0.0.1") == 3 and "API 令牌" in page
    assert f"/sessions/{elsewhere_id}/end" in page and f"/sessions/{here_id}/end" not in page
    assert here.post(f"/sessions/{elsewhere_id}/end").status_code == 302
    assert elsewhere.get("/inbox").status_code == 302
    assert browser("reviewer").post(f"/sessions/{api_id}/end").status_code == 404  # not someone else's
    assert client.get("/api/tasks", headers=api).status_code == 200
    assert here.post("/sessions/end-others").status_code == 302
    assert client.get("/api/tasks", headers=api).status_code == 401
    assert here.get("/inbox").status_code == 200 and kinds(runtime, "device_user") == ["page"]
