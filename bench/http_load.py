"""HTTP load: 200 reviewers at once against the production layout, on PostgreSQL with 100,000 open cases.

    python bench/http_load.py [--users 200] [--duration 600] [--cases 100000] [--real-per-user 40]
                              [--web-workers 5] [--web-threads 4] [--think-scale 1]

1. Seeds its own database (``bench_http``, recreated each run) with the demo data, 200 counties with
   one reviewer (``lr001``…) and one enterprise each, ``--real-per-user`` real first declarations per
   county submitted through the service (校验 run, waiting at 初审), and cloned cases up to
   ``--cases`` open ones (the clones fill the inboxes and the search; nobody decides them).
2. Starts the layout of README "Production layout" on loopback: gunicorn (``deploy/gunicorn.conf.py``,
   ``--web-workers`` processes × ``--web-threads`` threads), a Celery worker and beat on Redis, all
   with ``BANJIAN_ENV=production`` and JSON logs (to ``/tmp/banjian-http-load/``), and waits for
   ``/readyz``.
3. Runs locust headless (``bench/http_load_reviewers.py``) for ``--duration`` seconds with ``--users``
   reviewers started 2 per second (each sign-in is an
   argon2 verification, about 0.3 s of a core), then reads the metrics endpoint once (it must answer), stops
   the layout and prints p50/p95/p99 per action, the throughput and the errors.

Sign-in limits per address are raised for the run: every simulated reviewer comes from 127.0.0.1.
Last line: ``http load: 200 reviewers, 600 s, p95 N ms, 0 errors`` (all requests together).
"""
from __future__ import annotations

import argparse
import csv
import multiprocessing
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import select, text  # noqa: E402

from bench.common import fresh_postgres, postgres_available, seeded_runtime  # noqa: E402
from engine.actors import Actor  # noqa: E402
from engine.models import HumanTask, ProcessInstance  # noqa: E402
from services.bootstrap import ROOT, Settings, bootstrap  # noqa: E402
from services.platform import identity  # noqa: E402
from services.platform.demo_data import demo_id_number  # noqa: E402
from services.platform.identity import Region, create_user  # noqa: E402
from services.special_work import declarations  # noqa: E402
from services.special_work.models import Enterprise  # noqa: E402

PASSWORD = "bench-password"
PREFIX = "lr"
PROVINCES = ["51", "52", "53", "54", "55"]
LOGS = Path("/tmp/banjian-http-load")
PORT = 8765
BIN = Path(sys.executable).parent


def counties() -> list[str]:
    """200 county codes: 5 provinces × 4 cities × 10 counties."""
    return [f"{p}{c:02d}{d:02d}" for p in PROVINCES for c in range(1, 5) for d in range(1, 11)]


def seed_reference(url: str, users: int) -> None:
    """The demo data, then the counties, and a reviewer and an enterprise for each of ``users`` of them."""
    runtime = seeded_runtime(url)
    hashed = identity.hash_password(PASSWORD)
    identity.hash_password = lambda _password: hashed  # one argon2 hash for 400 accounts, not 400
    with runtime.unit_of_work() as uow:
        session = uow.session
        for p in PROVINCES:
            session.merge(Region(code=f"{p}0000", name=f"负载省{p}", level="province"))
            for c in range(1, 5):
                session.merge(Region(code=f"{p}{c:02d}00", name=f"负载市{p}{c:02d}", level="city"))
        for number, county in enumerate(counties(), start=1):
            session.merge(Region(code=county, name=f"负载县{county}", level="county"))
            if number > users:
                continue
            session.add(Enterprise(code=f"{county}900001", name=f"负载企业{county}", region_code=county,
                                   industry="煤炭", address="厂区 1 号", postal_code=county))
            session.flush()
            create_user(session, f"{PREFIX}{number:03d}", PASSWORD, county, ["reviewer"], f"审核员{number:03d}",
                        enforce_policy=False)
            create_user(session, f"e{county}", PASSWORD, county, ["enterprise"], f"负载企业{county}",
                        f"{county}900001", enforce_policy=False)
        uow.commit()
    runtime.db.dispose()


def submit_real(args: tuple[str, list[str], int]) -> int:
    """``per_county`` first declarations (one person each) for each county, through the service."""
    url, chosen, per_county = args
    runtime = bootstrap(Settings(database_url=url))
    submitted = 0
    for county in chosen:
        actor = Actor(f"e{county}", frozenset({("enterprise", county)}), f"{county}900001")
        for serial in range(per_county):
            birth = date(1965 + serial % 25, 1 + serial % 12, 1 + serial % 28)
            person = declarations.PersonInput(
                demo_id_number(county, birth, 101 + 2 * serial), f"人员{county}{serial:03d}", "male", birth,
                [{"work_type_code": "MT001", "start_date": date(birth.year + 20, 1, 1),
                  "end_date": date(birth.year + 30, 1, 1)}])
            with runtime.unit_of_work() as uow:
                declarations.submit_declaration(uow, runtime.engine, actor, f"{county}900001", "first", [person])
                uow.commit()
            submitted += 1
    runtime.db.dispose()
    return submitted


def add_clones(url: str, total: int) -> int:
    """Open cases cloned from one real case per county, each with its own task id (rewritten in the
    workflow state too) and business key ``BG…``, received in the last 20 days after the real ones."""
    runtime = bootstrap(Settings(database_url=url))
    added = 0
    with runtime.unit_of_work() as uow:
        templates = {row.region_code: row for row in uow.session.scalars(select(HumanTask).where(
            HumanTask.status == "open", HumanTask.lane == "reviewer",
            HumanTask.region_code.in_(counties())).order_by(HumanTask.created_at))}
        instances = {i.id: i for i in uow.session.scalars(select(ProcessInstance).where(
            ProcessInstance.id.in_([t.instance_id for t in templates.values()])))}
    per_county = total // max(len(templates), 1)
    with runtime.db.begin() as connection:
        connection.execute(text("UPDATE human_task SET created_at = created_at - interval '30 days' "
                                "WHERE status = 'open' AND lane = 'reviewer'"))  # the real ones come first
        for county, task_row in templates.items():
            template = instances[task_row.instance_id]
            keys = [f"BG{county}{n:06d}" for n in range(per_county)]
            task_ids = [str(uuid.uuid4()) for _ in keys]
            instance_ids = connection.execute(ProcessInstance.__table__.insert().returning(
                ProcessInstance.id, sort_by_parameter_order=True), [{
                    "definition_id": template.definition_id, "process_key": template.process_key,
                    "process_version": template.process_version, "business_key": key, "region_code": county,
                    "status": "waiting", "started_by": template.started_by, "submitter": template.submitter,
                    "search_text": f"{key} {template.submitter}", "state": template.state.replace(task_row.id, task_id),
                    "lock_version": 1, "started_at": template.started_at, "updated_at": template.updated_at}
                for key, task_id in zip(keys, task_ids, strict=True)]).scalars().all()
            spread = timedelta(days=20) / max(per_county, 1)  # received over the last 20 days
            connection.execute(HumanTask.__table__.insert(), [{
                "id": task_id, "instance_id": instance_id, "process_key": task_row.process_key,
                "process_version": task_row.process_version, "business_key": key, "name": task_row.name,
                "label": task_row.label, "form_key": task_row.form_key, "lane": task_row.lane,
                "region_code": county, "submitter": task_row.submitter, "status": "open",
                "created_at": task_row.created_at - timedelta(days=20) + n * spread, "due_at": task_row.due_at}
                for n, (task_id, instance_id, key) in enumerate(zip(task_ids, instance_ids, keys, strict=True))])
            added += len(keys)
    with runtime.db.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE"))
    runtime.db.dispose()
    return added


def open_cases(url: str) -> int:
    runtime = bootstrap(Settings(database_url=url))
    with runtime.db.connect() as connection:
        found = connection.execute(text("SELECT count(*) FROM process_instance WHERE status IN "
                                        "('waiting', 'running')")).scalar_one()
    runtime.db.dispose()
    return found


def layout_environment(url: str, redis_url: str, workers: int, threads: int) -> dict[str, str]:
    return {**os.environ, "BANJIAN_ENV": "production", "BANJIAN_SECRET_KEY": uuid.uuid4().hex * 2,
            "BANJIAN_DATABASE_URL": url, "BANJIAN_BROKER_URL": redis_url, "BANJIAN_LOG_FORMAT": "json",
            "BANJIAN_BIND": f"127.0.0.1:{PORT}", "BANJIAN_WEB_WORKERS": str(workers),
            "BANJIAN_WEB_THREADS": str(threads), "PROMETHEUS_MULTIPROC_DIR": str(LOGS / "metrics"),
            "BANJIAN_SIGNIN_LIMIT_PER_IP": "100000/minute", "BANJIAN_SIGNIN_LIMIT_PER_ACCOUNT": "1000/minute",
            "BANJIAN_RATELIMIT_STORAGE_URL": redis_url,
            "BANJIAN_SECURE_COOKIES": "0"}  # plain HTTP on loopback, where nginx would end TLS


def start_layout(environment: dict[str, str]) -> list[subprocess.Popen]:
    """gunicorn, a Celery worker and beat, each logging to its own file; waits until /readyz answers."""
    shutil.rmtree(LOGS, ignore_errors=True)
    (LOGS / "metrics").mkdir(parents=True)
    commands = {
        "web": [str(BIN / "gunicorn"), "-c", "deploy/gunicorn.conf.py", "web.wsgi:app"],
        "worker": [str(BIN / "celery"), "-A", "workers", "worker", "-c", "1", "-n", "bench@%h", "-l", "info"],
        "beat": [str(BIN / "celery"), "-A", "workers", "beat", "-l", "info", "-s", str(LOGS / "beat-schedule")],
    }
    started = [subprocess.Popen(command, cwd=ROOT, env=environment, start_new_session=True,
                                stdout=open(LOGS / f"{name}.log", "w"), stderr=subprocess.STDOUT)  # noqa: SIM115
               for name, command in commands.items()]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{PORT}/readyz", timeout=2) as answer:
                if answer.status == 200:
                    return started
        except OSError:
            time.sleep(0.5)
    stop(started)
    raise SystemExit(f"the layout did not become ready in 60 s; see {LOGS}/web.log")


def stop(processes: list[subprocess.Popen]) -> None:
    for process in processes:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


def run_locust(users: int, duration: int, environment: dict[str, str]) -> Path:
    prefix = LOGS / "locust"
    subprocess.run([str(BIN / "locust"), "-f", "bench/http_load_reviewers.py", "--headless", "--only-summary",
                    "-u", str(users), "-r", "2", "-t", f"{duration}s", "--stop-timeout", "30",
                    "-H", f"http://127.0.0.1:{PORT}", "--csv", str(prefix), "--loglevel", "WARNING"],
                   cwd=ROOT, check=False, stdout=open(LOGS / "locust.log", "w"), stderr=subprocess.STDOUT,  # noqa: SIM115
                   env={**environment, "BENCH_REVIEWERS": str(users), "BENCH_PASSWORD": PASSWORD,
                        "BENCH_REVIEWER_PREFIX": PREFIX})
    return prefix.with_name("locust_stats.csv")


def scrape_metrics() -> dict[str, float]:
    """A few figures from /metrics (it must answer, summed over the web processes)."""
    with urllib.request.urlopen(f"http://127.0.0.1:{PORT}/metrics", timeout=10) as answer:
        body = answer.read().decode()
    figures: dict[str, float] = {}
    for line in body.splitlines():
        for name in ("banjian_task_completions_total", "banjian_http_request_duration_seconds_count",
                     "banjian_overdue_tasks", "banjian_open_tasks"):
            if line.startswith(name):
                figures[name] = figures.get(name, 0.0) + float(line.rsplit(" ", 1)[1])
    return figures


def report(stats: Path, users: int, duration: int) -> None:
    with open(stats, newline="") as handle:
        rows = list(csv.DictReader(handle))
    print(f"{'action':28s} {'requests':>8s} {'errors':>6s} {'p50 ms':>7s} {'p95 ms':>7s} {'p99 ms':>7s} {'req/s':>6s}")
    for row in rows:
        print(f"{row['Name']:28s} {row['Request Count']:>8s} {row['Failure Count']:>6s} {row['50%']:>7s} "
              f"{row['95%']:>7s} {row['99%']:>7s} {float(row['Requests/s']):6.1f}")
    total = next(row for row in rows if row["Name"] == "Aggregated")
    print(f"http load: {users} reviewers, {duration} s, p95 {total['95%']} ms, {total['Failure Count']} errors")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--duration", type=int, default=600)
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--real-per-user", type=int, default=40)
    parser.add_argument("--web-workers", type=int, default=5)
    parser.add_argument("--web-threads", type=int, default=4)
    parser.add_argument("--think-scale", type=float, default=1.0, help="reviewers' think times × this")
    parser.add_argument("--redis", default=os.environ.get("BANJIAN_BENCH_REDIS", "redis://127.0.0.1:6379/14"))
    args = parser.parse_args()
    if not postgres_available():
        print("PostgreSQL is not available on 127.0.0.1:5432; nothing measured")
        sys.exit(1)
    url = fresh_postgres("bench_http")
    started = time.perf_counter()
    seed_reference(url, args.users)
    chosen = counties()[:args.users]
    halves = [chosen[0::2], chosen[1::2]]  # two processes: the machine's two cores
    submitting = time.perf_counter()
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        real = sum(pool.map(submit_real, [(url, half, args.real_per_user) for half in halves]))
    print(f"{real:,} declarations submitted (校验 included) in {time.perf_counter() - submitting:.0f} s")
    clones = add_clones(url, max(0, args.cases - real))
    print(f"seeded {open_cases(url):,} open cases ({real:,} real declarations at 初审, {clones:,} cloned) "
          f"for {args.users} reviewers in {time.perf_counter() - started:.0f} s")
    environment = layout_environment(url, args.redis, args.web_workers, args.web_threads)
    processes = start_layout(environment)
    print(f"layout: gunicorn {args.web_workers} processes × {args.web_threads} threads, Celery worker and beat "
          f"on {args.redis}, PostgreSQL; locust {args.users} reviewers for {args.duration} s")
    try:
        stats = run_locust(args.users, args.duration, {**environment, "BENCH_THINK_SCALE": str(args.think_scale)})
        metrics = scrape_metrics()
    finally:
        stop(processes)
    print(f"metrics: {metrics.get('banjian_task_completions_total', 0):.0f} steps completed, "
          f"{metrics.get('banjian_http_request_duration_seconds_count', 0):.0f} requests timed, "
          f"{metrics.get('banjian_open_tasks', 0):.0f} open tasks after the run")
    report(stats, args.users, args.duration)


if __name__ == "__main__":
    main()
