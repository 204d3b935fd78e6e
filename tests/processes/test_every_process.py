"""Guard rails over every process under processes/, whatever system it belongs to: it validates,
every operator it names is registered (with an example of its result), every form it names exists,
and its happy path — every step approved, every operator answering with its declared example —
runs from start to end. A new system's processes are checked by adding them, with no new test."""
from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import pytest
from lxml import etree
from sqlalchemy import select

from engine.actors import Actor
from engine.definitions import NS, files_under
from engine.forms import FormDefinition
from engine.models import HumanTask, InstanceStatus, TaskStatus
from engine.operators import OperatorRegistry

ROOT = Path(__file__).resolve().parents[2]
FILES = sorted((ROOT / "processes").rglob("*.bpmn"))
PROCESSES = [(path, pid) for path in FILES
             for pid in etree.parse(str(path)).xpath("//bpmn:process[@isExecutable='true']/@id", namespaces=NS)]
IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
COMPARISON = re.compile(r"\b([A-Za-z_][A-Za-z0-9_]*)\s*(?:==|!=|in\s*\()\s*'([^']*)'")
MAX_STEPS = 30


def ids(case):
    path, pid = case
    return f"{path.parent.name}/{pid}"


def test_every_process_file_validates_together(runtime):
    assert FILES, "no process under processes/"
    assert runtime.deployer.validate_files(files_under([ROOT / "processes"])) == []


@pytest.mark.parametrize("case", PROCESSES, ids=ids)
def test_operators_and_forms_it_names_exist(runtime, case):
    path, pid = case
    root = etree.parse(str(path))
    process = root.xpath(f"//bpmn:process[@id='{pid}']", namespaces=NS)[0]
    for name in process.xpath(".//spiffworkflow:serviceTaskOperator/@id", namespaces=NS):
        assert name in runtime.engine.operators, f"{pid}: operator {name} is not registered"
        assert runtime.engine.operators.example(name) is not None, f"{pid}: operator {name} declares no example"
    for key in process.xpath(".//spiffworkflow:property[@name='formKey']/@value", namespaces=NS):
        assert runtime.engine.forms.exists(key), f"{pid}: form {key} does not exist"


def happy_value(field: Any) -> Any:
    """What a reviewer who approves fills into a field."""
    component = field.component
    choices = [str(v.get("value")) for v in component.get("values", []) if isinstance(v, dict)]
    if field.type in ("radio", "select"):
        if not choices:  # options of the case (valuesKey): its first
            return "1"
        return "approve" if "approve" in choices else choices[0]
    if field.type in ("checklist", "taglist", "filepicker"):
        return []
    if field.type == "checkbox":
        return True
    if field.type == "number":
        return component.get("validate", {}).get("min", 1)
    if field.type == "datetime":
        return "2026-01-05"
    return "同意"


def happy_data(form: FormDefinition | None) -> dict[str, Any]:
    return {field.key: happy_value(field) for field in form.fields} if form else {}


def start_data(path: Path) -> dict[str, Any]:
    """What a use case would hand the process at its start: every plain name a service task passes
    that no form and no earlier result provides (a batch id …), as 1, and every name a gateway
    compares with a text (``via in ('transfer', 'assign')``: how a case came to be started) as the first
    text it is compared with — over the files of its system, since the processes it calls are among them. A
    form's field of the same name replaces it when its step is done."""
    names: set[str] = set()
    produced: set[str] = set()
    compared: dict[str, str] = {}
    for other in sorted(path.parent.glob("*.bpmn")):
        root = etree.parse(str(other))
        names |= {v for v in root.xpath("//spiffworkflow:parameter/@value", namespaces=NS) if IDENTIFIER.fullmatch(v)}
        produced |= set(root.xpath("//spiffworkflow:serviceTaskOperator/@resultVariable", namespaces=NS))
        for condition in root.xpath("//bpmn:conditionExpression/text()", namespaces=NS):
            for name, text in COMPARISON.findall(str(condition)):
                compared.setdefault(name, text)
    return {**{name: text for name, text in compared.items() if name not in produced},
            **{name: 1 for name in names - produced}}


@pytest.fixture
def faked_operators(runtime):
    """The engine's operators replaced by fakes that answer with each operator's example, and no
    module's task checks (they judge domain objects the happy path does not create)."""
    real, checks = runtime.engine.operators, runtime.engine.task_checks
    runtime.engine.task_checks = []
    fakes = OperatorRegistry()
    for name in real.names():
        fakes.register(name, lambda _ctx, _name=name, **_params: copy.deepcopy(real.example(_name)),
                       example=real.example(name))
    runtime.engine.operators = fakes
    yield
    runtime.engine.operators, runtime.engine.task_checks = real, checks


@pytest.mark.parametrize("case", PROCESSES, ids=ids)
def test_its_happy_path_runs_to_the_end_with_operators_faked(runtime, faked_operators, case):
    path, pid = case
    starter = Actor("happy_path", frozenset())
    with runtime.unit_of_work() as uow:
        deployed = runtime.engine.specs.get(uow.session, _latest_id(uow.session, pid))
        data = {**start_data(path), **happy_data(runtime.engine.start_form(deployed))}
        instance = runtime.engine.start(uow, pid, business_key=f"HAPPY-{pid}", region_code="110101", data=data,
                                        actor=starter)
        uow.commit()
    for _ in range(MAX_STEPS):
        with runtime.unit_of_work() as uow:
            task = uow.session.scalars(select(HumanTask).where(HumanTask.instance_id == instance.id,
                                                               HumanTask.status == TaskStatus.OPEN)).first()
            if task is None:
                break
            form = runtime.engine.task_form(uow.session, task)
            # one person per role (a step may exclude whoever took an earlier one: notCompletedBy)
            # (a step its process assigns to a named person — assignee — is that person's)
            reviewer = Actor(task.assignee or f"happy_{task.lane}", frozenset({(task.lane, task.region_code)}))
            instance = runtime.engine.complete_task(uow, task.id, reviewer, happy_data(form))
            uow.commit()
    assert instance.status == InstanceStatus.COMPLETED, f"{pid} ended {instance.status}"


def _latest_id(session, pid: str) -> int:
    from engine.definitions import latest_definition

    definition = latest_definition(session, pid)
    assert definition is not None, f"{pid} is not deployed"
    return definition.id
