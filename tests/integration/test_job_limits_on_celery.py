"""Job time limits and the import cap on real Celery workers (Redis, ``celery worker`` processes):
a stuck import is failed at its time limit by Celery's soft limit, and stuck imports never take
every worker slot from the other kinds of job."""
from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
import redis

from services.bootstrap import ROOT, Runtime, Settings, bootstrap
from services.platform.jobs import Job, time_limit_message
from services.special_work import declaration_import, declarations
from services.special_work.models import DeclarationBatch
from tests.conftest import actor
from tests.import_files import good_row, repacked, workbook
from tests.integration.conftest import INLINE_LIMIT, REDIS_URL, Cluster, big_batch, redis_problem
from tests.workers.helpers import open_tasks, wait_until

PROBLEM = redis_problem()
pytestmark = [pytest.mark.redis, pytest.mark.skipif(PROBLEM is not None, reason=PROBLEM or "")]
IMPORT_LIMIT = 2  # seconds: Celery's soft limit then stops a stuck import one grace (1 s) later


@pytest.fixture(scope="module")
def stuck_cluster(runtime, tmp_path_factory) -> Iterator[Cluster]:
    """One worker process with two slots (-c 2), whose imports of a stuck.txt workbook hang."""
    redis.Redis.from_url(REDIS_URL).flushdb()
    env = {**os.environ, "BANJIAN_DATABASE_URL": runtime.settings.database_url, "BANJIAN_BROKER_URL": REDIS_URL,
           "BANJIAN_INLINE_VALIDATION_LIMIT": str(INLINE_LIMIT), "BANJIAN_JOB_LEASE_SECONDS": "30",
           "BANJIAN_JOB_TIME_LIMITS": f"declaration.import={IMPORT_LIMIT}", "PYTHONPATH": str(ROOT)}
    env.pop("BANJIAN_SMTP_HOST", None)
    group = Cluster(env, tmp_path_factory.mktemp("celery-limits"), app="tests.integration.stuck_app")
    try:
        group.worker("limits", concurrency=2)
        yield group
    finally:
        group.stop()


@pytest.fixture(scope="module")
def sender(runtime, stuck_cluster) -> Iterator[Runtime]:
    """The web process's runtime: enqueues through Celery, with the same time limits as the workers."""
    previous = os.environ.get("BANJIAN_BROKER_URL")
    os.environ["BANJIAN_BROKER_URL"] = REDIS_URL
    rt = bootstrap(Settings(database_url=runtime.settings.database_url, broker_url=REDIS_URL,
                            inline_validation_limit=INLINE_LIMIT,
                            job_time_limits={"declaration.import": IMPORT_LIMIT}))
    yield rt
    rt.db.dispose()
    if previous is None:
        os.environ.pop("BANJIAN_BROKER_URL", None)
    else:
        os.environ["BANJIAN_BROKER_URL"] = previous


def queue_stuck_import(rt: Runtime, serial: int) -> int:
    content = repacked(workbook(good_row(serial)), extra={"stuck.txt": b"1"})
    with rt.unit_of_work() as uow:
        job = declaration_import.queue_import(uow, rt.jobs, actor("enterprise"), "110101000001", "first",
                                              "申报.xlsx", content)
        uow.commit()
        return job.id


def job(rt: Runtime, job_id: int) -> Job:
    with rt.unit_of_work() as uow:
        return uow.session.get(Job, job_id)


def test_a_stuck_import_is_failed_at_its_time_limit_by_the_worker(sender, stuck_cluster):
    job_id = queue_stuck_import(sender, 470)
    wait_until(lambda: job(sender, job_id).status == "failed", timeout=60, seen=lambda: job(sender, job_id).status)
    failed = job(sender, job_id)
    assert failed.error == time_limit_message(IMPORT_LIMIT), stuck_cluster.log_text()
    with sender.unit_of_work() as uow:
        assert uow.session.query(DeclarationBatch).count() == 0


def test_stuck_imports_leave_a_worker_slot_to_the_other_kinds_of_job(sender, stuck_cluster):
    imports = [queue_stuck_import(sender, serial) for serial in (471, 472)]
    wait_until(lambda: job(sender, imports[0]).status == "running", timeout=60)
    with sender.unit_of_work() as uow:  # a batch above the inline limit: its 校验 is a job
        batch = declarations.submit_declaration(uow, sender.engine, actor("enterprise"), "110101000001", "first",
                                                [declarations.PersonInput(**p) for p in big_batch(INLINE_LIMIT + 5)])
        uow.commit()
        instance_id = batch.instance_id
    running_imports: list[int] = []

    def validated() -> bool:
        with sender.unit_of_work() as uow:
            running_imports.append(uow.session.query(Job).filter(Job.kind == declaration_import.KIND,
                                                                 Job.status == "running").count())
        return open_tasks(sender, instance_id) == ["review"]

    wait_until(validated, timeout=60, interval=0.05, seen=stuck_cluster.log_text)
    assert max(running_imports) == 1  # the second import waited for the first, never took the other slot
