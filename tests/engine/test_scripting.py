"""Script tasks and conditions run restricted; a violation or a runaway script becomes an incident."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from engine.actors import Actor
from engine.models import HumanTask, Incident, InstanceStatus
from engine.scripting import RestrictedEnvironment, ScriptRejected, check_source
from tests.bpmn_factory import linear_process, script_task

STARTER = Actor("reviewer", frozenset({("reviewer", "110000")}))


def deploy_and_start(runtime, pid: str, script: str):
    with runtime.unit_of_work() as uow:
        runtime.deployer.deploy(uow.session, [(linear_process(pid, script_task(script)), f"{pid}.bpmn")], "test")
        instance = runtime.engine.start(uow, pid, business_key=f"BK-{pid}", region_code="110101", data={"n": 3},
                                        actor=STARTER)
        uow.commit()
        incidents = uow.session.scalars(select(Incident).where(Incident.instance_id == instance.id)).all()
        tasks = uow.session.scalars(select(HumanTask).where(HumanTask.instance_id == instance.id)).all()
        return instance, incidents, tasks


def test_allowed_script_runs_and_sets_data(runtime):
    instance, incidents, tasks = deploy_and_start(runtime, "script_ok", "total = sum(range(n)) * 2\nlabel = str(total)")
    assert instance.status == InstanceStatus.WAITING and incidents == [] and len(tasks) == 1
    with runtime.unit_of_work() as uow:
        data = runtime.engine.task_data(uow.session, tasks[0].id)
    assert data["total"] == 6 and data["label"] == "6"


def test_import_attempt_is_refused_at_deploy(runtime):
    from engine.definitions import DefinitionInvalid

    with runtime.unit_of_work() as uow, pytest.raises(DefinitionInvalid) as invalid:
        runtime.deployer.deploy(uow.session, [(linear_process("script_import", script_task(
            "os = __import__('os')\nos.system('touch /tmp/pwned')")), "script_import.bpmn")], "test")
    assert any(p.element_id == "mid" and "__import__" in p.message for p in invalid.value.problems)


def test_dunder_escape_at_runtime_becomes_incident(runtime, monkeypatch):
    """Even if a script slipped past deploy-time validation, the runtime check stops it."""
    import engine.definitions as definitions

    monkeypatch.setattr(definitions.DefinitionValidator, "_check_code", staticmethod(lambda *a: []))
    instance, incidents, tasks = deploy_and_start(
        runtime, "script_dunder", "x = ().__class__.__bases__[0].__subclasses__()")
    assert instance.status == InstanceStatus.ERROR
    assert tasks == []
    assert len(incidents) == 1 and incidents[0].task_name == "mid"
    assert "不允许访问属性" in incidents[0].message


def test_import_statement_at_runtime_becomes_incident(runtime, monkeypatch):
    import engine.definitions as definitions

    monkeypatch.setattr(definitions.DefinitionValidator, "_check_code", staticmethod(lambda *a: []))
    instance, incidents, _ = deploy_and_start(runtime, "script_import_rt", "import os\nos.getcwd()")
    assert instance.status == InstanceStatus.ERROR
    assert "import" in incidents[0].message


def test_endless_loop_is_stopped_and_becomes_incident(runtime):
    instance, incidents, tasks = deploy_and_start(runtime, "script_loop", "x = 0\nwhile True:\n    x = x + 1")
    assert instance.status == InstanceStatus.ERROR and tasks == []
    assert "超过" in incidents[0].message  # the time limit message


@pytest.mark.parametrize("source", [
    "open('/etc/passwd').read()",
    "getattr(1, 'real')",
    "eval('1')",
    "(lambda: 1).__globals__",
    "from os import path",
])
def test_check_source_rejects(source):
    with pytest.raises(ScriptRejected):
        check_source(source)


def test_builtins_are_whitelisted():
    env = RestrictedEnvironment(time_limit=0.5)
    with pytest.raises(NameError):
        env.evaluate("print", {})
    assert env.evaluate("max(a, 2)", {"a": 5}) == 5


def test_huge_range_is_refused():
    env = RestrictedEnvironment(time_limit=0.5)
    with pytest.raises(ScriptRejected):
        env.execute("s = sum(range(10 ** 12))", {})
