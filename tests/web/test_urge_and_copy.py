"""催办 and 抄送: the applicant urges once per working day, a supervisor without limit, and the step's holders
are told; a 抄送 lands in the recipient's 待阅 list (not 待办), is marked 已阅, and opens the case read-only
even outside the recipient's region — access that follows the item, never the case's tasks."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from engine.actors import Actor
from engine.definitions import DefinitionInvalid
from engine.models import ProcessInstance
from services.platform.notifications import Notification
from services.platform.urges import TaskUrge
from tests.bpmn_factory import linear_process
from tests.services.review_helpers import complete, open_task, request_certificate


def notices(runtime, recipient: str, kind: str) -> list[Notification]:
    with runtime.unit_of_work() as uow:
        return list(uow.session.scalars(select(Notification).where(Notification.recipient == recipient,
                                                                   Notification.kind == kind)))


def test_the_applicant_urges_once_per_working_day_and_the_holders_are_told(runtime, client, login):
    instance = request_certificate(runtime)
    accept = open_task(runtime, instance.id)
    url = f"/api/tasks/{accept.id}/urge"
    first = client.post(url, json={"message": "急需办理提前退休"}, headers=login("enterprise"))
    assert first.status_code == 201 and first.json["by_applicant"] is True
    [notice] = notices(runtime, "clerk", "urge")
    assert "催办" in notice.subject and "急需办理提前退休" in notice.body
    again = client.post(url, json={}, headers=login("enterprise"))
    assert again.status_code == 409 and "每个工作日只能催办一次" in again.json["message"]
    with runtime.unit_of_work() as uow:  # as if the first press was a week ago
        pressed = uow.session.scalars(select(TaskUrge)).one()
        uow.session.execute(update(TaskUrge).values(created_at=pressed.created_at - timedelta(days=7)))
        uow.commit()
    assert client.post(url, json={}, headers=login("enterprise")).status_code == 201
    for _ in range(2):  # a supervisor is not limited
        assert client.post(url, json={"message": "请于今日办结"}, headers=login("supervisor")).status_code == 201


def test_only_the_applicant_and_supervisors_urge_and_only_open_steps(runtime, client, login):
    instance = request_certificate(runtime)
    accept = open_task(runtime, instance.id)
    url = f"/api/tasks/{accept.id}/urge"
    assert client.post(url, json={}, headers=login("approver")).status_code == 403
    assert client.post(url, json={}, headers=login("tj_enterprise")).status_code == 404
    complete(runtime, instance.id, "clerk", {"decision": "approve"})
    assert client.post(url, json={}, headers=login("enterprise")).status_code == 409
    with runtime.unit_of_work() as uow:
        assert uow.session.scalars(select(TaskUrge)).all() == []


def test_the_urge_shows_on_the_task_page(runtime, browser):
    instance = request_certificate(runtime)
    accept = open_task(runtime, instance.id)
    applicant = browser("enterprise")
    applicant.get(f"/my/cases/{instance.id}")
    assert applicant.post(f"/tasks/{accept.id}/urge", {"message": "请尽快受理",
                                                        "back": f"/my/cases/{instance.id}"}).status_code == 302
    page = browser("clerk").get(f"/tasks/{accept.id}").get_data(as_text=True)
    assert "请尽快受理" in page and "申请人" in page


def test_a_copy_goes_to_the_recipients_unread_list_and_opens_the_case_read_only(runtime, client, login, browser):
    instance = request_certificate(runtime)
    accept = open_task(runtime, instance.id)
    sent = client.post(f"/api/tasks/{accept.id}/cc", json={"to": ["tj_reviewer"], "note": "请阅知此案"},
                       headers=login("clerk"))
    assert sent.status_code == 201 and sent.json == {"recipients": ["tj_reviewer"]}
    reader = browser("tj_reviewer")  # 天津: outside this 北京 case's scope
    assert client.get(f"/api/instances/{instance.id}", headers=login("tj_reviewer")).status_code == 404
    [item] = client.get("/api/cc?unread=true", headers=login("tj_reviewer")).json["items"]
    assert (item["business_key"], item["step"], item["note"]) == (instance.business_key, "受理", "请阅知此案")
    page = reader.get(f"/cases/{instance.id}")
    assert page.status_code == 200 and "您只能查看" in page.get_data(as_text=True)
    assert reader.get(f"/tasks/{accept.id}").status_code == 404  # the item opens the case, not its tasks
    assert client.post(f"/api/cc/{item['id']}/read", headers=login("tj_reviewer")).json == {"items": []}
    assert client.post(f"/api/cc/{item['id']}/read", headers=login("reviewer")).status_code == 404


def test_copies_go_only_to_staff_and_only_from_a_step_one_may_act_on(runtime, client, login):
    instance = request_certificate(runtime)
    accept = open_task(runtime, instance.id)
    url = f"/api/tasks/{accept.id}/cc"
    for names in (["enterprise"], ["nobody_at_all"]):
        refused = client.post(url, json={"to": names}, headers=login("clerk"))
        assert refused.status_code == 400 and "只能抄送给在职的工作人员" in refused.json["message"]
    assert client.post(url, json={"to": ["reviewer"]}, headers=login("approver")).status_code == 403
    assert client.post(url, json={"to": []}, headers=login("clerk")).status_code == 400


def test_a_step_with_a_cc_property_copies_the_case_to_the_role(runtime):
    xml = linear_process("copied", extra_props='<spiffworkflow:property name="cc" value="supervisor" />')
    reviewer = Actor("reviewer", frozenset({("reviewer", "110000")}))
    with runtime.unit_of_work() as uow:
        runtime.deployer.deploy(uow.session, [(xml, "copied.bpmn")], "test")
        instance = runtime.engine.start(uow, "copied", business_key="CC-1", region_code="110101", data={},
                                        actor=reviewer)
        [task] = runtime.engine.open_tasks(uow.session, instance.id)
        runtime.engine.complete_task(uow, task.id, reviewer, {"decision": "approve"})
        uow.commit()
        instance_id = instance.id
    assert [n.recipient for n in notices(runtime, "supervisor", "carbon_copy")] == ["supervisor"]
    with runtime.unit_of_work() as uow:
        assert uow.session.get(ProcessInstance, instance_id).status == "completed"


def test_a_cc_property_naming_an_unknown_role_is_refused_at_deploy(runtime):
    xml = linear_process("bad_cc", extra_props='<spiffworkflow:property name="cc" value="supervisor, boss" />')
    with runtime.unit_of_work() as uow, pytest.raises(DefinitionInvalid) as refused:
        runtime.deployer.deploy(uow.session, [(xml, "bad_cc.bpmn")], "test")
    assert any("cc 中的角色 boss 不存在" in p.message for p in refused.value.problems)


def test_urges_are_counted_in_the_lifecycle_statistics(runtime, client, login):
    instance = request_certificate(runtime)
    accept = open_task(runtime, instance.id)
    client.post(f"/api/tasks/{accept.id}/urge", json={}, headers=login("enterprise"))
    client.post(f"/api/tasks/{accept.id}/urge", json={}, headers=login("supervisor"))
    stats = client.get("/api/statistics/lifecycle", headers=login("supervisor")).json
    assert stats["urges"] == [{"process_key": "work_history_certificate", "process_name": "特殊工种从业经历证明申请",
                               "urges": 2, "by_applicant": 1, "cases": 1}]
