"""Inbox under load: 100,000 open tasks over 50 regions and 10 roles in PostgreSQL, then the latency
of the inbox page (/inbox, also searched by part of a name or business key) and of the JSON list
(/api/tasks) for a province-level reviewer.

    python bench/inbox_load.py [--tasks 100000] [--requests 200]

Seeds its own database (``bench_inbox``, recreated each run; the tests' databases are untouched)
with COPY, runs ANALYZE, then times requests through the Flask test client (the whole request:
session or token check, queries, template rendering). Targets: p95 < 100 ms for the page and
< 30 ms for the API. Last line: the headline.
"""
from __future__ import annotations

import argparse
import io
import random
import statistics
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import select, text  # noqa: E402

from bench.common import fresh_postgres, postgres_available  # noqa: E402
from engine.db import utcnow  # noqa: E402
from engine.definitions import files_under  # noqa: E402
from engine.models import ProcessDefinition  # noqa: E402
from services import schema  # noqa: E402
from services.bootstrap import Settings, bootstrap  # noqa: E402
from services.platform.identity import Region, create_user  # noqa: E402

PROVINCES = ["11", "12", "13", "14", "15"]
ROLES = ["reviewer", "rechecker", "acceptor", "approver", "spot_checker", "supervisor", "clerk", "leader",
         "catalogue_admin", "designer"]
PROCESSES = ["first_declaration_review", "annual_declaration_review"]
PASSWORD = "bench-password"
TASK_COLUMNS = ("id", "instance_id", "process_key", "process_version", "business_key", "name", "label", "form_key",
                "lane", "region_code", "submitter", "assignee", "status", "created_at", "due_at", "completed_at",
                "completed_by", "decision")
INSTANCE_COLUMNS = ("id", "definition_id", "process_key", "process_version", "business_key", "region_code",
                    "status", "started_by", "submitter", "search_text", "state", "lock_version", "started_at",
                    "updated_at")


def counties() -> list[str]:
    """50 county codes: 5 provinces × 2 cities × 5 counties."""
    return [f"{p}{c:02d}{d:02d}" for p in PROVINCES for c in (1, 2) for d in range(1, 6)]


def seed_reference(rt) -> dict[str, int]:
    with rt.unit_of_work() as uow:
        session = uow.session
        for p in PROVINCES:
            session.add(Region(code=f"{p}0000", name=f"省{p}", level="province"))
            for c in (1, 2):
                session.add(Region(code=f"{p}{c:02d}00", name=f"市{p}{c:02d}", level="city"))
        session.add_all(Region(code=code, name=f"县{code}", level="county") for code in counties())
        session.flush()
        create_user(session, "bench_reviewer", PASSWORD, "110000", ["reviewer"])
        for index, role in enumerate(ROLES):  # colleagues who hold the tasks that someone claimed
            create_user(session, f"user{index}", PASSWORD, f"{PROVINCES[index % 5]}0000", [role])
        rt.deployer.deploy(session, files_under([rt.settings.processes_dir]), "bench")
        uow.commit()
        return {d.key: d.id for d in session.scalars(select(ProcessDefinition))}


def _copy(raw, table: str, columns: tuple[str, ...], rows) -> None:
    buffer = io.StringIO()
    for row in rows:
        buffer.write("\t".join("\\N" if v is None else str(v) for v in row) + "\n")
    buffer.seek(0)
    with raw.cursor() as cursor, cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        while chunk := buffer.read(1 << 20):
            copy.write(chunk)


def seed_tasks(rt, definitions: dict[str, int], total: int, done: int) -> None:
    """``total`` open tasks (one case each) and ``done`` completed ones, spread over 60 days."""
    rng = random.Random(4)
    now = utcnow().replace(microsecond=0)
    regions = counties()
    instances, tasks = [], []
    for n in range(1, total + done + 1):
        key = PROCESSES[n % 2]
        region = rng.choice(regions)
        lane = rng.choice(ROLES)
        created = now - timedelta(minutes=rng.randrange(60 * 24 * 60))
        business_key = f"{'SC' if n % 2 else 'ND'}{region}{n:08d}"
        open_task = n <= total
        assignee = f"user{ROLES.index(lane)}" if open_task and rng.random() < 0.05 else None
        instances.append((n, definitions[key], key, 1, business_key, region, "waiting" if open_task else "completed",
                          "bench", f"企业{n % 997}", f"{business_key} 企业{n % 997}", "{}", 1, created, created))
        tasks.append((str(uuid.UUID(int=rng.getrandbits(128))), n, key, 1, business_key,
                      "review" if lane == "reviewer" else "recheck", f"环节{ROLES.index(lane)}", "declaration_review",
                      lane, region, f"企业{n % 997}", assignee, "open" if open_task else "completed", created,
                      created + timedelta(days=28), None if open_task else created + timedelta(days=1),
                      None if open_task else "bench_reviewer", None if open_task else "approve"))
    raw = rt.db.raw_connection()
    try:
        _copy(raw.driver_connection, "process_instance", INSTANCE_COLUMNS, instances)
        _copy(raw.driver_connection, "human_task", TASK_COLUMNS, tasks)
        raw.driver_connection.execute("SELECT setval('process_instance_id_seq', %s)", (total + done,))
        raw.commit()
    finally:
        raw.close()
    with rt.db.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))  # what autovacuum does after a bulk load: index-only scans


def measure(call, requests: int) -> tuple[float, float]:
    for _ in range(10):  # warm caches, connection pool, template compilation
        call()
    times = []
    for _ in range(requests):
        start = time.perf_counter()
        response = call()
        times.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, response.status_code
    cuts = statistics.quantiles(times, n=100)
    return statistics.median(times), cuts[94]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tasks", type=int, default=100_000)
    parser.add_argument("--done", type=int, default=20_000)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    if not postgres_available():
        print("PostgreSQL is not available on 127.0.0.1:5432; nothing measured")
        sys.exit(1)
    from web import create_app

    rt = bootstrap(Settings(database_url=fresh_postgres("bench_inbox")))
    schema.upgrade(rt.db)
    started = time.perf_counter()
    seed_tasks(rt, seed_reference(rt), args.tasks, args.done)
    print(f"seeded {args.tasks:,} open and {args.done:,} done tasks over {len(counties())} regions and "
          f"{len(ROLES)} roles in {time.perf_counter() - started:.1f} s")

    app = create_app(rt, {"WTF_CSRF_ENABLED": False})
    page_client, api_client = app.test_client(), app.test_client()
    assert page_client.post("/signin", data={"username": "bench_reviewer", "password": PASSWORD}).status_code == 302
    token = api_client.post("/api/auth/token", json={"username": "bench_reviewer", "password": PASSWORD}).json["token"]
    bearer = {"Authorization": f"Bearer {token}"}
    visible = api_client.get("/api/tasks?per_page=1", headers=bearer).json["total"]
    print(f"bench_reviewer (reviewer of 110000) sees {visible:,} open tasks")

    results = {
        "page /inbox": measure(lambda: page_client.get("/inbox"), args.requests),
        "page /inbox?sort=due_at&order=desc&page=5": measure(
            lambda: page_client.get("/inbox?sort=due_at&order=desc&page=5"), args.requests),
        "page /inbox?scope=done": measure(lambda: page_client.get("/inbox?scope=done"), args.requests),
        "page / (counts per step)": measure(lambda: page_client.get("/"), args.requests),
        # the search by part of a case's search text (a name, part of a business key): trigram index
        "page /inbox?q=企业123 (partial name)": measure(lambda: page_client.get("/inbox?q=企业123"), args.requests),
        "page /inbox?q=00004711 (partial key)": measure(lambda: page_client.get("/inbox?q=00004711"), args.requests),
        "api /api/tasks": measure(lambda: api_client.get("/api/tasks", headers=bearer), args.requests),
        "api /api/tasks?scope=done": measure(lambda: api_client.get("/api/tasks?scope=done", headers=bearer),
                                             args.requests),
    }
    for name, (p50, p95) in results.items():
        print(f"{name:45s} p50 {p50:6.1f} ms   p95 {p95:6.1f} ms")
    page_p95, api_p95 = results["page /inbox"][1], results["api /api/tasks"][1]
    verdict = "met" if page_p95 < 100 and api_p95 < 30 else "NOT met"
    print(f"inbox over {args.tasks:,} open tasks (PostgreSQL): page p95 {page_p95:.1f} ms (target 100), "
          f"API p95 {api_p95:.1f} ms (target 30) — targets {verdict}")
    rt.db.dispose()


if __name__ == "__main__":
    main()
