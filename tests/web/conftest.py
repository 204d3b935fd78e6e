"""Helpers for the page tests: a browser-like client that signs in and sends CSRF tokens, and
declarations submitted straight through the service layer."""
from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from sqlalchemy import select

from engine.models import HumanTask, TaskStatus
from services.special_work import declarations
from tests.conftest import PASSWORD, actor, person

TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


class Browser:
    """A Flask test client used the way a browser uses the pages (cookies + form posts)."""

    def __init__(self, client):
        self.client = client
        self.token = ""

    def get(self, url: str, **kwargs):
        response = self.client.get(url, **kwargs)
        found = TOKEN.search(response.get_data(as_text=True))
        if found:
            self.token = found.group(1)
        return response

    def post(self, url: str, data: dict | None = None, **kwargs):
        if not self.token:
            self.get("/signin")
        return self.client.post(url, data={"csrf_token": self.token, **(data or {})}, **kwargs)

    def sign_in(self, username: str, password: str = PASSWORD):
        self.get("/signin")
        response = self.post("/signin", {"username": username, "password": password})
        assert response.status_code == 302, response.get_data(as_text=True)
        self.get("/", follow_redirects=True)
        return self


# (database URL, username) → session cookie. Signing in verifies an argon2 hash (~0.2 s), so the
# tests reuse a user's session cookie while its auth_session row lives (a reference table, kept
# between tests); signing out, a password change or an admin action ends it, and the next test signs in anew.
_SESSIONS: dict[tuple[str, str], str] = {}


@pytest.fixture
def browser(app, runtime):
    """browser('reviewer') → a signed-in Browser; each call gets its own cookie jar."""

    def make(username: str | None = None) -> Browser:
        b = Browser(app.test_client())
        if username is None:
            return b
        key = (str(runtime.db.url), username)
        if key in _SESSIONS:
            b.client.set_cookie("session", _SESSIONS[key])
            home = b.get("/", follow_redirects=True)  # the office's home, or an applicant's 我的办件
            if home.status_code == 200 and home.request.path != "/signin":
                return b
        b.sign_in(username)
        _SESSIONS[key] = b.client.get_cookie("session").value
        return b

    return make


_TOKENS: dict[tuple[str, str], str] = {}


@pytest.fixture
def bearer(client, runtime):
    """bearer('reviewer') → Authorization headers with a (cached while valid) API token."""

    def make(username: str) -> dict[str, str]:
        key = (str(runtime.db.url), username)
        headers = {"Authorization": f"Bearer {_TOKENS.get(key, '')}"}
        if key not in _TOKENS or client.get("/api/tasks?per_page=1", headers=headers).status_code != 200:
            response = client.post("/api/auth/token", json={"username": username, "password": PASSWORD})
            _TOKENS[key] = response.json["token"]
            headers = {"Authorization": f"Bearer {_TOKENS[key]}"}
        return headers

    return make


@dataclass
class Case:
    batch_id: int
    batch_no: str
    instance_id: int


def submit(runtime, persons: list[dict] | None = None, kind: str = "first",
           enterprise: str = "110101000001", submitter: str = "enterprise") -> Case:
    with runtime.unit_of_work() as uow:
        batch = declarations.submit_declaration(
            uow, runtime.engine, actor(submitter), enterprise, kind,
            [declarations.PersonInput(**p) for p in persons or [person(1)]])
        uow.commit()
        return Case(batch.id, batch.batch_no, batch.instance_id)


def open_task(runtime, instance_id: int) -> HumanTask:
    with runtime.unit_of_work() as uow:
        return uow.session.scalars(select(HumanTask).where(
            HumanTask.instance_id == instance_id, HumanTask.status == TaskStatus.OPEN)).one()


def invalid_person(serial: int = 9) -> dict:
    """A person whose 校验 fails: the work history ends before it starts."""
    from datetime import date

    return person(serial, start=date(2005, 1, 1), end=date(2004, 1, 1))


def ensure_user(runtime, username: str, region: str, roles: list[str]) -> None:
    """Create an extra user once per database (users are reference data, kept between tests)."""
    from services.platform.identity import User, create_user

    with runtime.unit_of_work() as uow:
        if uow.session.scalar(select(User.id).where(User.username == username)) is None:
            create_user(uow.session, username, PASSWORD, region, roles)
            uow.commit()
