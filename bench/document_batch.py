"""Printed documents: the time to render and store one notice, and a batch job of many.

On PostgreSQL when the local server answers (the database ``banjian_bench_documents``, dropped and
re-created), else on a fresh SQLite database, starts ``--cases`` work-history certificate requests and
takes them through 受理 (whose step issues the 受理通知书: the 受理 action is timed) and 出具, then runs the
批量出具 job of their 准予许可决定书 — numbered, rendered with WeasyPrint and stored, one transaction per
case, with the job's progress — and times it, and one notice rendered alone.

    python bench/document_batch.py [--cases 1000] [--sqlite]

Last line: the batch's total and per-notice time, and one notice's median and p95.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, select  # noqa: E402

from bench.common import fresh_postgres, fresh_sqlite, postgres_available, seeded_runtime  # noqa: E402
from engine.actors import Actor  # noqa: E402
from engine.db import utcnow  # noqa: E402
from engine.models import ProcessInstance  # noqa: E402
from services.platform import documents, my_cases  # noqa: E402
from services.platform.demo_data import demo_id_number  # noqa: E402

APPLICANT = Actor("enterprise", frozenset({("enterprise", "110101")}), "110101000001")
CLERK = Actor("clerk", frozenset({("clerk", "110000")}))
APPROVER = Actor("approver", frozenset({("approver", "110000")}))


def closed_cases(runtime, count: int) -> list[float]:
    """Start and close ``count`` requests; the seconds of each 受理 action, which includes its step
    issuing the 受理通知书 (numbered, rendered, stored in the same transaction)."""
    from datetime import date

    timings = []
    for n in range(count):
        with runtime.unit_of_work() as uow:
            instance = my_cases.start_case(uow, runtime.engine, APPLICANT, "110101", "work_history_certificate", {
                "name": f"批量{n}", "id_number": demo_id_number("110101", date(1970, 1, 1), n % 1000),
                "purpose": "办理提前退休"}, utcnow())
            [task] = runtime.engine.open_tasks(uow.session, instance.id)
            began = time.perf_counter()
            runtime.engine.complete_task(uow, task.id, CLERK, {"decision": "approve"})  # prints 受理通知书
            timings.append(time.perf_counter() - began)
            [task] = runtime.engine.open_tasks(uow.session, instance.id)
            runtime.engine.complete_task(uow, task.id, APPROVER, {"decision": "approve"})
            uow.commit()
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1000)
    parser.add_argument("--sqlite", action="store_true", help="measure SQLite even when PostgreSQL answers")
    args = parser.parse_args()
    if documents.missing_fonts():
        sys.exit(f"the document fonts are missing: {documents.FONT_PACKAGES} (make install)")
    on_postgres = not args.sqlite and postgres_available()
    url = fresh_postgres("banjian_bench_documents") if on_postgres else fresh_sqlite("documents")
    runtime = seeded_runtime(url)
    database = "postgresql" if on_postgres else "sqlite"

    steps = closed_cases(runtime, args.cases)
    print(f"受理 with its notice: median {statistics.median(steps) * 1000:.0f} ms over {len(steps)} cases")

    with runtime.unit_of_work() as uow:
        job = documents.submit_batch(uow.session, runtime.jobs, uow.after_commit, runtime.documents, APPROVER,
                                     "work_history_certificate", "approval_decision", "110000")
        uow.commit()
        job_id = job.id
    began = time.perf_counter()
    runtime.jobs.run_pending(kinds=[documents.BATCH])
    batch = time.perf_counter() - began
    with runtime.unit_of_work() as uow:
        issued = uow.session.scalar(select(func.count()).select_from(documents.CaseDocument)
                                    .where(documents.CaseDocument.kind == "approval_decision"))
        size = uow.session.scalar(select(func.avg(documents.CaseDocument.size)))
        one = uow.session.scalars(select(ProcessInstance).where(ProcessInstance.process_key
                                                                == "work_history_certificate")).first()
        singles = []
        for _ in range(20):  # one notice rendered alone: what a clerk's 出具 waits for (not stored)
            began = time.perf_counter()
            html = runtime.documents.render_html(
                uow.session, one, documents.KINDS["approval_decision"], "110101人社许字〔2026〕第9999号",
                "ABCDEFGHJKMN", utcnow(), runtime.engine.instance_data(uow.session, one), {})
            documents.render_pdf(html)
            singles.append(time.perf_counter() - began)
    singles.sort()
    print(f"job {job_id}: {issued} 准予许可决定书 issued, average PDF {size / 1024:.0f} KB")
    print(f"document batch of {issued} notices on {database}: {batch:.1f} s ({batch / max(issued, 1) * 1000:.0f} ms "
          f"each); one notice median {statistics.median(singles) * 1000:.0f} ms, "
          f"p95 {singles[int(len(singles) * 0.95) - 1] * 1000:.0f} ms")


if __name__ == "__main__":
    main()
