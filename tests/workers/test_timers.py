"""BPMN timers stored in the timer table and fired by a scheduler scan (embedded mode, no broker)."""
from __future__ import annotations

import threading

import pytest

from engine.definitions import DefinitionInvalid
from services.platform import background
from tests.workers import bpmn
from tests.workers.helpers import (
    deploy,
    events,
    instance_status,
    open_tasks,
    sleep_past,
    soon,
    start,
    timers,
)


def fire_due(runtime) -> int:
    return sum(background.fire_timer(runtime, timer_id) for timer_id in background.due_timers(runtime))


def test_intermediate_timer_waits_in_the_table_until_due_then_fires_once(runtime):
    deploy(runtime, bpmn.intermediate_timer("wait_for_date", "wake_at"), "wait_for_date")
    wake_at, due = soon(1.0)
    instance_id = start(runtime, "wait_for_date", {"wake_at": wake_at})

    (row,) = timers(runtime, instance_id)
    assert (row.name, row.fired) == ("wait", False)
    assert abs((row.due_at - due).total_seconds()) < 0.01  # the expression was evaluated from case data
    assert fire_due(runtime) == 0  # not due yet: nothing happens
    assert open_tasks(runtime, instance_id) == []

    sleep_past(due)
    assert fire_due(runtime) == 1
    assert open_tasks(runtime, instance_id) == ["after"]
    assert [t.fired for t in timers(runtime, instance_id)] == [True]
    assert fire_due(runtime) == 0
    assert background.fire_timer(runtime, row.id) is False  # a late duplicate changes nothing
    assert len(events(runtime, instance_id, "timer_fired")) == 1


def test_two_schedulers_racing_for_one_timer_fire_it_once(runtime):
    deploy(runtime, bpmn.intermediate_timer("wait_race", "wake_at"), "wait_race")
    wake_at, due = soon(0.5)
    instance_id = start(runtime, "wait_race", {"wake_at": wake_at})
    (row,) = timers(runtime, instance_id)
    sleep_past(due)

    barrier = threading.Barrier(4)
    results: list[bool] = []

    def scheduler() -> None:
        barrier.wait()
        results.append(background.fire_timer(runtime, row.id))

    threads = [threading.Thread(target=scheduler) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(results) == [False, False, False, True]
    assert open_tasks(runtime, instance_id) == ["after"]
    assert len(events(runtime, instance_id, "timer_fired")) == 1


def test_interrupting_boundary_timer_cancels_the_task_and_takes_the_escalation_path(runtime):
    deploy(runtime, bpmn.boundary_timer("deadline_interrupting", "deadline", interrupting=True),
           "deadline_interrupting")
    deadline, due = soon(0.5)
    instance_id = start(runtime, "deadline_interrupting", {"deadline": deadline})
    assert open_tasks(runtime, instance_id) == ["work"]
    assert [t.name for t in timers(runtime, instance_id)] == ["deadline"]

    sleep_past(due)
    assert fire_due(runtime) == 1
    assert open_tasks(runtime, instance_id) == ["escalated"]


def test_non_interrupting_boundary_timer_keeps_the_task_open(runtime):
    deploy(runtime, bpmn.boundary_timer("deadline_soft", "deadline", interrupting=False), "deadline_soft")
    deadline, due = soon(0.5)
    instance_id = start(runtime, "deadline_soft", {"deadline": deadline})

    sleep_past(due)
    assert fire_due(runtime) == 1
    assert open_tasks(runtime, instance_id) == ["escalated", "work"]


def test_cycle_timer_fires_once_per_repetition_then_stops(runtime):
    deploy(runtime, bpmn.boundary_timer("chase_twice", "'R2/PT0.5S'", interrupting=False, kind="timeCycle"),
           "chase_twice")
    instance_id = start(runtime, "chase_twice")
    for _ in range(2):
        (pending,) = [t for t in timers(runtime, instance_id) if not t.fired]
        sleep_past(pending.due_at)
        assert fire_due(runtime) == 1
    assert [t.fired for t in timers(runtime, instance_id)] == [True, True]
    assert open_tasks(runtime, instance_id) == ["escalated", "escalated", "work"]
    assert fire_due(runtime) == 0


def test_completing_the_task_before_its_deadline_withdraws_the_timer(runtime, actors):
    deploy(runtime, bpmn.boundary_timer("deadline_met", "deadline", interrupting=True), "deadline_met")
    deadline, due = soon(1.0)
    instance_id = start(runtime, "deadline_met", {"deadline": deadline})
    (task_id,) = [t for t in _task_ids(runtime, instance_id)]
    with runtime.unit_of_work() as uow:
        runtime.engine.complete_task(uow, task_id, actors["reviewer"], {"decision": "approve"})
        uow.commit()

    assert timers(runtime, instance_id) == []
    sleep_past(due)
    assert fire_due(runtime) == 0
    assert instance_status(runtime, instance_id) == "completed"


def test_timer_start_event_holds_the_new_case_until_its_time(runtime):
    deploy(runtime, bpmn.timer_start("start_later", "start_at"), "start_later")
    start_at, due = soon(0.5)
    instance_id = start(runtime, "start_later", {"start_at": start_at})
    assert open_tasks(runtime, instance_id) == []
    assert instance_status(runtime, instance_id) == "waiting"

    sleep_past(due)
    assert fire_due(runtime) == 1
    assert open_tasks(runtime, instance_id) == ["after"]


def test_terminating_a_case_drops_its_pending_timers(runtime, actors):
    deploy(runtime, bpmn.intermediate_timer("wait_terminated", "'PT1H'", kind="timeDuration"), "wait_terminated")
    instance_id = start(runtime, "wait_terminated")
    assert len(timers(runtime, instance_id)) == 1
    with runtime.unit_of_work() as uow:
        runtime.engine.terminate(uow, instance_id, actors["supervisor"], "不再需要")
        uow.commit()
    assert timers(runtime, instance_id) == []


def test_timer_expressions_are_vetted_like_every_script(runtime):
    with pytest.raises(DefinitionInvalid) as invalid:
        deploy(runtime, bpmn.intermediate_timer("wait_evil", "__import__('os').getcwd()"), "wait_evil")
    assert any("定时器表达式" in p.message for p in invalid.value.problems)


def _task_ids(runtime, instance_id: int) -> list[str]:
    from sqlalchemy import select

    from engine.models import HumanTask

    with runtime.unit_of_work() as uow:
        return list(uow.session.scalars(select(HumanTask.id).where(HumanTask.instance_id == instance_id)))


def test_a_returned_steps_boundary_timer_is_rearmed_and_fires_once_at_its_new_due_time(runtime, actors):
    deadline = bpmn.timer("timeDuration", "'PT1.5S'")
    nodes = (f'<bpmn:startEvent id="start" />{bpmn._user_task("prepare", "准备")}{bpmn._user_task("work", "办理")}'
             f'<bpmn:boundaryEvent id="deadline" name="期限" attachedToRef="work" cancelActivity="true">'
             f'{deadline}</bpmn:boundaryEvent>{bpmn._user_task("escalated", "督办处理")}'
             f'<bpmn:endEvent id="end" /><bpmn:endEvent id="end_escalated" />')
    xml = bpmn._process("returned_deadline", nodes, [("start", "prepare"), ("prepare", "work"), ("work", "end"),
                                                      ("deadline", "escalated"), ("escalated", "end_escalated")],
                        ["start", "prepare", "work", "deadline", "escalated", "end", "end_escalated"])
    deploy(runtime, xml, "returned_deadline")
    instance_id = start(runtime, "returned_deadline")
    reviewer = actors["reviewer"]

    def do(step: str) -> str:
        (task_id,) = _open_ids(runtime, instance_id, step)
        with runtime.unit_of_work() as uow:
            runtime.engine.complete_task(uow, task_id, reviewer, {"decision": "approve"})
            uow.commit()
        return task_id

    do("prepare")
    (first,) = timers(runtime, instance_id)
    (work,) = _open_ids(runtime, instance_id, "work")
    with runtime.unit_of_work() as uow:
        runtime.engine.return_task(uow, work, reviewer, "prepare", "材料不全")
        uow.commit()
    assert [t for t in timers(runtime, instance_id) if not t.fired] == []  # the returned step's timer went with it
    sleep_past(first.due_at)
    assert fire_due(runtime) == 0 and open_tasks(runtime, instance_id) == ["prepare"]
    do("prepare")
    (second,) = [t for t in timers(runtime, instance_id) if not t.fired]
    assert second.due_at > first.due_at  # armed again from the second arrival
    sleep_past(second.due_at)
    assert fire_due(runtime) == 1 and fire_due(runtime) == 0
    assert open_tasks(runtime, instance_id) == ["escalated"]


def _open_ids(runtime, instance_id: int, step: str) -> list[str]:
    from sqlalchemy import select

    from engine.models import HumanTask

    with runtime.unit_of_work() as uow:
        return list(uow.session.scalars(select(HumanTask.id).where(
            HumanTask.instance_id == instance_id, HumanTask.name == step, HumanTask.status == "open")))
