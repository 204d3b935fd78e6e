"""Versions without surprise (issue 18, part 4): a deploy that gives a called process (or DMN table) a new
version re-pins its deployed callers, up the chain, as new versions of them in the same deploy; new cases
run the new called version, running cases stay where they started, unchanged files create nothing."""
from __future__ import annotations

from uuid import uuid4

import pytest
from sqlalchemy import select

from engine.actors import Actor
from engine.definitions import DefinitionInvalid, DeployResult, latest_definition
from engine.models import HumanTask, ProcessDefinition, ProcessInstance
from tests.bpmn_factory import linear_process
from tests.engine.test_dmn import dmn
from tests.engine.test_models_from_elsewhere import caller, process

STARTER = Actor("reviewer", frozenset({("reviewer", "110000")}))


@pytest.fixture
def keys():
    """Process keys of this test's own: deployed definitions are kept between tests."""
    suffix = uuid4().hex[:8]
    return lambda name: f"rp_{name}_{suffix}"


def deploy(runtime, files: list[tuple[bytes, str]]) -> list[DeployResult]:
    with runtime.unit_of_work() as uow:
        results = runtime.deployer.deploy(uow.session, files, "designer")
        uow.commit()
    return results


def outcome(results: list[DeployResult]) -> list[tuple[str, int, bool, tuple[str, ...]]]:
    return [(r.key, r.version, r.created, tuple(str(pin) for pin in r.repinned)) for r in results]


def start(runtime, key: str, business_key: str) -> int:
    with runtime.unit_of_work() as uow:
        case = runtime.engine.start(uow, key, business_key=business_key, region_code="110101", data={},
                                    actor=STARTER)
        uow.commit()
        return case.id


def open_label(runtime, case_id: int) -> str:
    with runtime.unit_of_work() as uow:
        return uow.session.scalars(select(HumanTask.label).where(HumanTask.instance_id == case_id)).one()


def definition(runtime, key: str, version: int | None = None) -> ProcessDefinition:
    with runtime.unit_of_work() as uow:
        if version is None:
            found = latest_definition(uow.session, key)
        else:
            found = uow.session.scalars(select(ProcessDefinition).where(
                ProcessDefinition.key == key, ProcessDefinition.version == version)).one()
        assert found is not None
        uow.session.expunge(found)
        return found


def test_a_changed_called_process_re_pins_its_caller_and_running_cases_stay(runtime, keys):
    outer, inner = keys("outer"), keys("inner")
    first = deploy(runtime, [(caller(outer, inner), f"{outer}.bpmn"), (linear_process(inner, label="审核"),
                                                                          f"{inner}.bpmn")])
    assert sorted(outcome(first)) == [(inner, 1, True, ()), (outer, 1, True, ())]
    old_case = start(runtime, outer, "RP-OLD")
    assert open_label(runtime, old_case) == "审核"

    changed = deploy(runtime, [(linear_process(inner, label="复审"), f"{inner}.bpmn")])  # only the called file
    assert outcome(changed) == [(inner, 2, True, ()), (outer, 2, True, (f"{inner} v2",))]
    assert str(changed[1]) == f"{outer} v2 (re-pinned: {inner} v2)"
    repinned, before = definition(runtime, outer), definition(runtime, outer, 1)
    assert repinned.dependencies == {inner: definition(runtime, inner).id}
    assert (repinned.xml, repinned.forms, repinned.startable_by, repinned.filename) == \
        (before.xml, before.forms, before.startable_by, before.filename)  # only the pins changed

    new_case = start(runtime, outer, "RP-NEW")
    assert open_label(runtime, new_case) == "复审"  # a new case of the caller runs the new called version
    with runtime.unit_of_work() as uow:
        old = uow.session.get(ProcessInstance, old_case)
        assert (old.process_version, old.definition_id) == (1, before.id)  # never moved
        assert uow.session.get(ProcessInstance, new_case).process_version == 2
        task = uow.session.scalars(select(HumanTask).where(HumanTask.instance_id == old_case)).one()
        assert task.label == "审核"
        done = runtime.engine.complete_task(uow, task.id, STARTER, {"decision": "approve", "conclusion": "同意"})
        uow.commit()
    assert done.status == "completed"  # the old case ends on the versions it started with

    # unchanged files create nothing: the called file alone, or both (the caller's file gives the same hash)
    assert outcome(deploy(runtime, [(linear_process(inner, label="复审"), f"{inner}.bpmn")])) == \
        [(inner, 2, False, ())]
    assert sorted(outcome(deploy(runtime, [(caller(outer, inner), f"{outer}.bpmn"),
                                           (linear_process(inner, label="复审"), f"{inner}.bpmn")]))) == \
        [(inner, 2, False, ()), (outer, 2, False, ())]


def test_a_chain_is_re_pinned_from_the_bottom_up(runtime, keys):
    top, middle, bottom = keys("a"), keys("b"), keys("c")
    deploy(runtime, [(caller(top, middle), f"{top}.bpmn"), (caller(middle, bottom), f"{middle}.bpmn"),
                     (linear_process(bottom, label="审核"), f"{bottom}.bpmn")])
    old_case = start(runtime, top, "RP-CHAIN-OLD")

    changed = deploy(runtime, [(linear_process(bottom, label="终审"), f"{bottom}.bpmn")])
    assert outcome(changed) == [(bottom, 2, True, ()), (middle, 2, True, (f"{bottom} v2",)),
                                (top, 2, True, (f"{middle} v2",))]
    c2, b2 = definition(runtime, bottom), definition(runtime, middle)
    assert b2.dependencies == {bottom: c2.id}
    assert definition(runtime, top).dependencies == {middle: b2.id, bottom: c2.id}
    assert open_label(runtime, start(runtime, top, "RP-CHAIN-NEW")) == "终审"
    assert open_label(runtime, old_case) == "审核"

    # the middle file deployed with the changed bottom: the middle is deployed from its file, not re-pinned,
    # and only the top (which none of the files holds) is re-pinned
    both = deploy(runtime, [(caller(middle, bottom), f"{middle}.bpmn"),
                            (linear_process(bottom, label="三审"), f"{bottom}.bpmn")])
    assert outcome(both)[2:] == [(top, 3, True, (f"{middle} v3",))]  # after the files' own results
    assert sorted(outcome(both)[:2]) == [(middle, 3, True, ()), (bottom, 3, True, ())]
    assert outcome(deploy(runtime, [(linear_process(bottom, label="三审"), f"{bottom}.bpmn")])) == \
        [(bottom, 3, False, ())]


def test_a_caller_calling_both_a_process_and_what_it_calls_gets_one_new_version(runtime, keys):
    top, middle, bottom = keys("top"), keys("mid"), keys("bottom")
    two_calls = process(top, f'<bpmn:startEvent id="start" /><bpmn:callActivity id="task" calledElement="{middle}" />'
                             f'<bpmn:callActivity id="again" calledElement="{bottom}" /><bpmn:endEvent id="end" />'
                             '<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="task" />'
                             '<bpmn:sequenceFlow id="f2" sourceRef="task" targetRef="again" />'
                             '<bpmn:sequenceFlow id="f3" sourceRef="again" targetRef="end" />',
                        ("start", "task", "again", "end"))
    deploy(runtime, [(two_calls, f"{top}.bpmn"), (caller(middle, bottom), f"{middle}.bpmn"),
                     (linear_process(bottom), f"{bottom}.bpmn")])
    changed = deploy(runtime, [(linear_process(bottom, label="变更"), f"{bottom}.bpmn")])
    assert outcome(changed) == [(bottom, 2, True, ()), (middle, 2, True, (f"{bottom} v2",)),
                                (top, 2, True, (f"{bottom} v2", f"{middle} v2"))]


def test_a_re_pin_cannot_widen_who_starts_the_called_process(runtime, keys):
    outer, inner = keys("started"), keys("guarded")
    started = linear_process(outer, f'<bpmn:callActivity id="mid" calledElement="{inner}" />')  # reviewers start it
    deploy(runtime, [(started, f"{outer}.bpmn"), (linear_process(inner), f"{inner}.bpmn")])
    narrowed = [(linear_process(inner, starters="supervisor"), f"{inner}.bpmn")]
    with runtime.unit_of_work() as uow:
        problems = runtime.deployer.validate_files(narrowed, uow.session)
    assert [(p.element_id, outer in p.message and "reviewer" in p.message) for p in problems] == [(inner, True)]
    with runtime.unit_of_work() as uow, pytest.raises(DefinitionInvalid):
        runtime.deployer.deploy(uow.session, narrowed, "designer")
    assert definition(runtime, inner).version == 1 and definition(runtime, outer).version == 1


def test_a_changed_table_re_pins_the_processes_that_use_it_directly_and_through_others(runtime, keys):
    table, inner, outer = keys("table"), keys("ruled"), keys("ruling")
    rule = (f'<bpmn:businessRuleTask id="mid" name="分级"><bpmn:extensionElements><spiffworkflow:calledDecisionId>'
            f'{table}</spiffworkflow:calledDecisionId></bpmn:extensionElements></bpmn:businessRuleTask>')

    def table_file(threshold: int) -> tuple[bytes, str]:
        return dmn(threshold).replace(b'"route_level"', f'"{table}"'.encode()), f"{table}.dmn"

    first = deploy(runtime, [(caller(outer, inner), f"{outer}.bpmn"), (linear_process(inner, rule), f"{inner}.bpmn"),
                             table_file(10)])  # a caller together with a called file that uses a table
    assert {r.key for r in first} == {table, inner, outer}

    def level(count: int) -> str:
        with runtime.unit_of_work() as uow:
            case = runtime.engine.start(uow, outer, business_key=f"RP-T-{uuid4().hex[:6]}", region_code="110101",
                                        data={"person_count": count}, actor=STARTER)
            uow.commit()
            task_id = uow.session.scalars(select(HumanTask.id).where(HumanTask.instance_id == case.id)).one()
            return runtime.engine.task_data(uow.session, task_id)["level"]

    assert level(30) == "city"
    changed = deploy(runtime, [table_file(50)])
    assert outcome(changed) == [(table, 2, True, ()), (inner, 2, True, (f"{table} v2",)),
                                (outer, 2, True, (f"{inner} v2",))]
    assert level(30) == "county"
