"""Deploy versioning and validation of BPMN files."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from engine.actors import Actor
from engine.definitions import DefinitionInvalid, latest_definition
from engine.models import HumanTask, ProcessInstance
from tests.bpmn_factory import linear_process

STARTER = Actor("reviewer", frozenset({("reviewer", "110000")}))


def deploy(runtime, xml: bytes, name: str):
    with runtime.unit_of_work() as uow:
        results = runtime.deployer.deploy(uow.session, [(xml, name)], "designer")
        uow.commit()
        return results


def problems_of(runtime, xml: bytes, name: str = "bad.bpmn") -> list:
    with runtime.unit_of_work() as uow, pytest.raises(DefinitionInvalid) as invalid:
        runtime.deployer.deploy(uow.session, [(xml, name)], "designer")
    return invalid.value.problems


def test_identical_redeploy_is_noop_and_change_makes_new_version(runtime):
    v1 = linear_process("versioned", label="审核")
    assert [(r.version, r.created) for r in deploy(runtime, v1, "versioned.bpmn")] == [(1, True)]
    assert [(r.version, r.created) for r in deploy(runtime, v1, "versioned.bpmn")] == [(1, False)]
    with runtime.unit_of_work() as uow:
        old = runtime.engine.start(uow, "versioned", business_key="V-1", region_code="110101", data={}, actor=STARTER)
        uow.commit()
    assert [(r.version, r.created) for r in deploy(runtime, linear_process("versioned", label="新版审核"),
                                                   "versioned.bpmn")] == [(2, True)]
    with runtime.unit_of_work() as uow:
        new = runtime.engine.start(uow, "versioned", business_key="V-2", region_code="110101", data={}, actor=STARTER)
        uow.commit()
        labels = dict(uow.session.execute(select(HumanTask.business_key, HumanTask.label)).all())
        assert uow.session.get(ProcessInstance, old.id).process_version == 1
        assert uow.session.get(ProcessInstance, new.id).process_version == 2
    assert labels == {"V-1": "审核", "V-2": "新版审核"}
    with runtime.unit_of_work() as uow:  # the old instance still completes on its own version
        task = uow.session.scalars(select(HumanTask).where(HumanTask.business_key == "V-1")).one()
        assert runtime.engine.complete_task(uow, task.id, STARTER, {"decision": "approve"}).status == "completed"


def test_changed_called_process_gives_callers_a_new_version(runtime):
    with runtime.unit_of_work() as uow:
        before = latest_definition(uow.session, "first_declaration_review").version
    folder = Path(runtime.settings.processes_dir) / "special_work"
    flow = (folder / "declaration_review_flow.bpmn").read_text(encoding="utf-8")
    changed = flow.replace('name="初审"', 'name="初审（新）"').encode()
    caller = (folder / "first_declaration_review.bpmn").read_bytes()
    with runtime.unit_of_work() as uow:
        results = {r.key: r for r in runtime.deployer.deploy(
            uow.session, [(changed, "declaration_review_flow.bpmn"), (caller, "first_declaration_review.bpmn")], "t")}
        # do not commit: keep the shared reference data as it was for other tests
    assert results["declaration_review_flow"].created
    assert results["first_declaration_review"].created and results["first_declaration_review"].version == before + 1


def test_every_problem_is_reported_with_element_id(runtime):
    xml = linear_process("many_problems", lane="nobody", form="no_such_form").replace(
        b'<bpmn:endEvent id="end" />',
        b'<bpmn:serviceTask id="svc"><bpmn:extensionElements><spiffworkflow:serviceTaskOperator id="no.such" />'
        b'</bpmn:extensionElements></bpmn:serviceTask><bpmn:endEvent id="end" />'
        b'<bpmn:exclusiveGateway id="gw" /><bpmn:sequenceFlow id="cond" sourceRef="gw" targetRef="end">'
        b'<bpmn:conditionExpression>decision ==</bpmn:conditionExpression></bpmn:sequenceFlow>')
    found = {(p.element_id, p.message.split("（")[0].split(" ")[0]) for p in problems_of(runtime, xml)}
    ids = {element for element, _ in found}
    assert {"lane1", "task", "svc", "cond"} <= ids
    messages = " ".join(p.message for p in problems_of(runtime, xml))
    assert "nobody" in messages and "no_such_form" in messages and "no.such" in messages and "条件" in messages


def test_xml_entity_is_refused(runtime):
    xml = b"""<?xml version="1.0"?><!DOCTYPE d [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"><bpmn:process id="p">&xxe;</bpmn:process>
</bpmn:definitions>"""
    problems = problems_of(runtime, xml)
    assert len(problems) == 1 and "DOCTYPE" in problems[0].message


def test_malformed_xml_reports_line(runtime):
    problems = problems_of(runtime, b"<bpmn:definitions>\n<unclosed>")
    assert "XML 格式错误" in problems[0].message and "第" in problems[0].message


def test_unknown_called_process_is_reported(runtime):
    xml = linear_process("caller_of_nothing").replace(
        b'<bpmn:endEvent id="end" />',
        b'<bpmn:endEvent id="end" /><bpmn:callActivity id="call" calledElement="ghost" />')
    assert any(p.element_id == "ghost" for p in problems_of(runtime, xml))


def test_cli_validate_exit_codes(tmp_path):
    bad = tmp_path / "bad.bpmn"
    bad.write_bytes(linear_process("cli_bad", lane="nobody"))
    env_db = f"sqlite:///{tmp_path / 'cli.db'}"
    banjian = [sys.executable, "-c", "from web.cli import main; main()"]
    import os

    env = {**os.environ, "BANJIAN_DATABASE_URL": env_db}
    unmigrated = subprocess.run([*banjian, "validate", "processes"], env=env, capture_output=True, text=True,
                                cwd=Path(__file__).resolve().parents[2])
    assert unmigrated.returncode == 0, unmigrated.stderr  # validating needs no database
    subprocess.run([*banjian, "db-upgrade"], env=env, check=True, capture_output=True)
    good = subprocess.run([*banjian, "validate", "processes"], env=env, capture_output=True, text=True,
                          cwd=Path(__file__).resolve().parents[2])
    assert good.returncode == 0, good.stderr
    failed = subprocess.run([*banjian, "validate", str(bad)], env=env, capture_output=True, text=True)
    assert failed.returncode == 1
    assert "bad.bpmn [lane1]" in failed.stderr and "nobody" in failed.stderr
