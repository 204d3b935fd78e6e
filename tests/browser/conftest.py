"""Browser tests: Debian's Chromium driven by Playwright against the app served by waitress in a
background thread, on a free localhost port, over a temporary SQLite database.

Never downloads a browser (no ``playwright install``): without /usr/bin/chromium the tests skip.
"""
from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.definitions import files_under
from services import schema
from services.bootstrap import ROOT, Runtime, Settings, bootstrap
from services.platform.demo_data import REGIONS
from services.platform.identity import Region, create_user
from services.special_work.demo import ENTERPRISES, WORK_TYPES
from services.special_work.models import Enterprise, WorkType
from tests.conftest import PASSWORD, USERS

CHROMIUM = Path(os.environ.get("BANJIAN_CHROMIUM", "/usr/bin/chromium"))
OUTPUT = ROOT / "tests" / "output"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run", "--disable-dev-shm-usage"]

try:
    from playwright.sync_api import sync_playwright
except ImportError:  # pragma: no cover - the test extra installs it
    sync_playwright = None


def pytest_collection_modifyitems(items):
    reason = None
    if sync_playwright is None:
        reason = "the playwright package is not installed (pip install -e '.[test]')"
    elif not CHROMIUM.exists():
        reason = f"Chromium not found at {CHROMIUM} (apt-get install chromium; .ci/run does it)"
    if reason:
        for item in items:
            if "tests/browser" in str(item.fspath):
                item.add_marker(pytest.mark.skip(reason=reason))


def _seed(rt: Runtime) -> None:
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


@pytest.fixture(scope="session")
def live(tmp_path_factory) -> Iterator[tuple[str, Runtime]]:
    """(base URL, runtime) of the app served by waitress on 127.0.0.1 and a free port."""
    from waitress.server import create_server

    from web import create_app

    rt = bootstrap(Settings(database_url=f"sqlite:///{tmp_path_factory.mktemp('live') / 'banjian.db'}"))
    schema.upgrade(rt.db)
    _seed(rt)
    server = create_server(create_app(rt), host="127.0.0.1", port=0, threads=4)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.effective_port}", rt

    def stop() -> None:  # runs inside the server's loop, so no select() sees a closed socket
        server.close()
        server.trigger.close()

    server.trigger.pull_trigger(stop)
    thread.join(timeout=10)
    server.task_dispatcher.shutdown()
    rt.db.dispose()


@pytest.fixture(scope="session")
def chromium():
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def open_page(chromium, live):
    """open_page('reviewer') → a signed-in page at 1366×768 (an office screen), Chinese locale."""
    base, _rt = live
    contexts = []

    def make(username: str):
        context = chromium.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN", base_url=base)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.goto("/signin")
        page.fill("#username", username)
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(lambda url: url in (f"{base}/", f"{base}/my/cases"))  # an applicant lands on 我的办件
        return page

    yield make
    for context in contexts:
        context.close()


@pytest.fixture(scope="session")
def output_dir() -> Path:
    OUTPUT.mkdir(parents=True, exist_ok=True)
    return OUTPUT
