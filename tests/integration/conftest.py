"""Real Redis and real Celery processes (``celery -A workers worker`` / ``beat``) against the test
database of the ``runtime`` fixture. Skipped when BANJIAN_TEST_REDIS_URL is unset or Redis does not
answer (.ci/run sets it when Redis runs on 127.0.0.1:6379). Each xdist worker has its own Redis
database (tests/conftest.py), which the clusters flush and use as their broker."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import pytest

from services.bootstrap import ROOT, Runtime, Settings, bootstrap
from services.platform.demo_data import demo_id_number
from tests.conftest import REDIS_URL  # this xdist worker's own Redis database (BANJIAN_TEST_REDIS_URL's, serially)

INLINE_LIMIT = 10
CELERY = str(Path(sys.executable).with_name("celery"))


def redis_problem() -> str | None:
    if not REDIS_URL:
        return "BANJIAN_TEST_REDIS_URL is not set (.ci/run sets it when Redis answers on 127.0.0.1:6379)"
    try:
        import redis

        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except Exception as error:  # noqa: BLE001 - any failure means "no Redis here"
        return f"Redis at {REDIS_URL} does not answer: {error}"
    return None


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Attach the Celery processes' logs to a failing integration test's report."""
    outcome = yield
    report = outcome.get_result()
    cluster = item.funcargs.get("cluster") if hasattr(item, "funcargs") else None
    if report.when == "call" and report.failed and cluster is not None:
        report.sections.append(("celery logs", cluster.log_text()))


@dataclass
class Cluster:
    """Celery workers and beats sharing one Redis and one database with the test."""

    env: dict[str, str]
    logs: Path
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)
    app: str = "workers"  # the module given to ``celery -A``

    def start(self, name: str, *args: str) -> None:
        log = (self.logs / f"{name}.log").open("ab")
        self.processes[name] = subprocess.Popen([CELERY, "-A", self.app, *args], cwd=ROOT, env=self.env,
                                                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

    def worker(self, name: str, concurrency: int = 1) -> None:
        self.start(name, "worker", "-n", f"{name}@%h", "-c", str(concurrency), "-l", "info",
                   "--without-gossip", "--without-mingle", "--without-heartbeat")

    def beat(self, name: str) -> None:
        self.start(name, "beat", "-l", "info", "-s", str(self.logs / f"{name}-schedule"), "--pidfile=")

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + 15
        for process in self.processes.values():
            try:
                process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(5)
        self.processes.clear()

    def log_text(self) -> str:
        logs = sorted(self.logs.glob("*.log"))
        return "\n".join(f"--- {log.name}\n{log.read_text(errors='replace')[-3000:]}" for log in logs)


@pytest.fixture(scope="module")
def cluster(runtime, tmp_path_factory) -> Iterator[Cluster]:
    """Two workers and two beats (timers and reminders scanned every second by each beat)."""
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()
    env = {**os.environ, "BANJIAN_DATABASE_URL": runtime.settings.database_url, "BANJIAN_BROKER_URL": REDIS_URL,
           "BANJIAN_TIMER_SCAN_SECONDS": "1", "BANJIAN_REMINDER_SCAN_SECONDS": "1",
           "BANJIAN_INLINE_VALIDATION_LIMIT": str(INLINE_LIMIT), "BANJIAN_JOB_LEASE_SECONDS": "30",
           "PYTHONPATH": str(ROOT)}
    env.pop("BANJIAN_SMTP_HOST", None)
    group = Cluster(env, tmp_path_factory.mktemp("celery"))
    try:
        for name in ("worker1", "worker2"):
            group.worker(name)
        for name in ("beat1", "beat2"):
            group.beat(name)
        yield group
    finally:
        group.stop()


@pytest.fixture(scope="module")
def client_runtime(runtime, cluster) -> Iterator[Runtime]:
    """The test's own runtime, enqueueing through Celery like the web process in production."""
    previous = os.environ.get("BANJIAN_BROKER_URL")
    os.environ["BANJIAN_BROKER_URL"] = REDIS_URL  # read by workers.app when the dispatcher loads it
    rt = bootstrap(Settings(database_url=runtime.settings.database_url, broker_url=REDIS_URL,
                            inline_validation_limit=INLINE_LIMIT))
    yield rt
    rt.db.dispose()
    if previous is None:
        os.environ.pop("BANJIAN_BROKER_URL", None)
    else:
        os.environ["BANJIAN_BROKER_URL"] = previous


def big_batch(count: int, bad_every: int = 10) -> list[dict]:
    """``count`` distinct persons of the coal enterprise; every ``bad_every``-th has a wrong check digit."""
    persons = []
    for n in range(count):
        birth = date(1970, 1, 1) + timedelta(days=n // 400)
        number = demo_id_number("110101", birth, (n % 400) * 2 + 1)
        if n % bad_every == bad_every - 1:
            number = number[:17] + ("0" if number[17] != "0" else "1")
        persons.append({"id_number": number, "name": f"人员{n}", "gender": "male", "birth_date": birth,
                        "work_histories": [{"work_type_code": "MT001", "start_date": date(2005, 1, 1),
                                            "end_date": date(2010, 12, 31)}]})
    return persons
