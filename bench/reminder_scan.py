"""Reminder scan over 1,000,000 open tasks and 1,000,000 open cases with running clocks in PostgreSQL.

Creates (drops and re-creates) the database ``banjian_bench_reminders`` on the local server — never
the ``test`` database — and bulk-loads open tasks with COPY: most due weeks ahead, 10,000 due within
the reminder window (2 working days) and 10,000 overdue. Then times

* the scan that finds the owed reminders (the indexed query the beat runs: open tasks by due date,
  anti-joined with the reminders already sent), and
* the case-clock scan (the same over ``process_instance``: running clocks by due date, anti-joined
  with ``case_reminder``; 10,000 cases in the warning window, 10,000 overdue), and
* sending 10,000 overdue reminders: claiming them under the (task_id, kind) unique constraint and
  writing the in-app notifications (group reminder + 督办 to the region's supervisors), in committed
  batches of 1,000 as the beat does. E-mail goes out afterwards from a job and is not timed here.

    python bench/reminder_scan.py [--tasks 1000000] [--cases 1000000]

Last line: the scan time and the time to send 10,000 reminders.
"""
from __future__ import annotations

import argparse
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, select, text  # noqa: E402

from bench.common import fresh_postgres, postgres_available, seeded_runtime  # noqa: E402
from engine.db import utcnow  # noqa: E402
from engine.models import ProcessDefinition, ProcessInstance  # noqa: E402
from services.platform import reminders
from services.platform.notifications import Notification  # noqa: E402

OWED_PER_KIND = 10_000
TASK_COLUMNS = ("id", "instance_id", "process_key", "process_version", "business_key", "name", "label", "form_key",
                "lane", "region_code", "submitter", "status", "created_at", "due_at")


def due_of(n: int, now):
    """The n-th loaded row's due date: the first OWED_PER_KIND overdue, the next within the reminder
    window, the rest weeks ahead."""
    if n < OWED_PER_KIND:
        return now - timedelta(hours=1 + n % 200)
    if n < 2 * OWED_PER_KIND:
        return now + timedelta(minutes=30 + n % 600)
    return now + timedelta(days=30 + n % 60)


def load(runtime, tasks: int, cases: int, now) -> None:
    with runtime.unit_of_work() as uow:
        definition = uow.session.scalars(select(ProcessDefinition).where(
            ProcessDefinition.key == "first_declaration_review")).one()
        base = uow.session.scalar(select(func.max(ProcessInstance.id))) or 0  # after the demo cases
    connection = runtime.db.raw_connection()
    try:
        cursor = connection.cursor()
        columns = "(id, definition_id, process_key, process_version, business_key, region_code, status, started_by," \
                  " submitter, search_text, state, lock_version, started_at, updated_at, clock_state, clock_due_at)"
        with cursor.copy(f"COPY process_instance {columns} FROM STDIN") as copy:
            for n in range(base + 1, base + cases + 1):
                copy.write_row((n, definition.id, definition.key, definition.version, f"BENCH{n:08d}", "110101",
                                "waiting", "enterprise", "北京东城示范煤矿有限公司", "", "{}", 1, now, now,
                                "running", due_of(n - base - 1, now)))
        with cursor.copy(f"COPY human_task ({', '.join(TASK_COLUMNS)}) FROM STDIN") as copy:
            for n in range(tasks):
                due = due_of(n, now)
                instance = base + n % cases + 1
                copy.write_row((str(uuid.uuid4()), instance, definition.key, definition.version,
                                f"BENCH{instance:08d}", "review", "初审", "declaration_review", "reviewer", "110101",
                                "北京东城示范煤矿有限公司", "open", now - timedelta(days=10), due))
        cursor.execute("SELECT setval('process_instance_id_seq', %s)", (base + cases,))
        connection.commit()
        cursor.execute("ANALYZE human_task")
        cursor.execute("ANALYZE reminder")
        cursor.execute("ANALYZE process_instance")
        cursor.execute("ANALYZE case_reminder")
        connection.commit()
    finally:
        connection.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=1_000_000)
    parser.add_argument("--cases", type=int, default=None, help="open cases (default: as many as tasks)")
    args = parser.parse_args()
    cases = args.cases or args.tasks
    if not postgres_available():
        sys.exit("PostgreSQL is not available on 127.0.0.1:5432")
    runtime = seeded_runtime(fresh_postgres("banjian_bench_reminders"))
    with runtime.unit_of_work() as uow:  # the demo's own tasks and clocks are not part of the measurement
        uow.session.execute(text("UPDATE human_task SET due_at = NULL WHERE status = 'open'"))
        uow.session.execute(text("UPDATE process_instance SET clock_due_at = NULL"))
        uow.commit()
    now = utcnow()
    started = time.perf_counter()
    load(runtime, args.tasks, cases, now)
    print(f"loaded {args.tasks:,} open tasks and {cases:,} open cases with COPY "
          f"in {time.perf_counter() - started:.1f} s")

    with runtime.unit_of_work() as uow:
        uow.session.execute(text("SELECT 1"))
        timings = []
        for _ in range(5):  # warm and repeat; report the median
            started = time.perf_counter()
            owed = reminders.find_due(uow.session, now, 2, limit=10 * OWED_PER_KIND)
            timings.append(time.perf_counter() - started)
        scan = sorted(timings)[len(timings) // 2]
        first_batch_started = time.perf_counter()
        reminders.find_due(uow.session, now, 2)
        first_batch = time.perf_counter() - first_batch_started
    print(f"scan: {len(owed[reminders.DUE_SOON]):,} due soon + {len(owed[reminders.OVERDUE]):,} overdue found "
          f"in {scan * 1000:.0f} ms (all owed ids; the beat's first batch of 1,000 per kind: "
          f"{first_batch * 1000:.0f} ms)")

    with runtime.unit_of_work() as uow:
        timings = []
        for _ in range(5):
            started = time.perf_counter()
            clocks = reminders.find_clock_due(uow.session, now, limit=10 * OWED_PER_KIND)
            timings.append(time.perf_counter() - started)
        clock_scan = sorted(timings)[len(timings) // 2]
    print(f"case-clock scan over {cases:,} open cases: {len(clocks[reminders.CLOCK_WARNING]):,} in the warning "
          f"window + {len(clocks[reminders.CLOCK_OVERDUE]):,} overdue found in {clock_scan * 1000:.0f} ms "
          f"(target < 1000 ms)")

    overdue = owed[reminders.OVERDUE][:OWED_PER_KIND]
    started = time.perf_counter()
    for start in range(0, len(overdue), reminders.BATCH):
        with runtime.unit_of_work() as uow:
            reminders.send(uow, runtime.notifier, reminders.OVERDUE, overdue[start:start + reminders.BATCH], now)
            uow.commit()
    send = time.perf_counter() - started
    with runtime.unit_of_work() as uow:
        notes = uow.session.scalar(select(func.count()).select_from(Notification))
        # autovacuum analyzes the grown reminder table within a minute; until then PostgreSQL may plan
        # the anti-join from "reminder is empty" statistics (see README)
        uow.session.execute(text("ANALYZE reminder"))
        uow.commit()
    with runtime.unit_of_work() as uow:
        started = time.perf_counter()
        rescan = reminders.find_due(uow.session, now, 2, limit=10 * OWED_PER_KIND)
        rescan_time = time.perf_counter() - started
    print(f"sent {len(overdue):,} overdue reminders ({notes:,} in-app notifications: group + 督办) "
          f"in {send:.2f} s; the next scan skips them all ({len(rescan[reminders.OVERDUE]):,} overdue left, "
          f"{len(rescan[reminders.DUE_SOON]):,} due soon) in {rescan_time * 1000:.0f} ms")
    runtime.db.dispose()
    print(f"reminder scan over {args.tasks:,} open tasks: {scan * 1000:.0f} ms (target < 1000 ms); "
          f"{len(overdue):,} reminders sent in {send:.2f} s")


if __name__ == "__main__":
    main()
