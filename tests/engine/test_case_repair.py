"""Case repair by supervisors (engine.migration, WorkflowEngine.migrate / edit_data / move_to_step,
services.platform.case_repair): migrating a running case to another version of its process, a dry
run, renamed steps, refusals; correcting a case's variables; moving it to another step."""
from __future__ import annotations

from datetime import date
from itertools import count

import pytest
from sqlalchemy import select

from engine.errors import Conflict, Forbidden, InvalidData
from engine.models import HistoryEvent, HumanTask, Incident, ProcessDefinition, ProcessInstance, TaskStatus, Timer
from services.platform import audit, case_repair
from services.platform.jobs import Job, JobStatus
from tests.conftest import actor
from tests.engine.repair_bpmn import V1, V2_RENAMED, V2_SAME, V2_WITHOUT_REVIEW, process

SUPERVISOR, REVIEWER = actor("supervisor"), actor("reviewer")
KEY = "repair_demo"
SERIAL = count(1)


def deploy(runtime, steps, timer_on=None, scripts=None) -> int:
    with runtime.unit_of_work() as uow:
        [result] = runtime.deployer.deploy(uow.session, [(process(KEY, steps, timer_on, scripts), f"{KEY}.bpmn")],
                                           "test")
        uow.commit()
    return result.definition_id


def start(runtime, data=None, at_review=True) -> ProcessInstance:
    """A case of the newest version, moved on to 初审 (``at_review``)."""
    with runtime.unit_of_work() as uow:
        instance = runtime.engine.start(uow, KEY, business_key=f"R-{next(SERIAL)}", region_code="110101",
                                        data=dict(data or {"amount": 5, "name": "张三", "filed_on": date(2025, 3, 1),
                                                           "tags": ["a"]}),
                                        actor=REVIEWER)
        uow.commit()
    if at_review:
        with runtime.unit_of_work() as uow:
            runtime.engine.complete_task(uow, instance.open_task_ids[0], REVIEWER, {"conclusion": "收件"})
            uow.commit()
    return instance


def open_rows(runtime, instance_id) -> list[HumanTask]:
    with runtime.unit_of_work() as uow:
        return list(uow.session.scalars(select(HumanTask).where(HumanTask.instance_id == instance_id,
                                                                HumanTask.status == TaskStatus.OPEN)))


def reload(runtime, instance_id) -> ProcessInstance:
    with runtime.unit_of_work() as uow:
        return uow.session.get(ProcessInstance, instance_id)


def events(runtime, instance_id, kind) -> list[HistoryEvent]:
    with runtime.unit_of_work() as uow:
        return list(uow.session.scalars(select(HistoryEvent).where(HistoryEvent.instance_id == instance_id,
                                                                   HistoryEvent.kind == kind)))


# ---------------------------------------------------------------------- migration
def test_migrating_a_case_moves_it_to_the_same_step_of_the_new_version_and_keeps_its_data(runtime):
    old = deploy(runtime, V1)
    case = start(runtime)
    [before] = open_rows(runtime, case.id)
    with runtime.unit_of_work() as uow:  # someone has claimed the step
        uow.session.get(HumanTask, before.id).assignee = "reviewer"
        uow.commit()
    new = deploy(runtime, V2_SAME)
    with runtime.unit_of_work() as uow:
        plan = case_repair.migrate_case(uow, runtime.engine, SUPERVISOR, case.id, new)
        uow.commit()
    assert plan.done and plan.lines() == [f"初审 → 初审 (v{plan.to_version})"]
    migrated = reload(runtime, case.id)
    assert (migrated.definition_id, migrated.status) == (new, "waiting")
    assert migrated.process_version == plan.to_version == plan.from_version + 1
    [after] = open_rows(runtime, case.id)
    assert after.id != before.id  # a new task of the new version; the old row is cancelled
    assert (after.name, after.label, after.process_version, after.assignee) == ("review", "初审",
                                                                                 plan.to_version, "reviewer")
    with runtime.unit_of_work() as uow:
        assert uow.session.get(HumanTask, before.id).status == TaskStatus.CANCELLED
        data = runtime.engine.instance_data(uow.session, uow.session.get(ProcessInstance, case.id))
    assert data["amount"] == 5 and data["filed_on"] == date(2025, 3, 1) and data["conclusion"] == "收件"
    [event] = events(runtime, case.id, "migrated")
    assert (event.actor, event.details["from_version"], event.details["to_version"]) == \
        ("supervisor", plan.from_version, plan.to_version)
    assert event.details["from_definition_id"] == old
    # the case goes on in the new version: 初审 → 复核 (new) → 审批 → end
    with runtime.unit_of_work() as uow:
        runtime.engine.complete_task(uow, after.id, REVIEWER, {"conclusion": "通过"})
        uow.commit()
    assert [r.name for r in open_rows(runtime, case.id)] == ["recheck"]


def test_a_case_broken_by_its_definition_is_repaired_by_migrating_it_to_the_fixed_version(runtime):
    steps = [("accept", "受理"), ("fee", "计算费用"), ("approve", "审批")]
    deploy(runtime, steps, scripts={"fee": "fee = amount / 0"})
    instance = start(runtime)  # 受理 done: 计算费用 divides by zero
    broken = reload(runtime, instance.id)
    assert broken.status == "error"
    with runtime.unit_of_work() as uow:
        [incident] = uow.session.scalars(select(Incident).where(Incident.instance_id == instance.id))
        assert "计算费用" in incident.message and "除数为零" in incident.message
    fixed = deploy(runtime, steps, scripts={"fee": "fee = amount * 2"})
    with runtime.unit_of_work() as uow:
        plan = case_repair.migrate_case(uow, runtime.engine, SUPERVISOR, instance.id, fixed, dry_run=True)
    assert plan.moves == [("fee", "计算费用", "fee", "计算费用")] and not plan.refusal
    with runtime.unit_of_work() as uow:
        case_repair.migrate_case(uow, runtime.engine, SUPERVISOR, instance.id, fixed)
        uow.commit()
    repaired = reload(runtime, instance.id)
    assert repaired.status == "waiting" and repaired.definition_id == fixed  # at 审批, for its holder
    assert [row.name for row in open_rows(runtime, instance.id)] == ["approve"]
    with runtime.unit_of_work() as uow:
        assert uow.session.get(Incident, incident.id).resolved_by == "supervisor"
        assert runtime.engine.instance_data(uow.session, repaired)["fee"] == 10


def test_a_dry_run_tells_what_it_would_do_and_changes_nothing(runtime):
    deploy(runtime, V1)
    case = start(runtime)
    state = reload(runtime, case.id).state
    new = deploy(runtime, V2_SAME)
    with runtime.unit_of_work() as uow:
        plan = runtime.engine.migrate(uow, case.id, new, SUPERVISOR, None, dry_run=True)
        uow.commit()
    assert not plan.done and plan.describe() == f"初审 → 初审 (v{plan.to_version})"
    assert reload(runtime, case.id).state == state and reload(runtime, case.id).definition_id != new
    assert events(runtime, case.id, "migrated") == []


def test_a_renamed_step_is_found_through_the_mapping(runtime):
    deploy(runtime, V1)
    case = start(runtime)
    new = deploy(runtime, V2_RENAMED)
    with runtime.unit_of_work() as uow:
        refused = runtime.engine.migrate(uow, case.id, new, SUPERVISOR, None, dry_run=True)
        planned = runtime.engine.migrate(uow, case.id, new, SUPERVISOR, {"review": "first_review"}, dry_run=True)
    assert "初审" in refused.refusal and "不存在" in refused.refusal
    assert planned.moves == [("review", "初审", "first_review", "初审")]
    with runtime.unit_of_work() as uow:
        runtime.engine.migrate(uow, case.id, new, SUPERVISOR, {"review": "first_review"})
        uow.commit()
    assert [r.name for r in open_rows(runtime, case.id)] == ["first_review"]
    assert events(runtime, case.id, "migrated")[0].details["mapping"] == {"review": "first_review"}


def test_a_case_at_a_vanished_step_is_refused_in_words_and_left_alone(runtime):
    deploy(runtime, V1)
    case = start(runtime)
    [row] = open_rows(runtime, case.id)
    new = deploy(runtime, V2_WITHOUT_REVIEW)
    with runtime.unit_of_work() as uow, pytest.raises(Conflict) as refused:
        runtime.engine.migrate(uow, case.id, new, SUPERVISOR)
    assert "“初审”" in refused.value.message
    assert [r.id for r in open_rows(runtime, case.id)] == [row.id]
    assert reload(runtime, case.id).definition_id != new
    with runtime.unit_of_work() as uow, pytest.raises(Conflict, match="类型不同|不存在"):
        runtime.engine.migrate(uow, case.id, new, SUPERVISOR, {"review": "end"})


def test_only_versions_of_the_same_process_and_only_by_its_supervisors(runtime):
    deploy(runtime, V1)
    case = start(runtime)
    new = deploy(runtime, V2_SAME)
    with runtime.unit_of_work() as uow:
        other = uow.session.scalar(select(ProcessDefinition.id).where(ProcessDefinition.key != KEY,
                                                                      ProcessDefinition.filename.like("%.bpmn"))
                                   .limit(1))
        with pytest.raises(InvalidData, match="同一流程"):
            runtime.engine.migrate(uow, case.id, other, SUPERVISOR)
        with pytest.raises(Forbidden):
            case_repair.migrate_case(uow, runtime.engine, REVIEWER, case.id, new)
    assert reload(runtime, case.id).definition_id != new


def test_an_armed_timer_keeps_its_due_time(runtime):
    deploy(runtime, V1, timer_on="review")
    case = start(runtime)
    new = deploy(runtime, V2_SAME, timer_on="review")
    with runtime.unit_of_work() as uow:
        [before] = uow.session.scalars(select(Timer).where(Timer.instance_id == case.id, Timer.fired.is_(False)))
        due = before.due_at
    with runtime.unit_of_work() as uow:
        runtime.engine.migrate(uow, case.id, new, SUPERVISOR)
        uow.commit()
    with runtime.unit_of_work() as uow:
        [after] = uow.session.scalars(select(Timer).where(Timer.instance_id == case.id, Timer.fired.is_(False)))
    assert (after.name, after.due_at) == ("late", due) and after.task_id != before.task_id


def test_batch_migration_job_migrates_each_case_alone_and_collects_refusals(runtime):
    deploy(runtime, V1)
    source = deploy(runtime, V1 + [("extra", "补充")])  # a version of its own for this test's cases
    at_review = [start(runtime) for _ in range(3)]
    at_extra = start(runtime)
    with runtime.unit_of_work() as uow:  # a step the target version does not have
        runtime.engine.move_to_step(uow, at_extra.id, SUPERVISOR, "extra", "测试")
        uow.commit()
    target = deploy(runtime, V2_SAME)
    with runtime.unit_of_work() as uow:
        plan = case_repair.plan_batch(uow, runtime.engine, SUPERVISOR, source, target, {})
    assert (len(plan.plans), plan.movable, plan.refused) == (4, 3, 1)
    with runtime.unit_of_work() as uow:
        job = case_repair.submit_batch(uow.session, runtime.jobs, uow.after_commit, SUPERVISOR, source, target, {})
        uow.commit()
    runtime.jobs.execute(job.id)
    with runtime.unit_of_work() as uow:
        done = uow.session.get(Job, job.id)
        assert done.status == JobStatus.DONE and (done.progress_done, done.progress_total) == (4, 4)
        assert (done.result["migrated"], done.result["refused"]) == (3, 1)
        assert done.result["refusals"][0]["instance_id"] == at_extra.id and "补充" in \
            done.result["refusals"][0]["message"]
        versions = {i.id: i.definition_id for i in uow.session.scalars(
            select(ProcessInstance).where(ProcessInstance.id.in_([c.id for c in [*at_review, at_extra]])))}
    assert versions == {**{c.id: target for c in at_review}, at_extra.id: source}
    with pytest.raises(Forbidden), runtime.unit_of_work() as uow:
        case_repair.submit_batch(uow.session, runtime.jobs, uow.after_commit, REVIEWER, source, target, {})


def test_mapping_lines_are_read_and_checked():
    assert case_repair.parse_mapping("review=first_review\n\n# 注释\n a = b ") == {"review": "first_review", "a": "b"}
    with pytest.raises(InvalidData):
        case_repair.parse_mapping("review first_review")


# ---------------------------------------------------------------------- edit data
def test_editing_data_records_old_and_new_values_in_history_and_audit_log(runtime):
    deploy(runtime, V1)
    case = start(runtime)
    with runtime.unit_of_work() as uow:
        changed = case_repair.edit_case_data(uow, runtime.engine, SUPERVISOR, case.id,
                                             {"amount": 7, "filed_on": "2025-04-02", "name": "张三"}, "录入错误")
        uow.commit()
    assert changed == {"amount": (5, 7), "filed_on": (date(2025, 3, 1), date(2025, 4, 2))}  # the name did not change
    with runtime.unit_of_work() as uow:
        data = runtime.engine.instance_data(uow.session, uow.session.get(ProcessInstance, case.id))
        [entry] = audit.entries_for(uow.session, "process_instance", case.id)
    assert data["amount"] == 7 and data["filed_on"] == date(2025, 4, 2)
    assert (entry.action, entry.actor, entry.details["reason"]) == ("case.edit_data", "supervisor", "录入错误")
    assert entry.details["before"] == {"amount": 5, "filed_on": "2025-03-01"}
    assert entry.details["after"] == {"amount": 7, "filed_on": "2025-04-02"}
    [event] = events(runtime, case.id, "data_edited")
    assert event.conclusion == "录入错误" and event.details["changes"]["amount"] == {"from": 5, "to": 7}
    with runtime.unit_of_work() as uow:  # the steps to come see the new value
        runtime.engine.complete_task(uow, open_rows(runtime, case.id)[0].id, REVIEWER, {"conclusion": "好"})
        uow.commit()
        data = runtime.engine.instance_data(uow.session, uow.session.get(ProcessInstance, case.id))
    assert data["amount"] == 7


@pytest.mark.parametrize(("changes", "reason", "who", "error"), [
    ({"unknown": 1}, "原因", "supervisor", InvalidData),
    ({"amount": "七"}, "原因", "supervisor", InvalidData),
    ({"tags": "a"}, "原因", "supervisor", InvalidData),
    ({"amount": True}, "原因", "supervisor", InvalidData),
    ({"filed_on": "not a date"}, "原因", "supervisor", InvalidData),
    ({"amount": 7}, "  ", "supervisor", InvalidData),
    ({}, "原因", "supervisor", InvalidData),
    ({"amount": 5}, "原因", "supervisor", InvalidData),  # nothing changes
    ({"amount": 7}, "原因", "reviewer", Forbidden),
])
def test_edit_data_refusals_change_nothing(runtime, changes, reason, who, error):
    deploy(runtime, V1)
    case = start(runtime)
    state = reload(runtime, case.id).state
    with runtime.unit_of_work() as uow, pytest.raises(error):
        case_repair.edit_case_data(uow, runtime.engine, actor(who), case.id, changes, reason)
    assert reload(runtime, case.id).state == state
    assert events(runtime, case.id, "data_edited") == []


def test_a_value_typed_in_the_form_is_read_by_the_old_values_type():
    assert case_repair.parse_value(5, "7") == 7
    assert case_repair.parse_value("x", "7") == "7"
    assert case_repair.parse_value(["a"], '["a", "b"]') == ["a", "b"]
    with pytest.raises(InvalidData):
        case_repair.parse_value(5, "七")


# ---------------------------------------------------------------------- move to a step
def test_moving_a_case_back_reopens_the_earlier_step_like_a_return(runtime):
    deploy(runtime, V1)
    case = start(runtime)
    [at_review] = open_rows(runtime, case.id)
    with runtime.unit_of_work() as uow:
        accept = uow.session.scalar(select(HumanTask).where(HumanTask.instance_id == case.id,
                                                            HumanTask.name == "accept"))
        case_repair.move_case(uow, runtime.engine, SUPERVISOR, case.id, "accept", "材料需重新受理")
        uow.commit()
    [row] = open_rows(runtime, case.id)
    assert (row.id, row.name) == (accept.id, "accept")  # 退回's move: the step's own row opens again
    with runtime.unit_of_work() as uow:
        assert uow.session.get(HumanTask, at_review.id).status == TaskStatus.CANCELLED
    [event] = events(runtime, case.id, "moved_to_step")
    assert (event.conclusion, event.details["target"], event.details["from"], event.details["how"]) == \
        ("材料需重新受理", "accept", ["review"], "return")


def test_moving_a_case_forward_rebuilds_it_at_the_step_with_its_data(runtime):
    deploy(runtime, V1)
    case = start(runtime)
    with runtime.unit_of_work() as uow:
        case_repair.move_case(uow, runtime.engine, SUPERVISOR, case.id, "approve", "领导同意跳过初审")
        uow.commit()
    [row] = open_rows(runtime, case.id)
    assert (row.name, row.label) == ("approve", "审批")
    with runtime.unit_of_work() as uow:
        data = runtime.engine.instance_data(uow.session, uow.session.get(ProcessInstance, case.id))
        runtime.engine.complete_task(uow, row.id, REVIEWER, {"conclusion": "准予"})
        uow.commit()
    assert data["amount"] == 5
    assert reload(runtime, case.id).status == "completed"


def test_moving_needs_a_reason_a_user_step_and_a_supervisor(runtime):
    deploy(runtime, V1)
    case = start(runtime)
    state = reload(runtime, case.id).state
    with runtime.unit_of_work() as uow:
        with pytest.raises(InvalidData):
            case_repair.move_case(uow, runtime.engine, SUPERVISOR, case.id, "approve", " ")
        with pytest.raises(InvalidData):
            case_repair.move_case(uow, runtime.engine, SUPERVISOR, case.id, "end", "原因")
        with pytest.raises(Conflict):
            case_repair.move_case(uow, runtime.engine, SUPERVISOR, case.id, "review", "原因")
        with pytest.raises(Forbidden):
            case_repair.move_case(uow, runtime.engine, REVIEWER, case.id, "approve", "原因")
    assert reload(runtime, case.id).state == state
    with runtime.unit_of_work() as uow:
        assert runtime.engine.user_steps(uow.session, reload(runtime, case.id)) == list(V1)
