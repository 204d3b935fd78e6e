"""Shared fixtures. Database tests run on SQLite and, when BANJIAN_TEST_DATABASE_URL is set
(CI sets it when PostgreSQL answers), on PostgreSQL too: the ``runtime`` fixture is
parametrised over the available databases."""
from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import date, datetime

import pytest
from sqlalchemy import text

from engine.actors import Actor
from engine.db import Base
from engine.definitions import files_under
from services import schema
from services.bootstrap import ROOT, Runtime, Settings, bootstrap
from services.hr_market.demo import demo_credit_code
from services.platform.demo_data import REGIONS, demo_id_number
from services.platform.identity import Region, create_user
from services.special_work.demo import ENTERPRISES, WORK_TYPES
from services.special_work.models import Enterprise, WorkType

PG_URL = os.environ.get("BANJIAN_TEST_DATABASE_URL")
DATABASES = ["sqlite"] + (["postgresql"] if PG_URL else [])
# Tables that hold reference data loaded once per database; everything else is emptied per test.
# auth_session stays too: tests/web/conftest.py reuses sessions and tokens across tests, since each
# sign-in verifies an argon2 hash.
pytest_plugins = ["tests.processes.xf_helpers"]  # the petition tests' province (organisations and posts)
REFERENCE_TABLES = {"region", "app_user", "role_grant", "work_type", "work_nature", "enterprise", "process_definition",
                    "auth_session", "alembic_version"}
# The suite signs in far more often than people do; tests/web/test_rate_limits.py sets low limits of its own.
TEST_SIGNIN_LIMITS = {"signin_limit_per_ip": "100000/minute", "signin_limit_per_account": "100000/minute"}
PASSWORD = "secret-pass"
USERS = {
    "enterprise": (["enterprise"], "110101", "110101000001"),
    "reviewer": (["reviewer"], "110000", None),
    "rechecker": (["rechecker"], "110000", None),
    "supervisor": (["supervisor"], "110000", None),
    "designer": (["designer"], "000000", None),
    "province_designer": (["designer"], "110000", None),
    "admin": (["admin"], "110000", None),
    "county_reviewer": (["reviewer"], "110105", None),
    "tj_reviewer": (["reviewer"], "120000", None),
    "tj_enterprise": (["enterprise"], "120101", "120101000003"),
    "clerk": (["clerk"], "110000", None),
    "tj_clerk": (["clerk"], "120000", None),
    "approver": (["approver"], "110000", None),
    "acceptor": (["acceptor"], "110000", None),
    "hr_org": (["hr_org"], "110101", demo_credit_code("110101", 901)),
    "hr_org_chaoyang": (["hr_org"], "110105", demo_credit_code("110105", 902)),
    "spot_checker": (["spot_checker"], "110000", None),
    "county_spot_checker": (["spot_checker"], "110105", None),
    "catalogue_admin": (["catalogue_admin"], "000000", None),
    "province_catalogue_admin": (["catalogue_admin"], "110000", None),
}


def _reset_postgres(url: str) -> None:
    from engine.db import make_engine

    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(scope="session", params=DATABASES)
def runtime(request, tmp_path_factory) -> Iterator[Runtime]:
    if request.param == "postgresql":
        _reset_postgres(PG_URL)
        url = PG_URL
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'banjian.db'}"
    rt = bootstrap(Settings(database_url=url, script_time_limit=0.5, **TEST_SIGNIN_LIMITS))
    schema.upgrade(rt.db)
    with rt.unit_of_work() as uow:
        session = uow.session
        session.add_all(Region(code=c, name=n, level=lvl) for c, n, lvl in REGIONS)
        session.add_all(WorkType(code=c, name=n, industry=i, nature=nat) for c, n, i, nat in WORK_TYPES)
        session.add_all(Enterprise(code=c, name=n, region_code=r, industry=i) for c, n, r, i in ENTERPRISES)
        session.flush()
        for username, (roles, region, enterprise) in USERS.items():
            create_user(session, username, PASSWORD, region, roles, enterprise_code=enterprise)
        rt.deployer.deploy(session, files_under([ROOT / "processes"]), "test")
        uow.commit()
    yield rt
    rt.db.dispose()


@pytest.fixture(autouse=True)
def _clean_cases(request) -> Iterator[None]:
    """Empty the case tables after each test that used a database."""
    yield
    if "runtime" not in request.fixturenames:
        return
    rt: Runtime = request.getfixturevalue("runtime")
    with rt.db.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            if table.name not in REFERENCE_TABLES:
                conn.execute(table.delete())


@pytest.fixture
def uow(runtime):
    with runtime.unit_of_work() as work:
        yield work


def actor(username: str) -> Actor:
    roles, region, enterprise = USERS[username]
    return Actor(username, frozenset((r, region) for r in roles), enterprise)


@pytest.fixture
def actors() -> dict[str, Actor]:
    return {name: actor(name) for name in USERS}


def person(serial: int = 1, birth: date = date(1975, 3, 1), work_type: str = "MT001",
           start: date = date(1995, 7, 1), end: date = date(2010, 6, 30), **overrides) -> dict:
    """A valid declared person (real check digit) of the coal enterprise 110101000001."""
    body = {"id_number": demo_id_number("110101", birth, serial * 2 + 1), "name": f"测试{serial}",
            "gender": "male", "birth_date": birth,
            "work_histories": [{"work_type_code": work_type, "start_date": start, "end_date": end}]}
    body.update(overrides)
    return body


@pytest.fixture
def app(runtime):
    from web import create_app

    return create_app(runtime, {"TESTING": True})


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def login(client):
    """login('reviewer') → headers with a bearer token."""
    cache: dict[str, dict] = {}

    def headers(username: str) -> dict:
        if username not in cache:
            response = client.post("/api/auth/token", json={"username": username, "password": PASSWORD})
            assert response.status_code == 200, response.json
            cache[username] = {"Authorization": f"Bearer {response.json['token']}"}
        return cache[username]

    return headers


def account(runtime: Runtime, username: str, *, active: bool = True, locked: bool = False) -> None:
    """An extra reviewer account of region 110105 (password PASSWORD) in the given state, created on
    first use: users are reference data, kept between tests, so each test sets the state it needs."""
    from datetime import timedelta

    from sqlalchemy import select

    from engine.db import utcnow
    from services.platform.identity import LOCK_MINUTES, User

    with runtime.unit_of_work() as uow:
        user = uow.session.scalar(select(User).where(User.username == username))
        if user is None:
            user = create_user(uow.session, username, PASSWORD, "110105", ["reviewer"])
        user.active = active
        user.failed_logins = 0
        user.locked_until = utcnow() + timedelta(minutes=LOCK_MINUTES) if locked else None
        uow.commit()


def cst(day: str, hour: int = 10) -> datetime:
    """``day`` (ISO) at ``hour`` o'clock in China, as the naive UTC the database holds."""
    return datetime.fromisoformat(f"{day}T{hour - 8:02d}:00")


@pytest.fixture
def at(monkeypatch):
    """at('2025-09-26') sets the engine's clock to 10:00 that day in China (for the case clock)."""
    def travel(day: str) -> datetime:
        moment = cst(day)
        monkeypatch.setattr("engine.runtime.utcnow", lambda: moment)
        return moment

    return travel
