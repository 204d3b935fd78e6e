"""The per-process cache of deserialized workflows (engine.state.WorkflowCache) never hands out a
workflow that differs from the stored state: not after another process changed the case, not
after an action that was rolled back, not after a caller changed the data it was given."""
from __future__ import annotations

import copy

from sqlalchemy import select

from engine.models import HumanTask, InstanceStatus, TaskStatus
from engine.state import WorkflowCache
from services.special_work import declarations
from tests.conftest import person


def submit(runtime, actors, serial: int) -> tuple[int, str]:
    """A one-person batch waiting for 初审: (instance id, 初审 task id)."""
    with runtime.unit_of_work() as uow:
        batch = declarations.submit_declaration(uow, runtime.engine, actors["enterprise"], "110101000001", "first",
                                                [declarations.PersonInput(**person(serial))])
        uow.commit()
    return batch.instance_id, open_task(runtime, batch.instance_id)


def open_task(runtime, instance_id: int) -> str:
    with runtime.unit_of_work() as uow:
        return uow.session.scalars(select(HumanTask.id).where(HumanTask.instance_id == instance_id,
                                                              HumanTask.status == TaskStatus.OPEN)).one()


def complete(runtime, engine, task_id: str, who, data: dict):
    with runtime.unit_of_work() as uow:
        instance = engine.complete_task(uow, task_id, who, data)
        uow.commit()
    return instance


def test_a_case_changed_by_another_process_is_loaded_again(runtime, actors):
    instance_id, review = submit(runtime, actors, 51)  # this process caches the case as it was submitted
    elsewhere = copy.copy(runtime.engine)
    elsewhere.workflows = WorkflowCache()  # another worker process: its own cache
    complete(runtime, elsewhere, review, actors["reviewer"], {"decision": "approve"})

    recheck = open_task(runtime, instance_id)  # the cached workflow here knows no 复核 task
    done = complete(runtime, runtime.engine, recheck, actors["rechecker"], {"decision": "approve"})
    assert done.status == InstanceStatus.COMPLETED


def test_an_action_that_was_not_committed_leaves_no_trace_in_the_cache(runtime, actors):
    instance_id, review = submit(runtime, actors, 52)
    with runtime.unit_of_work() as uow:  # rejected here (the case would end), but never committed
        runtime.engine.complete_task(uow, review, actors["reviewer"], {"decision": "reject", "conclusion": "不符"})
    elsewhere = copy.copy(runtime.engine)
    elsewhere.workflows = WorkflowCache()  # another worker approves for real, reaching the same version
    complete(runtime, elsewhere, review, actors["reviewer"], {"decision": "approve"})

    recheck = open_task(runtime, instance_id)
    done = complete(runtime, runtime.engine, recheck, actors["rechecker"], {"decision": "approve"})
    assert done.status == InstanceStatus.COMPLETED


def test_data_handed_to_a_page_is_a_copy(runtime, actors):
    instance_id, review = submit(runtime, actors, 53)
    with runtime.unit_of_work() as uow:
        shown = runtime.engine.task_data(uow.session, review)
        shown["validation"]["error_persons"].append(999)  # a page changing what it was given
        assert runtime.engine.task_data(uow.session, review)["validation"]["error_persons"] == []
    # 初审 refuses to approve a batch with validation errors: it must still see none
    approved = complete(runtime, runtime.engine, review, actors["reviewer"], {"decision": "approve"})
    assert approved.status == InstanceStatus.WAITING and len(approved.open_task_ids) == 1


def test_the_cache_keeps_the_most_recent_entries_and_hands_each_out_once():
    cache = WorkflowCache(size=2)
    for instance_id in (1, 2, 3):
        cache.put(instance_id, f"state {instance_id}", f"workflow {instance_id}")
    assert cache.take(1, "state 1") is None  # pushed out by 3
    assert cache.take(2, "state 2 changed") is None and cache.take(2, "state 2") is None  # a miss drops it
    assert cache.take(3, "state 3") == "workflow 3" and cache.take(3, "state 3") is None


def test_the_cache_holds_at_most_so_many_characters_of_state():
    cache = WorkflowCache(size=10, max_chars=10)
    cache.put(1, "aaaa", "workflow 1")
    cache.put(2, "bbbb", "workflow 2")
    cache.put(3, "cccc", "workflow 3")  # 12 characters: the oldest goes
    cache.put(4, "d" * 11, "workflow 4")  # larger than the whole cache: not kept
    assert cache.take(1, "aaaa") is None and cache.take(4, "d" * 11) is None
    assert cache.take(2, "bbbb") == "workflow 2" and cache.take(3, "cccc") == "workflow 3"
