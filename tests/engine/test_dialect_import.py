"""Dialect import (issue 18, part 2): models saved by Camunda Modeler 5, Flowable and Activiti
(tests/fixtures/dialects/) validate, deploy and run end to end after engine/dialects.py translates
them; what the translation cannot carry over is refused naming the element and the expression."""
from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from lxml import etree
from sqlalchemy import select

from engine import dialects
from engine.actors import Actor
from engine.definitions import DefinitionInvalid
from engine.forms import parse_form
from engine.models import HumanTask, ProcessInstance, TaskStatus, Timer
from tests.bpmn_factory import linear_process

CORPUS = Path(__file__).parent.parent / "fixtures" / "dialects"
STARTER = Actor("reviewer", frozenset({("reviewer", "110000")}))
REGION = "110000"
APPROVE = {"decision": "approve"}
REJECT = {"decision": "reject", "conclusion": "材料不全"}
NOTE = {"conclusion": "已办理"}
# model → process id, start data, answers by task id, the task ids completed in order, timers fired
SCENARIOS: dict[str, list[tuple[str, dict[str, Any], dict[str, dict], list[str]]]] = {
    "camunda_leave_request.bpmn": [
        ("dl_leave_request", {}, {"Task_review": APPROVE, "Task_recheck": APPROVE}, ["Task_review", "Task_recheck"]),
        ("dl_leave_request", {}, {"Task_review": REJECT, "Task_notify": APPROVE}, ["Task_review", "Task_notify"])],
    "camunda_amount_approval.bpmn": [
        ("dl_amount_approval", {"applicant": {"amount": 1500}, "urgent": False, "remark": ""},
         {"Task_check": APPROVE, "Task_leader": APPROVE}, ["Task_check", "Task_leader"]),
        ("dl_amount_approval", {"applicant": {"amount": 500}, "urgent": False, "remark": None},
         {"Task_check": APPROVE, "Task_simple": APPROVE}, ["Task_check", "Task_simple"])],
    "camunda_timer_after_task.bpmn": [
        ("dl_timer_after_task", {}, {"Task_review": APPROVE, "Task_confirm": APPROVE},
         ["Task_review", "timer", "Task_confirm"])],
    "camunda_dmn_routing.bpmn": [
        ("dl_dmn_routing", {"person_count": 3}, {"Task_county": APPROVE}, ["Task_county"]),
        ("dl_dmn_routing", {"person_count": 30}, {"Task_city": APPROVE}, ["Task_city"])],
    "camunda_java_service.bpmn": [("dl_java_service", {}, {"Task_review": APPROVE}, ["Task_review"])],
    "camunda_manual_task.bpmn": [
        ("dl_manual_task", {}, {"Task_onsite": NOTE, "Task_archive": NOTE}, ["Task_onsite", "Task_archive"])],
    "flowable_review.bpmn": [
        ("dl_flowable_review", {"persons": 2}, {"reviewTask": APPROVE, "approveTask": APPROVE},
         ["reviewTask", "approveTask"]),
        ("dl_flowable_review", {"persons": 2}, {"reviewTask": REJECT}, ["reviewTask"])],
    "activiti_assignee.bpmn": [
        ("dl_activiti_assignee", {}, {"usertask1": APPROVE, "usertask2": APPROVE},
         ["usertask1", "timer", "usertask2"])],
}
# the role each imported step is offered to, and the person it is assigned to (None: the role's group task)
ROUTING = {"Task_check": ("clerk", None), "Task_leader": ("approver", None), "Task_recheck": ("rechecker", None),
           "Task_notify": ("reviewer", "reviewer"), "Task_onsite": ("acceptor", None), "Task_archive": ("clerk", None),
           "usertask1": ("reviewer", "reviewer"), "usertask2": ("rechecker", "rechecker")}


@pytest.fixture
def corpus(runtime, tmp_path) -> Iterator[Path]:
    """A copy of the corpus (skeleton forms are written next to the models) with its mapping file."""
    for path in CORPUS.iterdir():
        shutil.copy(path, tmp_path / path.name)
    if "test.dialect_record" not in runtime.engine.operators:
        runtime.engine.operators.register("test.dialect_record", lambda context: {"recorded": True})
    validator = runtime.deployer.validator
    before = validator.dialect_mapping, validator.translate_dialects
    validator.dialect_mapping = tmp_path / dialects.MAPPING_FILE
    yield tmp_path
    validator.dialect_mapping, validator.translate_dialects = before


def files(folder: Path, model: str) -> list[tuple[bytes, str]]:
    found = [folder / model] + ([folder / model.replace(".bpmn", ".dmn")] if "dmn" in model else [])
    return [(path.read_bytes(), str(path)) for path in found]


def deploy(runtime, folder: Path, model: str) -> None:
    with runtime.unit_of_work() as uow:
        runtime.deployer.deploy(uow.session, files(folder, model), "designer")
        uow.commit()


def refusal(runtime, folder: Path, model: str) -> list[str]:
    with runtime.unit_of_work() as uow, pytest.raises(DefinitionInvalid) as invalid:
        runtime.deployer.deploy(uow.session, files(folder, model), "designer")
    return [f"[{p.element_id}] {p.message}" for p in invalid.value.problems]



def run(runtime, later, pid: str, data: dict[str, Any], answers: dict[str, dict], n: int) -> tuple[str, list[str]]:
    """Start a case and drive it: complete each open task with its answer (as a holder of the task's
    role, or its assignee), fire its timers by moving the clock past them; (status, steps done)."""
    with runtime.unit_of_work() as uow:
        case = runtime.engine.start(uow, pid, business_key=f"DL-{pid}-{n}", region_code=REGION, data=data,
                                    actor=STARTER)
        uow.commit()
    done: list[str] = []
    for _ in range(10):
        with runtime.unit_of_work() as uow:
            rows = list(uow.session.scalars(select(HumanTask).where(HumanTask.instance_id == case.id,
                                                                    HumanTask.status == TaskStatus.OPEN)))
            timers = list(uow.session.scalars(select(Timer).where(Timer.instance_id == case.id,
                                                                  Timer.fired.is_(False))))
        if rows:
            row = rows[0]
            if row.name in ROUTING:
                assert (row.lane, row.assignee) == ROUTING[row.name], row.name
            person = Actor(row.assignee or f"{row.lane}_holder", frozenset({(row.lane, REGION)}))
            with runtime.unit_of_work() as uow:
                runtime.engine.complete_task(uow, row.id, person, answers[row.name])
                uow.commit()
            done.append(row.name)
        elif timers:
            later(timers[0].due_at - datetime.utcnow() + timedelta(minutes=1))
            with runtime.unit_of_work() as uow:
                assert runtime.engine.fire_timer(uow, timers[0].id)
                uow.commit()
            done.append("timer")
        else:
            break
    with runtime.unit_of_work() as uow:
        return uow.session.get(ProcessInstance, case.id).status, done


@pytest.mark.parametrize("model", sorted(SCENARIOS))
def test_each_imported_model_runs_end_to_end_on_every_path(runtime, corpus, later, model):
    deploy(runtime, corpus, model)
    for n, (pid, data, answers, path) in enumerate(SCENARIOS[model]):
        status, done = run(runtime, later, pid, data, answers, n)
        assert (status, done) == ("completed", path), (model, n)


def test_the_translated_model_is_banjian_dialect_and_keeps_its_diagram(runtime, corpus):
    deploy(runtime, corpus, "camunda_leave_request.bpmn")
    with runtime.unit_of_work() as uow:
        from engine.definitions import latest_definition

        definition = latest_definition(uow.session, "dl_leave_request")
        assert definition is not None
        xml = definition.xml
    assert "camunda.org/schema/1.0/bpmn" not in xml and "BPMNShape" in xml
    assert "(decision == 'approve')" in xml and 'name="initiator" value="initiator"' in xml


def test_refusals_name_the_expression_and_the_element(runtime, corpus):
    refused = refusal(runtime, corpus, "camunda_refused_expressions.bpmn")
    assert any("[Flow_bean]" in p and "${orderService.isValid(order)}" in p and "方法调用" in p for p in refused)
    assert any("[Flow_execution]" in p and "${execution.getVariable('amount') > 10}" in p for p in refused)
    refused = refusal(runtime, corpus, "camunda_unmapped_service.bpmn")
    assert any("[Task_mail]" in p and "delegateExpression ${mailDelegate}" in p for p in refused)
    assert any("[Task_review]" in p and "候选组 accounting" in p for p in refused)
    assert any("[Task_review]" in p and "executionListener" in p for p in refused)
    assert any("[mailTask]" in p and "type mail" in p for p in refusal(runtime, corpus, "flowable_mail_task.bpmn"))


def test_a_missing_form_becomes_a_skeleton_next_to_the_model_and_is_reported(runtime, corpus):
    refused = refusal(runtime, corpus, "camunda_generated_form.bpmn")
    key = "dl_generated_form_Task_assess"
    assert any("[Task_assess]" in p and f"{key}.json" in p for p in refused)
    form = parse_form(key, (corpus / f"{key}.json").read_text(encoding="utf-8"))
    fields = {f.key: f for f in form.fields}
    assert fields["score"].type == "number"  # compared with 60
    assert fields["result"].type == "radio" and [v for v, _ in fields["result"].options] == ["pass", "fail"]
    (corpus / f"{key}.json").write_text("{}", encoding="utf-8")  # the designer's work is never overwritten
    refusal(runtime, corpus, "camunda_generated_form.bpmn")
    assert (corpus / f"{key}.json").read_text(encoding="utf-8") == "{}"


def test_a_task_outside_a_role_lane_is_routed_by_its_role_property(runtime):
    xml = linear_process("dl_role_property", extra_props='<spiffworkflow:property name="role" value="approver" />')
    outside = etree.fromstring(xml)
    for lane_set in outside.iter("{*}laneSet"):
        lane_set.getparent().remove(lane_set)
    with runtime.unit_of_work() as uow:
        runtime.deployer.deploy(uow.session, [(etree.tostring(outside), "dl_role_property.bpmn")], "designer")
        case = runtime.engine.start(uow, "dl_role_property", business_key="DL-ROLE", region_code=REGION, data={},
                                    actor=STARTER)
        uow.commit()
        row = uow.session.scalar(select(HumanTask).where(HumanTask.instance_id == case.id))
        assert row.lane == "approver"
    unknown = etree.tostring(outside).replace(b'value="approver"', b'value="nobody"')
    with runtime.unit_of_work() as uow, pytest.raises(DefinitionInvalid, match="role 属性中的角色 nobody 不存在"):
        runtime.deployer.deploy(uow.session, [(unknown, "dl_role_property.bpmn")], "designer")


@pytest.mark.parametrize(("juel", "python"), [
    ("${a > 1000}", "(a > 1000)"), ("${a == 'x'}", "(a == 'x')"),
    ("${a gt 1 && !b || c}", "(((a > 1) and (not b)) or c)"),
    ('${not empty x.y and a eq "q"}', "((not (x['y'] in (None, '', [], {}))) and (a == 'q'))"),
    ("#{n le 2 or flag == true}", "((n <= 2) or (flag == True))"), ("${v ne null}", "(v != None)"),
    ("${a.b[0] ge -1.5}", "(a['b'][0] >= (-1.5))"), ("${ok ? 'y' : 'n'}", "('y' if ok else 'n')"),
])
def test_the_juel_subset_becomes_restricted_expressions(juel, python):
    from engine.scripting import check_expression

    assert dialects.juel(juel) == python
    check_expression(python)


@pytest.mark.parametrize(("juel", "why"), [
    ("${execution.getVariable('a')}", "execution"), ("${bean.check(a)}", ".check(…)"), ("${now()}", "now(…)"),
    ("Amount: ${a}", "混写"), ("${a ==}", "不完整"), ("${task.name}", "task"),
])
def test_juel_outside_the_subset_is_refused_with_the_expression(juel, why):
    with pytest.raises(dialects.Refused) as refused:
        dialects.juel(juel)
    assert why in str(refused.value) and juel.strip() in str(refused.value)


def test_a_model_in_banjian_dialect_is_left_as_it_is():
    root = etree.fromstring(linear_process("plain"))
    assert dialects.translate(root, {"reviewer": "审核人员"}, dialects.DialectMapping(), lambda key: True) is None


def test_before_and_after_the_translation(runtime, corpus, later, capsys):
    """How many corpus models validate, and how many run end to end, without and with the translation."""
    models = sorted(path.name for path in corpus.glob("*.bpmn"))
    figures = {}
    for translating in (False, True):
        runtime.deployer.validator.translate_dialects = translating
        valid = ran = 0
        for model in models:
            if runtime.deployer.validate_files(files(corpus, model)):
                continue
            valid += 1
            try:
                deploy(runtime, corpus, model)
                results = [run(runtime, later, pid, data, answers, 100 + n)
                           for n, (pid, data, answers, _) in enumerate(SCENARIOS.get(model, []))]
            except Exception:  # noqa: BLE001 — a model that fails to run is what is being counted
                continue
            ran += bool(results) and all(status == "completed" for status, _ in results)
        figures[translating] = (valid, ran)
    with capsys.disabled():
        (valid_before, ran_before), (valid_after, ran_after) = figures[False], figures[True]
        print(f"\ndialect corpus ({len(models)} models): translation off — {valid_before} validate, {ran_before} run "
              f"end to end; on — {valid_after} validate, {ran_after} run end to end")
    assert figures[True][1] > figures[False][1]
    assert figures[True] == (len(SCENARIOS), len(SCENARIOS))
    assert json.loads((CORPUS / dialects.MAPPING_FILE).read_text(encoding="utf-8"))["defaultRole"] == "reviewer"
