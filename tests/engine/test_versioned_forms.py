"""Forms are versioned with the process that uses them: editing a form deploys version N+1, and a
case started on version N goes on rendering and validating with version N's form."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from engine.errors import InvalidData
from engine.models import HumanTask, TaskStatus
from services.bootstrap import Settings, bootstrap
from tests.bpmn_factory import linear_process
from tests.conftest import actor


def form(*choices: str) -> str:
    return json.dumps({"type": "default", "id": "versioned_choice", "components": [
        {"type": "radio", "key": "decision", "label": "结论", "validate": {"required": True},
         "values": [{"label": c, "value": c} for c in choices]}]}, ensure_ascii=False)


@pytest.fixture
def designer_runtime(runtime, tmp_path):
    """The test database seen by a deployment whose forms/ folder this test edits."""
    (tmp_path / "versioned_choice.json").write_text(form("approve", "reject"), encoding="utf-8")
    other = bootstrap(Settings(database_url=runtime.settings.database_url, forms_dir=tmp_path))
    yield other, tmp_path
    other.db.dispose()


def deploy_and_start(rt, key: str):
    with rt.unit_of_work() as uow:
        [result] = rt.deployer.deploy(uow.session, [(linear_process("versioned", form="versioned_choice"),
                                                     "versioned.bpmn")], "test")
        instance = rt.engine.start(uow, "versioned", business_key=key, region_code="110000", data={},
                                   actor=actor("reviewer"))
        uow.commit()
        task = uow.session.scalars(select(HumanTask).where(HumanTask.instance_id == instance.id,
                                                           HumanTask.status == TaskStatus.OPEN)).one()
    return result, task


def test_a_case_keeps_the_form_of_its_version(designer_runtime):
    rt, forms_dir = designer_runtime
    first, old_task = deploy_and_start(rt, "V-1")
    (forms_dir / "versioned_choice.json").write_text(form("approve", "reject", "return"), encoding="utf-8")
    second, new_task = deploy_and_start(rt, "V-2")
    assert (first.version + 1, second.created) == (second.version, True)  # the BPMN did not change, the form did
    with rt.unit_of_work() as uow:
        old_form = rt.engine.task_form(uow.session, old_task)
        new_form = rt.engine.task_form(uow.session, new_task)
    assert [f.options for f in old_form.fields] == [(("approve", "approve"), ("reject", "reject"))]
    assert ("return", "return") in new_form.fields[0].options
    with rt.unit_of_work() as uow, pytest.raises(InvalidData) as refused:
        rt.engine.complete_task(uow, old_task.id, actor("reviewer"), {"decision": "return"})
    assert "decision" in refused.value.fields
    with rt.unit_of_work() as uow:
        rt.engine.complete_task(uow, new_task.id, actor("reviewer"), {"decision": "return"})
        uow.commit()


def test_redeploying_the_same_process_and_forms_changes_nothing(designer_runtime):
    rt, _forms_dir = designer_runtime
    first, _ = deploy_and_start(rt, "V-3")
    again, _ = deploy_and_start(rt, "V-4")
    assert (again.version, again.created) == (first.version, False)
