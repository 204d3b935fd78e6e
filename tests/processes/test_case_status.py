"""办件状态 set by BPMN (caseStatus on steps and end events), for the certificate request (a process
that is data only) and the declaration review; 终止 sets it too; the API gives it as ``lifecycle``."""
from __future__ import annotations

import pytest

from engine import lifecycle
from engine.db import utcnow
from engine.models import ProcessInstance
from services.platform import my_cases, supervision
from tests.conftest import actor, person
from tests.services.review_helpers import complete, submit

REQUEST = {"name": "王井下", "id_number": "110101196805019011", "purpose": "办理提前退休"}


def case_status(runtime, instance_id) -> str:
    with runtime.unit_of_work() as uow:
        return uow.session.get(ProcessInstance, instance_id).case_status


def request_certificate(runtime) -> int:
    with runtime.unit_of_work() as uow:
        instance = my_cases.start_case(uow, runtime.engine, actor("enterprise"), "110101", "work_history_certificate",
                                       REQUEST, utcnow())
        uow.commit()
        return instance.id


def test_each_step_that_declares_a_status_sets_it(runtime):
    instance_id = request_certificate(runtime)
    assert case_status(runtime, instance_id) == "received"
    complete(runtime, instance_id, "clerk", {"decision": "approve"})
    assert case_status(runtime, instance_id) == "accepted"
    complete(runtime, instance_id, "approver", {"decision": "reject", "conclusion": "无相关从业记录"})
    assert case_status(runtime, instance_id) == "closed_rejected"
    assert lifecycle.label("closed_rejected") == "办结（不通过）"


def test_a_refusal_at_acceptance_and_a_termination(runtime):
    refused = request_certificate(runtime)
    complete(runtime, refused, "clerk", {"decision": "reject", "conclusion": "非本单位职工"})
    assert case_status(runtime, refused) == "refused"
    terminated = request_certificate(runtime)
    with runtime.unit_of_work() as uow:
        supervision.terminate_case(uow, runtime.engine, actor("supervisor"), terminated, "重复申请")
        uow.commit()
    assert case_status(runtime, terminated) == "terminated"


def test_a_declaration_is_accepted_on_submission_clocked_and_closes_through_the_flow_it_calls(runtime):
    _, instance_id = submit(runtime, [person(1)])
    assert case_status(runtime, instance_id) == "accepted"  # an online declaration: 受理 on submission
    with runtime.unit_of_work() as uow:
        instance = uow.session.get(ProcessInstance, instance_id)
        assert instance.clock_state == "running" and instance.statutory_due_at is not None  # 40 working days
    complete(runtime, instance_id, "reviewer", {"decision": "approve"})
    assert case_status(runtime, instance_id) == "accepted"
    complete(runtime, instance_id, "rechecker", {"decision": "approve"})
    assert case_status(runtime, instance_id) == "closed_approved"


def test_the_api_gives_the_lifecycle(runtime, client, login):
    instance_id = request_certificate(runtime)
    body = client.get(f"/api/instances/{instance_id}", headers=login("enterprise")).json
    assert body["lifecycle"] == {"status": "received", "status_label": "接件", "clock": None}
    assert body["business_key"].startswith("ZM110101")


def test_a_status_that_is_not_in_the_table_is_refused_at_deploy(runtime):
    from engine.definitions import DefinitionInvalid
    from tests.bpmn_factory import linear_process

    xml = linear_process("bad_status", extra_props='<spiffworkflow:property name="caseStatus" value="done" />')
    with runtime.unit_of_work() as uow, pytest.raises(DefinitionInvalid) as refused:
        runtime.deployer.deploy(uow.session, [(xml, "bad_status.bpmn")], "test")
    assert [(p.element_id, "caseStatus done" in p.message) for p in refused.value.problems] == [("task", True)]
