"""Shared fixtures. Database tests run on SQLite and, when BANJIAN_TEST_DATABASE_URL is set
(CI sets it when PostgreSQL answers), on PostgreSQL too: the ``runtime`` fixture is
parametrised over the available databases.

``make test`` runs the suite in parallel pytest-xdist workers (``gw0``, ``gw1``, …). Each worker has
databases of its own: SQLite under its own temporary folder, the PostgreSQL database of
BANJIAN_TEST_DATABASE_URL with ``_gw<N>`` appended (created through the ``postgres`` maintenance
database when missing), and the Redis database of BANJIAN_TEST_REDIS_URL minus N (``/15`` → ``/15``,
``/14``, …). ``PG_URL`` and ``REDIS_URL`` below are this process's; tests import them from here.
Servers a test starts listen on free ports (port 0)."""
from __future__ import annotations

import os
import time
from collections.abc import Iterator
from datetime import date, datetime
from urllib.parse import urlsplit, urlunsplit

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

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

WORKER = os.environ.get("PYTEST_XDIST_WORKER")  # "gw0", "gw1", … in an xdist worker; None when serial
WORKER_INDEX = int(WORKER.removeprefix("gw")) if WORKER else 0
WORKER_COUNT = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1")) if WORKER else 1
REDIS_DATABASES = 16  # Redis's default number of databases (0-15)


def worker_database_url(url: str | None, worker: str | None = WORKER) -> str | None:
    """The PostgreSQL URL of this worker: the database name with ``_<worker>`` appended."""
    if not url or not worker:
        return url
    parsed = make_url(url)
    return parsed.set(database=f"{parsed.database}_{worker}").render_as_string(hide_password=False)


def redis_database_url(url: str | None, offset: int = WORKER_INDEX) -> str | None:
    """The Redis URL ``offset`` databases below ``url``'s (``redis://host:6379/15`` → ``…/14`` for 1)."""
    if not url:
        return url
    parts = urlsplit(url)
    number = int(parts.path.strip("/") or 0)
    return urlunsplit(parts._replace(path=f"/{(number - offset) % REDIS_DATABASES}"))


PG_URL = worker_database_url(os.environ.get("BANJIAN_TEST_DATABASE_URL"))
REDIS_URL = redis_database_url(os.environ.get("BANJIAN_TEST_REDIS_URL"))
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


def _ensure_postgres_database(url: str) -> None:
    """Create ``url``'s database through the ``postgres`` maintenance database unless it exists."""
    parsed = make_url(url)
    admin = create_engine(parsed.set(drivername="postgresql+psycopg", database="postgres"),
                          isolation_level="AUTOCOMMIT")
    try:
        for attempt in range(20):
            with admin.connect() as conn:
                if conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": parsed.database}):
                    return
                try:
                    conn.execute(text(f'CREATE DATABASE "{parsed.database}"'))
                    return
                except DBAPIError as error:  # another worker copying template1 at the same moment
                    if attempt == 19 or "being accessed by other users" not in str(error.orig):
                        raise
            time.sleep(0.25)
    finally:
        admin.dispose()


def pytest_sessionstart(session) -> None:
    """Every process that runs tests (not the xdist controller) makes sure its PostgreSQL database exists."""
    distributing = not hasattr(session.config, "workerinput") and session.config.getoption("dist", "no") != "no"
    if PG_URL and not distributing:
        _ensure_postgres_database(PG_URL)


# ---------------------------------------------------------------- parallel runs (pytest-xdist)
# Tests that one xdist worker runs one after another: the browser tests share one live server, its
# database and one Chromium.
XDIST_GROUPS = {"tests/browser/": "browser"}
# Seconds one test of these files (or folders; the first prefix that matches) took in a parallel run on
# the 2-core machine (2026-12-04), so that the heaviest work is handed out first and no long file is left
# for one worker at the end. Rough figures suffice; other tests: DEFAULT_SECONDS.
TEST_SECONDS = {"tests/test_benchmarks.py": 23.0, "tests/web/test_api_fuzz.py": 27.0,
                "tests/web/test_every_route.py": 6.7, "tests/web/test_english_pages.py": 2.6, "tests/web/": 1.2,
                "tests/browser/": 9.7, "tests/integration/": 5.8, "tests/workers/": 0.5, "tests/processes/": 0.3}
DEFAULT_SECONDS = 0.2


@pytest.hookimpl(tryfirst=True)  # before xdist reads the groups (its worker hook has no order of its own)
def pytest_collection_modifyitems(config, items) -> None:
    for item in items:
        for prefix, group in XDIST_GROUPS.items():
            if item.nodeid.startswith(prefix):
                item.add_marker(pytest.mark.xdist_group(group))


def _estimated_seconds(nodeid: str) -> float:
    return next((seconds for prefix, seconds in TEST_SECONDS.items() if nodeid.startswith(prefix)), DEFAULT_SECONDS)


@pytest.hookimpl(optionalhook=True)  # a hook of pytest-xdist, absent with -p no:xdist
def pytest_xdist_make_scheduler(config, log):
    """``--dist loadgroup`` (``make test``) sends the tests of one file, or of one xdist_group, to one
    worker together, the heaviest units first. Together, so that a module-scoped fixture is built
    once and the tests of a file keep the order they have in a serial run; xdist's own loadgroup sends
    ungrouped tests one by one, and orders units by their number of tests rather than their cost."""
    if config.getvalue("dist") != "loadgroup":
        return None
    from collections import OrderedDict

    from xdist.scheduler import LoadScopeScheduling

    class HeaviestFirst(OrderedDict):
        def popitem(self, last: bool = True):
            scope = max(self, key=lambda name: sum(map(_estimated_seconds, self[name])))
            return scope, self.pop(scope)

    class FileOrGroupScheduling(LoadScopeScheduling):
        def __init__(self, config, log=None) -> None:
            super().__init__(config, log)
            self.workqueue = HeaviestFirst()

        def _split_scope(self, nodeid: str) -> str:
            if nodeid.rfind("@") > nodeid.rfind("]"):  # tests/…::test_x@group (xdist adds the group)
                return "@" + nodeid.rsplit("@", 1)[1]
            return nodeid.split("::", 1)[0]

    return FileOrGroupScheduling(config, log)


def _reset_postgres(url: str) -> None:
    from engine.db import make_engine

    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


# The runtimes built in this process, by database; disposed of when the session ends. pytest keeps one
# value of a parametrised session fixture at a time, and tears ``runtime`` down whenever the next test
# wants the other database: with the tests of each file sent to an xdist worker together (SQLite's
# first, then PostgreSQL's), that would happen twice per file. Each worker builds each database once.
_RUNTIMES: dict[str, Runtime] = {}


def pytest_sessionfinish(session) -> None:
    while _RUNTIMES:
        _RUNTIMES.popitem()[1].db.dispose()


@pytest.fixture(scope="session", params=DATABASES)
def runtime(request, tmp_path_factory) -> Runtime:
    if request.param not in _RUNTIMES:
        _RUNTIMES[request.param] = _built_runtime(request.param, tmp_path_factory)
    return _RUNTIMES[request.param]


def _built_runtime(kind: str, tmp_path_factory) -> Runtime:
    if kind == "postgresql":
        assert PG_URL
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
    return rt


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
