"""Sign-in, sign-out, lockout, change of password, CSRF."""
from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

from sqlalchemy import update

from services.platform.identity import MAX_FAILED_LOGINS, SIGN_IN_REFUSED, User
from services.platform.passwords import TOO_SHORT
from tests.conftest import PASSWORD, account


def unlock(runtime, username: str) -> None:
    with runtime.unit_of_work() as uow:
        uow.session.execute(update(User).where(User.username == username).values(failed_logins=0, locked_until=None))
        uow.commit()


def test_signed_out_user_is_sent_to_signin_and_back_after_it(browser):
    b = browser()
    response = b.get("/inbox?scope=done")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/signin?next=/inbox")
    b.get(response.headers["Location"])
    response = b.post("/signin", {"username": "reviewer", "password": PASSWORD, "next": "/inbox?scope=done"})
    assert response.headers["Location"] == "/inbox?scope=done"


def test_wrong_password_shows_a_chinese_error_and_keeps_the_username(browser):
    b = browser()
    b.get("/signin")
    response = b.post("/signin", {"username": "reviewer", "password": "wrong"})
    text = response.get_data(as_text=True)
    assert response.status_code == 401
    assert "用户名或密码错误" in text and 'value="reviewer"' in text


def test_account_is_locked_after_repeated_failures(runtime, browser):
    b = browser()
    b.get("/signin")
    try:
        for _ in range(MAX_FAILED_LOGINS):
            b.post("/signin", {"username": "county_reviewer", "password": "wrong"})
        response = b.post("/signin", {"username": "county_reviewer", "password": PASSWORD})
        assert response.status_code == 401  # even the right password, while locked
        assert SIGN_IN_REFUSED in response.get_data(as_text=True)
    finally:  # users are reference data shared by the whole session
        unlock(runtime, "county_reviewer")


def test_open_redirect_after_signin_is_refused(browser):
    b = browser()
    b.get("/signin")
    response = b.post("/signin", {"username": "reviewer", "password": PASSWORD, "next": "//evil.example/x"})
    assert response.headers["Location"] == "/"


def test_signout_ends_the_session(browser):
    b = browser("reviewer")
    assert b.get("/").status_code == 200
    b.post("/signout")
    assert b.get("/").status_code == 302


def test_post_without_csrf_token_is_refused_with_an_html_page(browser, client):
    b = browser("reviewer")
    response = b.client.post("/signout")
    assert response.status_code == 400
    assert "text/html" in response.content_type
    assert "页面已过期" in response.get_data(as_text=True)
    assert b.get("/").status_code == 200  # still signed in: the forged request did nothing
    api = client.post("/api/auth/token", json={"username": "reviewer", "password": PASSWORD})
    assert api.status_code == 200  # the bearer-token API is exempt


def test_session_cookie_is_http_only_and_same_site(browser):
    b = browser()
    b.get("/signin")
    response = b.post("/signin", {"username": "reviewer", "password": PASSWORD})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    expires = parsedate_to_datetime(re.search(r"Expires=([^;]+)", cookie).group(1))
    assert timedelta(hours=7) < expires - datetime.now(UTC) <= timedelta(hours=8)  # a working day, not 31 days


def test_change_password_validates_and_ends_other_sessions(browser):
    mine, other = browser("supervisor"), browser("supervisor")
    response = mine.post("/password", {"old_password": "nope", "new_password": "n3w-secret", "confirm": "n3w-secret"})
    assert response.status_code == 400 and "原密码不正确" in response.get_data(as_text=True)
    response = mine.post("/password", {"old_password": PASSWORD, "new_password": "n3w-secret", "confirm": "other"})
    assert "两次输入的新密码不一致" in response.get_data(as_text=True)
    response = mine.post("/password", {"old_password": PASSWORD, "new_password": "short", "confirm": "short"})
    assert TOO_SHORT in response.get_data(as_text=True)
    response = mine.post("/password", {"old_password": PASSWORD, "new_password": "n3w-secret",
                                       "confirm": "n3w-secret"})
    assert response.status_code == 302
    assert mine.get("/").status_code == 200
    assert other.get("/").status_code == 302  # the other session is over
    try:
        assert browser().sign_in("supervisor", "n3w-secret")
    finally:  # the user table is reference data shared by the whole session
        mine.post("/password", {"old_password": "n3w-secret", "new_password": PASSWORD, "confirm": PASSWORD})


ALERT = re.compile(r'<div class="alert alert-error" role="alert">\s*(.*?)\s*</div>', re.S)


def test_unknown_inactive_locked_and_wrong_get_the_same_answer(runtime, browser, client):
    account(runtime, "same_inactive", active=False)
    account(runtime, "same_locked", locked=True)
    account(runtime, "same_wrong")
    attempts = {"unknown": ("same_nobody", PASSWORD), "inactive": ("same_inactive", PASSWORD),
                "locked": ("same_locked", PASSWORD), "wrong": ("same_wrong", "not-the-password")}
    b = browser()
    b.get("/signin")
    pages, api = {}, {}
    for case, (username, password) in attempts.items():
        page = b.post("/signin", {"username": username, "password": password})
        pages[case] = (page.status_code, ALERT.search(page.get_data(as_text=True)).group(1))
        answer = client.post("/api/auth/token", json={"username": username, "password": password})
        api[case] = (answer.status_code, answer.get_data(as_text=True))
    assert set(pages.values()) == {(401, f"<p>{SIGN_IN_REFUSED}</p>")}
    assert len(set(api.values())) == 1
    assert client.post("/api/auth/token", json={"username": "same_nobody", "password": PASSWORD}).json == {
        "error": "unauthenticated", "message": SIGN_IN_REFUSED}
