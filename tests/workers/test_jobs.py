"""Job progress and cancelling, through the service and the JSON API (embedded mode)."""
from __future__ import annotations

import threading
from types import SimpleNamespace

import pytest

from services.platform.jobs import Job, JobContext
from tests.workers.conftest import persons_with_one_error, submit_batch

STEPS = "test.steps"
gate = threading.Semaphore(0)
reached = threading.Semaphore(0)


def stepwise(ctx: JobContext) -> dict:
    """Three rows, one at a time; waits for the test between rows."""
    for done in range(1, 4):
        ctx.progress(done, 3)
        reached.release()
        assert gate.acquire(timeout=20)
    return ctx.finish(lambda _uow: {"rows": 3})


@pytest.fixture
def steps(background):
    if STEPS not in background.jobs.kinds:
        background.jobs.register(STEPS, stepwise)

    def submit(created_by: str = "reviewer", region: str = "110000") -> int:
        with background.unit_of_work() as uow:
            job = background.jobs.submit(uow.session, uow.after_commit, STEPS, {}, created_by=created_by,
                                         region_code=region, total=3)
            uow.commit()
            return job.id

    return submit


@pytest.fixture
def api(background, login):
    from web import create_app

    client = create_app(background, {"TESTING": True}).test_client()

    def call(method: str, path: str, user: str):
        response = getattr(client, method)(path, headers=login(user))
        return response.status_code, response.get_json()

    return call


def run_in_thread(background, job_id: int) -> tuple[threading.Thread, list[str]]:
    outcome: list[str] = []
    thread = threading.Thread(target=lambda: outcome.append(background.jobs.execute(job_id)))
    thread.start()
    return thread, outcome


def test_progress_is_visible_while_the_job_runs_and_the_result_when_done(background, steps, api):
    job_id = steps()
    thread, outcome = run_in_thread(background, job_id)
    assert reached.acquire(timeout=20)
    status, body = api("get", f"/api/jobs/{job_id}", "reviewer")
    assert status == 200
    assert (body["status"], body["done"], body["total"], body["percent"]) == ("running", 1, 3, 33)
    gate.release()
    assert reached.acquire(timeout=20)
    assert api("get", f"/api/jobs/{job_id}", "reviewer")[1]["done"] == 2
    gate.release()
    assert reached.acquire(timeout=20)
    gate.release()
    thread.join(20)

    status, body = api("get", f"/api/jobs/{job_id}", "reviewer")
    assert outcome == ["done"]
    assert (body["status"], body["done"], body["percent"], body["result"]) == ("done", 3, 100, {"rows": 3})


def test_cancel_stops_a_running_job_at_its_next_step(background, steps, api):
    job_id = steps()
    thread, outcome = run_in_thread(background, job_id)
    assert reached.acquire(timeout=20)
    status, body = api("post", f"/api/jobs/{job_id}/cancel", "reviewer")
    assert status == 200 and body["cancel_requested"] is True
    gate.release()
    thread.join(20)
    assert outcome == ["cancelled"]
    status, body = api("get", f"/api/jobs/{job_id}", "reviewer")
    assert (body["status"], body["result"]) == ("cancelled", None)
    assert api("post", f"/api/jobs/{job_id}/cancel", "reviewer")[0] == 200  # cancelling twice is harmless


def test_jobs_are_visible_only_to_their_creator_and_staff_of_their_region(background, steps, api):
    job_id = steps(created_by="enterprise", region="110101")
    assert api("get", f"/api/jobs/{job_id}", "enterprise")[0] == 200
    assert api("get", f"/api/jobs/{job_id}", "reviewer")[0] == 200  # 110000 covers 110101
    assert api("get", f"/api/jobs/{job_id}", "tj_reviewer")[0] == 404
    assert api("post", f"/api/jobs/{job_id}/cancel", "tj_reviewer")[0] == 404
    assert api("get", f"/api/jobs/{job_id}", "tj_enterprise")[0] == 404


def test_a_case_lists_its_validation_job(background, actors, api):
    _, instance_id = submit_batch(background, actors, persons_with_one_error(3, first_serial=400))
    status, body = api("get", f"/api/jobs?instance_id={instance_id}", "enterprise")
    assert status == 200
    assert [(j["kind"], j["status"], j["total"]) for j in body] == [("declaration.validate", "queued", 3)]
    background.jobs.run_pending()
    assert api("get", f"/api/jobs/{body[0]['id']}", "reviewer")[1]["result"]["error_count"] == 1


HEARTBEATS = "test.heartbeats"


def test_a_heartbeat_reports_every_second_however_slowly_units_come_and_keeps_the_time_limit(background,
                                                                                             monkeypatch):
    """A fake clock: what the job's heartbeat does is decided by the clock, never by sleeping."""
    import services.platform.jobs
    from services.platform.jobs import time_limit_message

    clock = [1000.0]
    monkeypatch.setattr(services.platform.jobs, "time", SimpleNamespace(monotonic=lambda: clock[0]))
    reports: list[int] = []
    original = JobContext.progress
    monkeypatch.setattr(JobContext, "progress", lambda ctx, done, total: (reports.append(done),
                                                                          original(ctx, done, total)))

    def beating(ctx: JobContext) -> dict:
        for done in (1, 2, 3):  # one unit a second: each beat reports
            clock[0] += 1.1
            ctx.heartbeat(done, 10)
        for done in (4, 5, 6):  # quick units: no report until 2,000 more or a second later
            clock[0] += 0.1
            ctx.heartbeat(done, 10)
        ctx.heartbeat(2003, 3000)
        clock[0] += 10  # past the kind's 5 s
        ctx.heartbeat(2004, 3000)
        return {}

    if HEARTBEATS not in background.jobs.kinds:
        background.jobs.register(HEARTBEATS, beating, time_limit=5)
    with background.unit_of_work() as uow:
        job_id = background.jobs.submit(uow.session, uow.after_commit, HEARTBEATS, {}, created_by="reviewer").id
        uow.commit()
    assert background.jobs.execute(job_id) == "failed"
    assert reports == [1, 2, 3, 2003]
    with background.unit_of_work() as uow:
        job = uow.session.get(Job, job_id)
        assert (job.status, job.error, job.progress_done) == ("failed", time_limit_message(5), 2003)


def test_only_its_creator_or_a_supervisor_cancels_a_job(background, steps, api):
    """Cancelling an enterprise's 校验 withdraws its declaration: staff who may only watch the job (a
    designer, a spot checker, a catalogue administrator of the whole country) may not."""
    job_id = steps(created_by="enterprise", region="110101")
    for watcher in ("designer", "spot_checker", "catalogue_admin", "reviewer"):
        assert api("get", f"/api/jobs/{job_id}", watcher)[0] == 200
        status, body = api("post", f"/api/jobs/{job_id}/cancel", watcher)
        assert (watcher, status) == (watcher, 403), body
    assert api("get", f"/api/jobs/{job_id}", "enterprise")[1]["cancel_requested"] is False
    assert api("post", f"/api/jobs/{job_id}/cancel", "supervisor")[0] == 200
