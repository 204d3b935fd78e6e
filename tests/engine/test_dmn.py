"""DMN decision tables deploy beside BPMN files; a business rule task evaluates them."""
from __future__ import annotations

from engine.actors import Actor
from tests.bpmn_factory import linear_process

STARTER = Actor("reviewer", frozenset({("reviewer", "110000")}))
RULE_TASK = ('<bpmn:businessRuleTask id="mid" name="分级"><bpmn:extensionElements>'
             '<spiffworkflow:calledDecisionId>route_level</spiffworkflow:calledDecisionId>'
             '</bpmn:extensionElements></bpmn:businessRuleTask>')


def dmn(threshold: int) -> bytes:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="route_defs" name="分级规则"
             namespace="http://t">
  <decision id="route_level" name="按人数分级">
    <decisionTable id="table">
      <input id="in1" label="人数">
        <inputExpression id="ie1" typeRef="integer"><text>person_count</text></inputExpression></input>
      <output id="out1" label="级别" name="level" typeRef="string" />
      <rule id="r1"><inputEntry id="e1"><text>&lt; {threshold}</text></inputEntry>
        <outputEntry id="o1"><text>'county'</text></outputEntry></rule>
      <rule id="r2"><inputEntry id="e2"><text>&gt;= {threshold}</text></inputEntry>
        <outputEntry id="o2"><text>'city'</text></outputEntry></rule>
    </decisionTable>
  </decision>
</definitions>""".encode()


def start(runtime, count: int) -> dict:
    with runtime.unit_of_work() as uow:
        instance = runtime.engine.start(uow, "routed", business_key=f"R-{count}", region_code="110101",
                                        data={"person_count": count}, actor=STARTER)
        uow.commit()
    from sqlalchemy import select

    from engine.models import HumanTask

    with runtime.unit_of_work() as uow:
        task_id = uow.session.scalars(select(HumanTask.id).where(HumanTask.instance_id == instance.id)).one()
        return runtime.engine.task_data(uow.session, task_id)


def test_decision_table_drives_data_and_redeploys_as_new_version(runtime):
    bpmn = linear_process("routed", RULE_TASK)
    with runtime.unit_of_work() as uow:
        results = {r.key: r.version for r in runtime.deployer.deploy(
            uow.session, [(dmn(10), "route_level.dmn"), (bpmn, "routed.bpmn")], "designer")}
        uow.commit()
    assert set(results) == {"route_level", "routed"}
    assert start(runtime, 3)["level"] == "county"
    assert start(runtime, 30)["level"] == "city"

    with runtime.unit_of_work() as uow:  # an official raises the threshold: only the table changes
        results = {r.key: (r.version, r.created) for r in runtime.deployer.deploy(
            uow.session, [(dmn(50), "route_level.dmn"), (bpmn, "routed.bpmn")], "designer")}
        uow.commit()
    assert results["route_level"][1] and results["routed"][1]  # the caller is re-pinned as a new version
    assert start(runtime, 30)["level"] == "county"


def test_decision_table_cannot_be_started(runtime):
    import pytest

    from engine.errors import NotFound

    with runtime.unit_of_work() as uow:
        runtime.deployer.deploy(uow.session, [(dmn(10), "route_level.dmn")], "designer")
        with pytest.raises(NotFound):
            runtime.engine.start(uow, "route_level", business_key="X", region_code="110101", data={}, actor=STARTER)


def test_missing_decision_is_reported(runtime):
    import pytest

    from engine.definitions import DefinitionInvalid

    xml = linear_process("routed_nowhere", RULE_TASK.replace("route_level", "no_table"))
    with runtime.unit_of_work() as uow, pytest.raises(DefinitionInvalid) as invalid:
        runtime.deployer.deploy(uow.session, [(xml, "routed_nowhere.bpmn")], "designer")
    assert any("no_table" in p.element_id or "no_table" in p.message for p in invalid.value.problems)


def test_a_caller_deploys_together_with_a_called_process_that_uses_a_table(runtime):
    from tests.engine.test_models_from_elsewhere import caller

    called = linear_process("routed_inner", RULE_TASK)
    with runtime.unit_of_work() as uow:
        results = {r.key for r in runtime.deployer.deploy(uow.session, [
            (caller("routed_outer", "routed_inner"), "routed_outer.bpmn"), (called, "routed_inner.bpmn"),
            (dmn(10), "route_level.dmn")], "designer") if not r.repinned}  # not the other callers of the table
        uow.commit()
    assert results == {"routed_outer", "routed_inner", "route_level"}
    with runtime.unit_of_work() as uow:
        case = runtime.engine.start(uow, "routed_outer", business_key="R-OUT", region_code="110101",
                                    data={"person_count": 3}, actor=STARTER)
        uow.commit()
    assert case.status == "waiting"
