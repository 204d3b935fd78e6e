"""A new business process is data: a BPMN with a start form and two user tasks, and its forms, in
a folder of their own — no Python. Deployed, it runs through the pages as its users would run it:
the applicant starts it from 发起办件, the reviewers find it in their inboxes and decide it, the
office reads it on the case page and the applicant follows it in 我的办件."""
from __future__ import annotations

import json
import re

import pytest

from engine.definitions import files_under
from services.bootstrap import Settings, bootstrap
from tests.conftest import TEST_SIGNIN_LIMITS
from tests.web.conftest import Browser

PROCESS = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="defs_venue" targetNamespace="http://test">
  <bpmn:process id="venue_booking" name="公共场地使用申请" isExecutable="true">
    <bpmn:extensionElements><spiffworkflow:properties>
      <spiffworkflow:property name="startableBy" value="enterprise" />
      <spiffworkflow:property name="caseTitle" value="{venue}（{attendees} 人）" />
      <spiffworkflow:property name="summaryFields" value="purpose" />
      <spiffworkflow:property name="businessKeyPattern" value="CD-{region}-{date}-{seq:4}" />
    </spiffworkflow:properties></bpmn:extensionElements>
    <bpmn:laneSet id="lanes">
      <bpmn:lane id="lane_reviewer" name="reviewer">
        <bpmn:flowNodeRef>start</bpmn:flowNodeRef><bpmn:flowNodeRef>accept</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>accepted</bpmn:flowNodeRef><bpmn:flowNodeRef>end_refused</bpmn:flowNodeRef>
      </bpmn:lane>
      <bpmn:lane id="lane_rechecker" name="rechecker">
        <bpmn:flowNodeRef>approve</bpmn:flowNodeRef><bpmn:flowNodeRef>end_done</bpmn:flowNodeRef>
      </bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="start" name="提交申请">
      <bpmn:extensionElements><spiffworkflow:properties>
        <spiffworkflow:property name="formKey" value="venue_request" />
      </spiffworkflow:properties></bpmn:extensionElements>
    </bpmn:startEvent>
    <bpmn:userTask id="accept" name="受理">
      <bpmn:extensionElements><spiffworkflow:properties>
        <spiffworkflow:property name="formKey" value="venue_decision" />
        <spiffworkflow:property name="dueIn" value="3 working days" />
      </spiffworkflow:properties></bpmn:extensionElements>
    </bpmn:userTask>
    <bpmn:exclusiveGateway id="accepted" name="是否受理" default="to_approve" />
    <bpmn:userTask id="approve" name="审批">
      <bpmn:extensionElements><spiffworkflow:properties>
        <spiffworkflow:property name="formKey" value="venue_decision" />
      </spiffworkflow:properties></bpmn:extensionElements>
    </bpmn:userTask>
    <bpmn:endEvent id="end_refused" name="不予受理" />
    <bpmn:endEvent id="end_done" name="办结" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="accept" />
    <bpmn:sequenceFlow id="f2" sourceRef="accept" targetRef="accepted" />
    <bpmn:sequenceFlow id="to_refused" sourceRef="accepted" targetRef="end_refused">
      <bpmn:conditionExpression>decision == 'reject'</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="to_approve" sourceRef="accepted" targetRef="approve" />
    <bpmn:sequenceFlow id="f3" sourceRef="approve" targetRef="end_done" />
  </bpmn:process>
</bpmn:definitions>
"""
REQUEST_FORM = {"type": "default", "id": "venue_request", "title": "场地使用申请", "components": [
    {"type": "textfield", "key": "venue", "label": "场地名称", "validate": {"required": True, "maxLength": 50}},
    {"type": "number", "key": "attendees", "label": "参加人数", "validate": {"required": True, "min": 1, "max": 500}},
    {"type": "textarea", "key": "purpose", "label": "使用事由", "validate": {"required": True, "maxLength": 200}}]}
DECISION_FORM = {"type": "default", "id": "venue_decision", "title": "场地申请办理", "components": [
    {"type": "radio", "key": "decision", "label": "办理结论", "validate": {"required": True},
     "values": [{"label": "通过", "value": "approve"}, {"label": "不通过", "value": "reject"}]},
    {"type": "textarea", "key": "conclusion", "label": "办理意见", "validate": {"maxLength": 500},
     "properties": {"requiredWhen": "decision=reject"}}]}
TASK_LINK = re.compile(r'/tasks/([0-9a-f-]{36})')


@pytest.fixture
def venue_app(runtime, tmp_path):
    """The application over the test database with the new process's own processes and forms folders,
    deployed the way ``banjian deploy`` deploys a processes folder."""
    processes, forms = tmp_path / "processes" / "venues", tmp_path / "forms" / "venues"
    processes.mkdir(parents=True)
    forms.mkdir(parents=True)
    (processes / "venue_booking.bpmn").write_text(PROCESS, encoding="utf-8")
    for form in (REQUEST_FORM, DECISION_FORM):
        (forms / f"{form['id']}.json").write_text(json.dumps(form, ensure_ascii=False), encoding="utf-8")
    other = bootstrap(Settings(database_url=runtime.settings.database_url, processes_dir=tmp_path / "processes",
                               forms_dir=tmp_path / "forms", script_time_limit=0.5, **TEST_SIGNIN_LIMITS))
    with other.unit_of_work() as uow:
        other.deployer.deploy(uow.session, files_under([other.settings.processes_dir]), "designer")
        uow.commit()
    from web import create_app

    yield create_app(other, {"TESTING": True})
    other.db.dispose()


def signed_in(app, username: str) -> Browser:
    return Browser(app.test_client()).sign_in(username)


def text(response) -> str:
    return response.get_data(as_text=True)


def test_a_process_without_python_runs_from_start_form_to_my_cases(venue_app):
    applicant = signed_in(venue_app, "enterprise")
    offered = text(applicant.get("/start"))
    assert "公共场地使用申请" in offered and "/start/venue_booking" in offered
    form = text(applicant.get("/start/venue_booking"))
    assert "场地名称" in form and "参加人数" in form and 'name="purpose"' in form

    refused = applicant.post("/start/venue_booking", {"venue": "市民中心二楼报告厅", "attendees": "900"})
    assert refused.status_code == 400
    assert "市民中心二楼报告厅" in text(refused)  # what was typed is kept
    assert "请填写“使用事由”" in text(refused)
    assert "公共场地使用申请" not in text(applicant.get("/my/cases")).split("</nav>", 1)[1]  # nothing started

    started = applicant.post("/start/venue_booking", {"venue": "市民中心二楼报告厅", "attendees": "120",
                                                      "purpose": "行业培训"})
    assert started.status_code == 302
    case_url = started.headers["Location"]
    instance_id = int(case_url.rsplit("/", 1)[1])
    mine = text(applicant.get(case_url))
    assert "公共场地使用申请" in mine and "受理" in mine
    business_key = re.search(r'<small class="mono">(CD-110101-\d{8}-0001)</small>', mine).group(1)

    reviewer = signed_in(venue_app, "reviewer")
    inbox = text(reviewer.get("/inbox"))
    assert business_key in inbox
    shown = re.sub(r"<[^>]+>", "", inbox)  # the values are marked as user data (<span data-user>)
    assert "市民中心二楼报告厅（120 人）" in shown and "使用事由：行业培训" in shown  # caseTitle, summaryFields
    for part in ("二楼报告厅", business_key[-8:], "行业"):  # the inbox search finds it by part
        assert business_key in text(reviewer.get(f"/inbox?q={part}")), part
    assert business_key not in text(reviewer.get("/inbox?q=体育馆"))
    assert business_key not in text(reviewer.get("/inbox?q=%25")), "a % is a character, not a wildcard"
    task_id = TASK_LINK.search(inbox[inbox.index(business_key) - 600:]).group(1)
    task_page = text(reviewer.get(f"/tasks/{task_id}"))
    assert "场地申请办理" in task_page and "办理结论" in task_page
    assert reviewer.post(f"/tasks/{task_id}", {"decision": "approve", "conclusion": "材料齐全，予以受理"}
                         ).status_code == 302

    rechecker = signed_in(venue_app, "rechecker")
    inbox = text(rechecker.get("/inbox"))
    task_id = TASK_LINK.search(inbox[inbox.index(business_key) - 600:]).group(1)
    assert rechecker.post(f"/tasks/{task_id}", {"decision": "approve"}).status_code == 302

    office = text(reviewer.get(f"/cases/{instance_id}"))
    assert "已办结" in office and "审批" in office and "rechecker" in office and "行业培训" in office

    listed = text(applicant.get("/my/cases"))
    assert business_key in listed and "已办结" in listed
    followed = text(applicant.get(case_url))
    assert "受理：通过" in followed and "材料齐全，予以受理" in followed and "审批：通过" in followed
    for internal in ("reviewer", "rechecker", "/tasks/", "业务数据", "/diagrams/"):
        assert internal not in followed, internal
    assert applicant.get(f"/cases/{instance_id}").headers["Location"].endswith(case_url)
    notices = text(applicant.get("/notifications"))
    assert f"【办结】{business_key} 已办结" in notices


def test_only_those_the_process_names_may_start_it(venue_app):
    reviewer = signed_in(venue_app, "reviewer")
    assert "/start/venue_booking" not in text(reviewer.get("/start"))
    assert reviewer.get("/start/venue_booking").status_code == 404
    assert reviewer.post("/start/venue_booking", {"venue": "x", "attendees": "1", "purpose": "x"}
                         ).status_code == 404
    assert "venue_booking" not in text(reviewer.get("/my/cases"))
    stranger = signed_in(venue_app, "tj_enterprise")
    assert "/start/venue_booking" in text(stranger.get("/start"))  # startableBy: any enterprise, in its own region
    assert signed_in(venue_app, "enterprise").get("/start/no_such_process").status_code == 404


def test_a_case_is_followed_only_by_whoever_started_it(venue_app):
    applicant = signed_in(venue_app, "enterprise")
    case_url = applicant.post("/start/venue_booking", {"venue": "体育馆", "attendees": "30", "purpose": "年会"}
                              ).headers["Location"]
    assert signed_in(venue_app, "tj_enterprise").get(case_url).status_code == 404
    assert signed_in(venue_app, "reviewer").get(case_url).status_code == 404  # staff read it on /cases/<id>
