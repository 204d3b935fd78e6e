"""Rate limits on signing in, per client address and per submitted username (low limits of their own:
the rest of the suite runs with TEST_SIGNIN_LIMITS)."""
from __future__ import annotations

import dataclasses
import os
import re
import uuid

import pytest

from services.bootstrap import Settings
from tests.conftest import PASSWORD, TEST_SIGNIN_LIMITS, account
from tests.web.conftest import Browser

TOO_MANY = re.compile(r"登录尝试过于频繁，请 \d+ 分钟后再试")
REDIS_URL = os.environ.get("BANJIAN_TEST_REDIS_URL")


def limited_app(runtime, **settings):
    """The application over the suite's database with other sign-in settings."""
    from web import create_app

    changed = dataclasses.replace(runtime, settings=dataclasses.replace(runtime.settings, **{**TEST_SIGNIN_LIMITS,
                                                                                            **settings}))
    return create_app(changed, {"TESTING": True})


def page_attempt(app, username: str, address: str = "127.0.0.1", password: str = "not-the-password"):
    b = Browser(app.test_client())
    b.client.environ_base["REMOTE_ADDR"] = address
    b.get("/signin")
    return b.post("/signin", {"username": username, "password": password})


def api_attempt(app, username: str, address: str = "127.0.0.1", password: str = "not-the-password"):
    return app.test_client().post("/api/auth/token", json={"username": username, "password": password},
                                  environ_base={"REMOTE_ADDR": address})


def assert_limited_page(response) -> None:
    assert response.status_code == 429 and int(response.headers["Retry-After"]) > 0
    text = response.get_data(as_text=True)
    assert TOO_MANY.search(text) and 'name="password"' in text  # the sign-in form with the message


def assert_limited_api(response) -> None:
    assert response.status_code == 429 and int(response.headers["Retry-After"]) > 0
    assert response.json["error"] == "rate_limited" and TOO_MANY.fullmatch(response.json["message"])


def test_the_per_address_limit_counts_pages_and_api_together(runtime):
    app = limited_app(runtime, signin_limit_per_ip="3/minute")
    assert page_attempt(app, "ip_a").status_code == 401
    assert api_attempt(app, "ip_b").status_code == 401
    assert page_attempt(app, "ip_c").status_code == 401
    assert_limited_page(page_attempt(app, "reviewer", password=PASSWORD))  # even the right password waits
    assert_limited_api(api_attempt(app, "ip_d"))
    assert api_attempt(app, "ip_e", address="10.0.0.2").status_code == 401  # another address is not held up


def test_the_per_account_limit_holds_across_addresses_and_for_unknown_names_alike(runtime):
    account(runtime, "limited_account")
    app = limited_app(runtime, signin_limit_per_account="2/minute")
    for name in ("limited_account", "no_such_account"):
        assert page_attempt(app, name, "10.0.1.1").status_code == 401
        assert api_attempt(app, name, "10.0.1.2").status_code == 401
        assert_limited_api(api_attempt(app, name, "10.0.1.3"))
        assert_limited_page(page_attempt(app, f" {name.upper()} ", "10.0.1.4"))  # the same name, spelt otherwise
    assert api_attempt(app, "rechecker", "10.0.1.3").status_code == 401  # other accounts are not held up


def test_behind_a_trusted_proxy_the_forwarded_address_counts(runtime):
    app = limited_app(runtime, signin_limit_per_ip="1/minute", trusted_proxies=1)

    def attempt(forwarded: str):
        return app.test_client().post("/api/auth/token", json={"username": "proxy_x", "password": "x"},
                                      headers={"X-Forwarded-For": forwarded})

    assert attempt("10.0.2.1").status_code == 401
    assert attempt("10.0.2.2").status_code == 401
    assert_limited_api(attempt("10.0.2.1"))


def test_a_malformed_limit_is_refused_at_start_up():
    with pytest.raises(ValueError):
        Settings(signin_limit_per_ip="three a minute")


@pytest.mark.redis
@pytest.mark.skipif(not REDIS_URL, reason="BANJIAN_TEST_REDIS_URL is not set (.ci/run sets it when Redis answers)")
def test_processes_sharing_redis_count_together(runtime):
    first, second = (limited_app(runtime, signin_limit_per_account="2/minute", ratelimit_storage_url=REDIS_URL)
                     for _ in range(2))
    name = f"redis_{uuid.uuid4().hex[:8]}"  # fresh counters whatever earlier runs left in Redis
    assert api_attempt(first, name).status_code == 401
    assert api_attempt(second, name).status_code == 401
    assert_limited_api(api_attempt(first, name))
    assert api_attempt(second, f"other_{name}").status_code == 401


def test_an_unreachable_limit_store_is_logged_and_lets_sign_ins_through(runtime, caplog):
    app = limited_app(runtime, signin_limit_per_ip="1/minute", ratelimit_storage_url="redis://127.0.0.1:1/0")
    assert [api_attempt(app, "store_down").status_code for _ in range(2)] == [401, 401]  # no 500, no lock-out
    assert "rate-limit storage unreachable" in caplog.text


def test_guessing_the_old_password_counts_like_signing_in(runtime):
    """With a stolen session or token, the password itself could be guessed through the password
    change (each wrong old password answered 400, without end): it counts into the account's limit."""
    account(runtime, "pw_guess")
    app = limited_app(runtime, signin_limit_per_account="3/minute")
    token = api_attempt(app, "pw_guess", password=PASSWORD).json["token"]
    headers = {"Authorization": f"Bearer {token}"}
    client = app.test_client()
    for _ in range(2):
        wrong = client.post("/api/auth/password", headers=headers,
                            json={"old_password": "guess-guess", "new_password": "Qx7!another-one"})
        assert wrong.status_code == 400
    assert_limited_api(client.post("/api/auth/password", headers=headers,
                                   json={"old_password": "guess-guess", "new_password": "Qx7!another-one"}))


def test_guessing_the_old_password_on_the_page_counts_like_signing_in(runtime):
    account(runtime, "pw_guess_page")
    app = limited_app(runtime, signin_limit_per_account="3/minute")
    b = Browser(app.test_client())
    b.sign_in("pw_guess_page")
    b.get("/password")
    form = {"old_password": "guess-guess", "new_password": "Qx7!another-one", "confirm": "Qx7!another-one"}
    assert [b.post("/password", form).status_code for _ in range(2)] == [400, 400]
    limited = b.post("/password", form)
    assert limited.status_code == 429 and TOO_MANY.search(limited.get_data(as_text=True))
