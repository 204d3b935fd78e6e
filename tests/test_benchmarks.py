"""The benchmarks under bench/ still run and print their figures, at toy sizes.

Their figures are measured by running them in full (``make bench``, README); here only that each
script works against the current code and ends with its summary line, so that a refactoring cannot
silently break the tools the README's numbers come from. Nothing here asserts a duration.
"""
from __future__ import annotations

import os
import re
import socket
import subprocess
import sys

import pytest
import redis
from sqlalchemy.engine import make_url

from services.bootstrap import ROOT
from tests.conftest import PG_URL, REDIS_URL, WORKER_COUNT, redis_database_url

UNREACHABLE_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:1/postgres"

BENCHMARKS = [  # script, toy-size arguments, needs PostgreSQL, its last line
    ("engine_throughput.py", ["--lifecycles", "20", "--others", "50", "--samples", "3", "--evaluations", "100",
                              "--scripts", "5"], False,
     r"ratio engine-persisted/in-memory on (postgresql|sqlite): \d\.\d{3}"),
    ("declaration_import.py", ["--persons", "200", "--register", "100"], False,
     r"declaration import of 200 persons: [\d.]+ s \(\d+ rows/s\) on (postgresql\S*|sqlite), peak \d+ MB"),
    ("inbox_load.py", ["--tasks", "200", "--done", "50", "--requests", "5"], True,
     r"inbox over 200 open tasks \(PostgreSQL\): page p95 [\d.]+ ms .*, API p95 [\d.]+ ms"),
    ("document_batch.py", ["--cases", "5"], False,
     r"document batch of \d+ notices on (postgresql|sqlite): [\d.]+ s \(\d+ ms each\); "
     r"one notice median \d+ ms, p95 \d+ ms"),
    ("hr_history_import.py", ["--organisations", "200"], False,
     r"hr history import: 200 organisations in [\d.]+ s, peak \d+ MB"),
    ("reminder_scan.py", ["--tasks", "500"], True,
     r"reminder scan over 500 open tasks: \d+ ms .*; 500 reminders sent in [\d.]+ s"),
    ("case_migration.py", ["--cases", "20"], False, r"case migration: 20 cases in [\d.]+ s, 0 inconsistent"),
    ("petition_duplicates.py", ["--rows", "20000", "--lookups", "20"], True,
     r"petition duplicates: 20000 petitions, p95 \d+ ms, max \d+ ms"),
]


def admin_url() -> str:
    """The benchmarks' server: the test database's, or none (they then measure SQLite only)."""
    if not PG_URL:
        return UNREACHABLE_POSTGRES
    return make_url(PG_URL).set(drivername="postgresql+psycopg", database="postgres").render_as_string(
        hide_password=False)


@pytest.mark.parametrize(("script", "arguments", "needs_postgres", "summary"), BENCHMARKS,
                         ids=[entry[0] for entry in BENCHMARKS])
def test_the_benchmark_runs_and_prints_its_summary(script, arguments, needs_postgres, summary):
    if needs_postgres and not PG_URL:
        pytest.skip(f"{script} measures PostgreSQL only; set BANJIAN_TEST_DATABASE_URL to run it")
    finished = subprocess.run(
        [sys.executable, str(ROOT / "bench" / script), *arguments], cwd=ROOT, capture_output=True, text=True,
        timeout=300, env={**os.environ, "BANJIAN_BENCH_PG_ADMIN": admin_url()})
    assert finished.returncode == 0, finished.stderr[-2000:]
    lines = finished.stdout.strip().splitlines()
    assert re.match(summary, lines[-1]), lines[-1]  # the figures, whatever verdict follows them
    if PG_URL and not needs_postgres:
        assert any("postgresql" in line for line in lines), "measured SQLite only although PostgreSQL answers"


# bench/http_load.py serves its layout on the fixed port 8765 and logs to /tmp/banjian-http-load: the
# test runs its main() with a free port and a log folder of its own instead, so that it can run beside
# other tests and other runs of the suite on the machine.
HTTP_LOAD = ("import sys\nfrom pathlib import Path\nsys.path.insert(0, sys.argv.pop(1))\n"
             "import bench.http_load as load\nload.PORT = int(sys.argv.pop(1))\nload.LOGS = Path(sys.argv.pop(1))\n"
             "load.main()\n")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_the_http_load_benchmark_runs_its_layout_and_prints_its_summary(tmp_path):
    """bench/http_load.py at toy size: gunicorn, a Celery worker and beat on Redis, locust's reviewers
    deciding real cases; the summary must count no error (a refused decision is one)."""
    if not PG_URL or not REDIS_URL:
        pytest.skip("bench/http_load.py needs PostgreSQL and Redis (BANJIAN_TEST_DATABASE_URL, BANJIAN_TEST_REDIS_URL)")
    # a Redis database no xdist worker uses: they take BANJIAN_TEST_REDIS_URL's and the ones below it
    broker = redis_database_url(os.environ["BANJIAN_TEST_REDIS_URL"], WORKER_COUNT)
    redis.Redis.from_url(broker).flushdb()
    finished = subprocess.run(
        [sys.executable, "-c", HTTP_LOAD, str(ROOT), str(free_port()), str(tmp_path / "http-load"),
         "--users", "3", "--duration", "45", "--cases", "300",
         "--real-per-user", "10", "--web-workers", "2", "--web-threads", "2", "--think-scale", "0.1",
         "--redis", broker],
        cwd=ROOT, capture_output=True, text=True, timeout=400,
        env={**os.environ, "BANJIAN_BENCH_PG_ADMIN": admin_url()})
    assert finished.returncode == 0, finished.stderr[-2000:]
    lines = finished.stdout.strip().splitlines()
    assert re.fullmatch(r"http load: 3 reviewers, 45 s, p95 \d+ ms, 0 errors", lines[-1]), lines[-1]
    assert any(re.match(r"decide\s+\d+\s+0\s", line) for line in lines), lines  # decisions were made, none refused
