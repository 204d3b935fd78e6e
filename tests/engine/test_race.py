"""Two reviewers racing to complete the same task: one wins, the other gets a conflict, nothing
is written twice. Runs with real threads and separate connections on every test database
(PostgreSQL in CI)."""
from __future__ import annotations

import threading
import time
import uuid

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError, OperationalError

from engine.errors import Conflict
from engine.models import HistoryEvent, HumanTask, ProcessInstance, TaskStatus
from services.special_work import declarations
from tests.conftest import person


def test_two_reviewers_complete_the_same_task_concurrently(runtime, actors, monkeypatch):
    with runtime.unit_of_work() as uow:
        batch = declarations.submit_declaration(uow, runtime.engine, actors["enterprise"], "110101000001", "first",
                                                [declarations.PersonInput(**person(40))])
        uow.commit()
        task_id = uow.session.scalars(select(HumanTask.id).where(HumanTask.instance_id == batch.instance_id)).one()

    real_get = runtime.engine.forms.get

    def slow_get(key):  # widen the window between taking the task and committing
        time.sleep(0.2)
        return real_get(key)

    monkeypatch.setattr(runtime.engine.forms, "get", slow_get)
    second_reviewer = actors["reviewer"].__class__("reviewer2", actors["reviewer"].grants)
    barrier = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def decide(who, decision):
        barrier.wait()
        try:
            with runtime.unit_of_work() as uow:
                runtime.engine.complete_task(uow, task_id, who, {"decision": decision, "conclusion": "并发"})
                uow.commit()
            outcomes[who.username] = "ok"
        except Conflict:
            outcomes[who.username] = "conflict"

    threads = [threading.Thread(target=decide, args=(actors["reviewer"], "approve")),
               threading.Thread(target=decide, args=(second_reviewer, "reject"))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes.values()) == ["conflict", "ok"]
    winner = next(name for name, result in outcomes.items() if result == "ok")

    with runtime.unit_of_work() as uow:
        session = uow.session
        done = session.get(HumanTask, task_id)
        assert done.status == TaskStatus.COMPLETED and done.completed_by == winner
        assert session.scalar(select(func.count()).where(HistoryEvent.instance_id == batch.instance_id,
                                                         HistoryEvent.kind == "task_completed")) == 1
        open_tasks = session.scalars(select(HumanTask).where(HumanTask.instance_id == batch.instance_id,
                                                             HumanTask.status == TaskStatus.OPEN)).all()
        instance = session.get(ProcessInstance, batch.instance_id)
    if winner == "reviewer":  # approve → exactly one 复核 task
        assert [t.name for t in open_tasks] == ["recheck"] and instance.status == "waiting"
    else:  # reject → closed, no open task
        assert open_tasks == [] and instance.status == "completed"


def waiting_review(runtime, actors, serial: int) -> str:
    """The 初审 task of a new one-person batch."""
    with runtime.unit_of_work() as uow:
        batch = declarations.submit_declaration(uow, runtime.engine, actors["enterprise"], "110101000001", "first",
                                                [declarations.PersonInput(**person(serial))])
        uow.commit()
        return uow.session.scalars(select(HumanTask.id).where(HumanTask.instance_id == batch.instance_id)).one()


def test_task_claimed_by_another_cannot_be_completed(runtime, actors):
    task_id = waiting_review(runtime, actors, 41)
    other = actors["reviewer"].__class__("reviewer2", actors["reviewer"].grants)
    with runtime.unit_of_work() as uow:
        runtime.engine.claim(uow, task_id, other)
        uow.commit()
    with runtime.unit_of_work() as uow, pytest.raises(Conflict, match="reviewer2"):
        runtime.engine.complete_task(uow, task_id, actors["reviewer"], {"decision": "approve"})


def test_a_claim_committed_while_a_completion_waits_is_seen_by_it(runtime, actors):
    """The completion waits for the claimer's lock; once it gets the lock it must see the task as
    claimed by the other reviewer (not the row as it was when it started waiting) and refuse."""
    task_id = waiting_review(runtime, actors, 42)
    other = actors["reviewer"].__class__("reviewer2", actors["reviewer"].grants)
    claimed, outcome = threading.Event(), {}

    def claim_and_hold():
        with runtime.unit_of_work() as uow:
            runtime.engine.claim(uow, task_id, other)
            claimed.set()
            time.sleep(0.5)  # the completion below is waiting for our lock now
            uow.commit()

    def complete():
        claimed.wait(10)
        try:
            with runtime.unit_of_work() as uow:
                runtime.engine.complete_task(uow, task_id, actors["reviewer"], {"decision": "approve"})
                uow.commit()
            outcome["result"] = "completed"
        except Conflict as error:
            outcome["result"] = str(error)

    threads = [threading.Thread(target=claim_and_hold), threading.Thread(target=complete)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert outcome["result"] == "任务已被 reviewer2 认领"
    with runtime.unit_of_work() as uow:
        row = uow.session.get(HumanTask, task_id)
        assert row.status == TaskStatus.OPEN and row.assignee == "reviewer2"


def test_a_task_row_its_workflow_does_not_know_is_refused_as_a_conflict(runtime, actors):
    """A row left behind by an inconsistency (restored backup, hand-edited data) answers 409 with a
    message, not a server error."""
    review = waiting_review(runtime, actors, 43)
    with runtime.unit_of_work() as uow:
        row = uow.session.get(HumanTask, review)
        stray = str(uuid.uuid4())
        uow.session.add(HumanTask(id=stray, instance_id=row.instance_id, process_key=row.process_key,
                                  process_version=row.process_version, business_key=row.business_key,
                                  name=row.name, label=row.label, form_key=row.form_key, lane=row.lane,
                                  region_code=row.region_code, status=TaskStatus.OPEN))
        uow.commit()
    with runtime.unit_of_work() as uow, pytest.raises(Conflict, match="任务已不在待办状态"):
        runtime.engine.complete_task(uow, stray, actors["reviewer"], {"decision": "approve"})


def test_a_case_locked_too_long_by_another_action_fails_as_a_retryable_database_error(runtime, actors):
    """A completion that cannot get the case's lock in time (the database's lock timeout) raises
    SQLAlchemy's OperationalError — what workers retry and the web layer answers as a failure —
    and writes nothing; the holder's action goes through."""
    if runtime.db.dialect.name != "postgresql":
        pytest.skip("lock timeouts are PostgreSQL's; SQLite queues writers with BEGIN IMMEDIATE")
    task_id = waiting_review(runtime, actors, 44)
    with runtime.unit_of_work() as holder:
        runtime.engine.claim(holder, task_id, actors["reviewer"])
        with runtime.unit_of_work() as uow, pytest.raises(OperationalError, match="lock timeout"):
            uow.session.execute(text("SET LOCAL lock_timeout = '100ms'"))
            runtime.engine.complete_task(uow, task_id, actors["reviewer"], {"decision": "approve"})
        holder.commit()
    with runtime.unit_of_work() as uow:
        row = uow.session.get(HumanTask, task_id)
        assert row.status == TaskStatus.OPEN and row.assignee == "reviewer"


def test_a_connection_lost_mid_action_is_not_handed_out_again(runtime, actors):
    """The database restarted (or an administrator ended the session) while an action ran: the
    action fails as a lost connection — which workers retry — and the next action gets a new one."""
    if runtime.db.dialect.name != "postgresql":
        pytest.skip("an embedded SQLite database has no connection to lose")
    task_id = waiting_review(runtime, actors, 45)
    with runtime.unit_of_work() as uow:
        pid = uow.session.execute(text("SELECT pg_backend_pid()")).scalar_one()
        with runtime.db.connect() as admin:
            admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        with pytest.raises(DBAPIError) as raised:
            runtime.engine.complete_task(uow, task_id, actors["reviewer"], {"decision": "approve"})
        assert raised.value.connection_invalidated
    with runtime.unit_of_work() as uow:
        runtime.engine.complete_task(uow, task_id, actors["reviewer"], {"decision": "approve"})
        uow.commit()
        assert uow.session.get(HumanTask, task_id).status == TaskStatus.COMPLETED
