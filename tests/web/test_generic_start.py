"""The generic start (``POST /api/instances``) trusts nothing the caller sends: who may start is the
process's ``startableBy``, what enters the case is exactly what its start form accepts, and a
process whose start needs domain objects (a declaration batch) cannot be started through it."""
from __future__ import annotations

from sqlalchemy import func, select

from engine.models import ProcessInstance
from services.special_work.models import DeclarationBatch
from tests.bpmn_factory import linear_process
from tests.web.conftest import submit

START_FORM = '<bpmn:startEvent id="start"><bpmn:extensionElements><spiffworkflow:properties>' \
             '<spiffworkflow:property name="formKey" value="early_retirement_approval" />' \
             '</spiffworkflow:properties></bpmn:extensionElements></bpmn:startEvent>'


def deploy(runtime, pid: str, xml: bytes) -> None:
    with runtime.unit_of_work() as uow:
        runtime.deployer.deploy(uow.session, [(xml, f"{pid}.bpmn")], "test")
        uow.commit()


def cases_of(runtime, process_key: str) -> int:
    with runtime.unit_of_work() as uow:
        return uow.session.scalar(select(func.count()).select_from(ProcessInstance)
                                  .where(ProcessInstance.process_key == process_key))


def test_a_forged_declaration_case_cannot_be_started(runtime, client, bearer):
    """The attack of issue 12: an enterprise user starts the declaration review with another
    enterprise's (another region's) batch id, its own batch that has a case, or an id that does not
    exist. Every attempt is refused and no case is created."""
    foreign = submit(runtime, enterprise="120101000003", submitter="tj_enterprise")
    own = submit(runtime)
    before = cases_of(runtime, "first_declaration_review")
    for batch_id in (foreign.batch_id, own.batch_id, 999_999):
        answer = client.post("/api/instances", headers=bearer("enterprise"), json={
            "process_key": "first_declaration_review", "business_key": "FORGED", "data": {"batch_id": batch_id}})
        assert answer.status_code == 403, answer.json
        assert "无权" in answer.json["message"]
    assert cases_of(runtime, "first_declaration_review") == before
    with runtime.unit_of_work() as uow:
        assert uow.session.get(DeclarationBatch, foreign.batch_id).instance_id == foreign.instance_id


def test_a_case_started_with_another_case_s_batch_stops_before_touching_it(runtime):
    """Even a trusted start (a use case, a script's variables) that names a batch which is not the
    case's own — the batch number is not the case's business key — becomes an incident at its first
    service task, and the batch is left as it was."""
    from engine.models import Incident
    from tests.conftest import actor

    victim = submit(runtime)
    with runtime.unit_of_work() as uow:
        before = uow.session.get(DeclarationBatch, victim.batch_id).status
        instance = runtime.engine.start(uow, "first_declaration_review", business_key="FORGED", region_code="110101",
                                        data={"batch_id": victim.batch_id}, actor=actor("enterprise"))
        uow.commit()
    with runtime.unit_of_work() as uow:
        message = uow.session.scalars(select(Incident.message).where(Incident.instance_id == instance.id)).one()
        batch = uow.session.get(DeclarationBatch, victim.batch_id)
        assert (batch.status, batch.instance_id) == (before, victim.instance_id)
    assert instance.status == "error"
    assert "不是本办件的批次" in message


def test_a_process_without_a_start_form_starts_with_no_data(runtime, client, bearer):
    deploy(runtime, "no_form", linear_process("no_form"))
    headers = bearer("reviewer")
    smuggled = client.post("/api/instances", headers=headers, json={
        "process_key": "no_form", "business_key": "NF-1", "data": {"batch_id": 1}})
    assert smuggled.status_code == 400
    assert smuggled.json["fields"] == {"data": ["此流程发起时不接受数据"]}
    assert cases_of(runtime, "no_form") == 0
    plain = client.post("/api/instances", headers=headers, json={"process_key": "no_form", "business_key": "NF-2"})
    assert plain.status_code == 201 and plain.json["status"] == "waiting"


def test_start_data_is_what_the_start_form_accepts_and_nothing_more(runtime, client, bearer):
    deploy(runtime, "with_form", linear_process("with_form").replace(b'<bpmn:startEvent id="start" />',
                                                                         START_FORM.encode()))
    headers = bearer("reviewer")
    missing = client.post("/api/instances", headers=headers, json={
        "process_key": "with_form", "business_key": "WF-1", "data": {"decision": "reject"}})
    assert missing.status_code == 400
    assert missing.json["fields"] == {"conclusion": ["请填写“审批意见”"]}
    wrong = client.post("/api/instances", headers=headers, json={
        "process_key": "with_form", "business_key": "WF-2", "data": {"decision": "maybe"}})
    assert wrong.status_code == 400 and "decision" in wrong.json["fields"]
    started = client.post("/api/instances", headers=headers, json={
        "process_key": "with_form", "business_key": "WF-3",
        "data": {"decision": "approve", "batch_id": 7, "registration_id": 3}})
    assert started.status_code == 201, started.json
    with runtime.unit_of_work() as uow:
        instance = uow.session.get(ProcessInstance, started.json["id"])
        data = runtime.engine.instance_data(uow.session, instance)
    assert data["decision"] == "approve"
    assert "batch_id" not in data and "registration_id" not in data


def test_who_may_start_is_checked_for_the_region_of_the_case(runtime, client, bearer):
    deploy(runtime, "regional", linear_process("regional", starters="reviewer"))
    body = {"process_key": "regional", "business_key": "R-1"}
    assert client.post("/api/instances", headers=bearer("reviewer"), json={**body, "region_code": "110101"}
                       ).status_code == 201
    assert client.post("/api/instances", headers=bearer("reviewer"), json={**body, "region_code": "120000"}
                       ).status_code == 403
    assert client.post("/api/instances", headers=bearer("tj_reviewer"), json={**body, "region_code": "110101"}
                       ).status_code == 403
    assert client.post("/api/instances", headers=bearer("supervisor"), json=body).status_code == 403


def test_a_start_form_that_does_not_exist_is_refused_at_deploy(runtime):
    from engine.definitions import DefinitionInvalid

    xml = linear_process("bad_form").replace(b'<bpmn:startEvent id="start" />',
                                             START_FORM.replace("early_retirement_approval", "no_such").encode())
    with runtime.unit_of_work() as uow:
        try:
            runtime.deployer.deploy(uow.session, [(xml, "bad_form.bpmn")], "test")
        except DefinitionInvalid as invalid:
            assert [(p.element_id, "发起表单" in p.message) for p in invalid.problems] == [("start", True)]
        else:
            raise AssertionError("deployed a process whose start form does not exist")


def _designer_process(pid: str, operator: str, params: str, called: str = "") -> bytes:
    """A designer's own process, startable by designers: its first step is a service task with the
    given operator and parameters (or a call activity of ``called``)."""
    step = (f'<bpmn:callActivity id="mid" calledElement="{called}" />' if called else
            f'<bpmn:serviceTask id="mid"><bpmn:extensionElements><spiffworkflow:serviceTaskOperator id="{operator}"'
            f' resultVariable="result"><spiffworkflow:parameters>{params}</spiffworkflow:parameters>'
            '</spiffworkflow:serviceTaskOperator></bpmn:extensionElements></bpmn:serviceTask>')
    return linear_process(pid, step, starters="designer")


def test_a_designer_s_process_cannot_act_on_a_batch_by_naming_its_number(runtime, client, bearer):
    """The generic start lets its caller choose the business key. A designer deploys a process that
    calls ``declaration.mark`` on another region's batch and starts it with that batch's number as
    business key: the operator must see that the batch belongs to another case, and leave it alone."""
    from engine.models import Incident

    victim = submit(runtime, enterprise="120101000003", submitter="tj_enterprise")
    with runtime.unit_of_work() as uow:
        before = uow.session.get(DeclarationBatch, victim.batch_id).status
    params = (f'<spiffworkflow:parameter id="batch_id" type="int" value="{victim.batch_id}" />'
              "<spiffworkflow:parameter id=\"status\" type=\"str\" value=\"'approved'\" />")
    deploy(runtime, "designer_mark", _designer_process("designer_mark", "declaration.mark", params))
    answer = client.post("/api/instances", headers=bearer("designer"), json={
        "process_key": "designer_mark", "business_key": victim.batch_no})
    assert answer.status_code == 201, answer.json
    assert answer.json["status"] == "error"
    with runtime.unit_of_work() as uow:
        assert uow.session.get(DeclarationBatch, victim.batch_id).status == before
        incident = uow.session.scalars(select(Incident).where(Incident.instance_id == answer.json["id"])).one()
    assert "不是本办件的批次" in incident.message


def test_a_registration_is_not_reached_by_naming_its_business_key(runtime, client, bearer):
    from services.special_work.models import EarlyRetirement
    from tests.processes.test_early_retirement import eligible_miner, register_retirement

    registration_id, _instance_id = register_retirement(runtime, eligible_miner(runtime, 7))
    with runtime.unit_of_work() as uow:
        registration = uow.session.get(EarlyRetirement, registration_id)
        before, key = registration.status, f"TX{registration_id:08d}"
    params = (f'<spiffworkflow:parameter id="registration_id" type="int" value="{registration_id}" />'
              "<spiffworkflow:parameter id=\"decision\" type=\"str\" value=\"'approve'\" />"
              '<spiffworkflow:parameter id="conclusion" type="str" value="None" />')
    deploy(runtime, "designer_retire", _designer_process("designer_retire", "early_retirement.decide", params))
    answer = client.post("/api/instances", headers=bearer("designer"), json={
        "process_key": "designer_retire", "business_key": key})
    assert answer.json["status"] == "error"
    with runtime.unit_of_work() as uow:
        assert uow.session.get(EarlyRetirement, registration_id).status == before


def test_a_startable_process_cannot_call_one_its_starters_could_not_start(runtime):
    """A call activity runs the called process inside the caller's case: a process that designers (or
    enterprises) may start must not call the declaration review, which only its use case starts."""
    from engine.definitions import DefinitionInvalid

    xml = _designer_process("designer_calls_review", "", "", called="first_declaration_review")
    with runtime.unit_of_work() as uow:
        try:
            runtime.deployer.deploy(uow.session, [(xml, "designer_calls_review.bpmn")], "test")
        except DefinitionInvalid as invalid:
            messages = [p.message for p in invalid.problems]
        else:
            messages = []
    assert any("调用的流程 first_declaration_review 不能由其发起" in m for m in messages), messages
    assert cases_of(runtime, "designer_calls_review") == 0


def test_a_startable_process_may_call_one_its_starters_may_start(runtime, client, bearer):
    deploy(runtime, "designer_sub", linear_process("designer_sub", starters="designer,reviewer"))
    deploy(runtime, "designer_caller", _designer_process("designer_caller", "", "", called="designer_sub"))
    answer = client.post("/api/instances", headers=bearer("designer"), json={
        "process_key": "designer_caller", "business_key": "CALL-1"})
    assert answer.status_code == 201, answer.json
