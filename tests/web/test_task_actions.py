"""The task actions in the API and on the task page: ``GET /api/tasks/<id>/actions`` says what the caller may
do now (and where a return may go), ``/return`` and ``/withdraw`` do it, a case that moved on answers 409."""
from __future__ import annotations

from tests.services.review_helpers import complete, open_task, request_certificate


def test_the_actions_a_caller_may_take_now(runtime, client, login):
    instance = request_certificate(runtime)
    accept = open_task(runtime, instance.id)
    assert client.get(f"/api/tasks/{accept.id}/actions", headers=login("clerk")).json == {
        "actions": ["complete", "claim", "delegate", "cc", "add_signers"], "return_targets": []}
    assert client.get(f"/api/tasks/{accept.id}/actions", headers=login("approver")).json["actions"] == []
    assert client.get(f"/api/tasks/{accept.id}/actions", headers=login("tj_clerk")).status_code == 404
    complete(runtime, instance.id, "clerk", {"decision": "approve"})
    issue = open_task(runtime, instance.id)
    assert client.get(f"/api/tasks/{issue.id}/actions", headers=login("approver")).json == {
        "actions": ["complete", "claim", "delegate", "cc", "return", "add_signers"],
        "return_targets": [{"step": "accept", "name": "受理"}]}
    assert client.get(f"/api/tasks/{issue.id}/actions", headers=login("enterprise")).json["actions"] == ["urge"]
    assert client.get(f"/api/tasks/{accept.id}/actions", headers=login("clerk")).json["actions"] == ["withdraw"]


def test_return_and_withdraw_through_the_api(runtime, client, login):
    instance = request_certificate(runtime)
    complete(runtime, instance.id, "clerk", {"decision": "approve"})
    issue = open_task(runtime, instance.id)
    url = f"/api/tasks/{issue.id}/return"
    assert client.post(url, json={"target": "accept"}, headers=login("approver")).status_code == 400  # no reason
    assert client.post(url, json={"target": "issue", "reason": "x"}, headers=login("approver")).status_code == 400
    answer = client.post(url, json={"target": "accept", "reason": "身份证号与档案不符"}, headers=login("approver"))
    assert answer.status_code == 200 and answer.json["status"] == "waiting"
    again = client.post(url, json={"target": "accept", "reason": "x"}, headers=login("approver"))
    assert again.status_code == 409
    reopened = open_task(runtime, instance.id)
    assert reopened.name == "accept"
    history = client.get(f"/api/instances/{instance.id}", headers=login("clerk")).json["history"]
    assert [e["kind"] for e in history][-1] == "task_returned"

    complete(runtime, instance.id, "clerk", {"decision": "approve"})
    withdrawn = client.post(f"/api/tasks/{reopened.id}/withdraw", headers=login("clerk"))
    assert withdrawn.status_code == 200 and open_task(runtime, instance.id).name == "accept"
    assert client.post(f"/api/tasks/{reopened.id}/withdraw", headers=login("clerk")).status_code == 409
    assert client.post(f"/api/tasks/{reopened.id}/withdraw", headers=login("tj_clerk")).status_code == 404


def test_the_task_page_offers_return_and_withdraw_only_when_allowed(runtime, browser):
    instance = request_certificate(runtime)
    clerk = browser("clerk")
    accept = open_task(runtime, instance.id)
    page = clerk.get(f"/tasks/{accept.id}").get_data(as_text=True)
    assert "退回原因" not in page  # nothing before 受理 to return to
    complete(runtime, instance.id, "clerk", {"decision": "approve"})
    issue = open_task(runtime, instance.id)
    approver = browser("approver")
    page = approver.get(f"/tasks/{issue.id}").get_data(as_text=True)
    assert "退回原因" in page and '<option value="accept">受理</option>' in page
    assert "撤回" in clerk.get(f"/tasks/{accept.id}").get_data(as_text=True)
    refused = approver.post(f"/tasks/{issue.id}/return", {"target": "accept", "reason": ""})
    assert refused.status_code == 302 and open_task(runtime, instance.id).name == "issue"
    assert approver.post(f"/tasks/{issue.id}/return", {"target": "accept", "reason": "补充说明"}).status_code == 302
    assert open_task(runtime, instance.id).name == "accept"
    applicant_page = browser("enterprise").get(f"/my/cases/{instance.id}").get_data(as_text=True)
    assert "审批出具：退回" in applicant_page and "补充说明" in applicant_page


def test_the_case_page_counts_the_votes_of_an_open_countersigned_step(runtime, browser):
    from sqlalchemy import select

    from engine.models import HumanTask, TaskStatus
    from tests.conftest import actor
    from tests.processes.test_countersign import process

    reviewer = actor("reviewer")
    with runtime.unit_of_work() as uow:
        runtime.deployer.deploy(uow.session, [(process(), "signed.bpmn")], "test")
        instance = runtime.engine.start(uow, "signed", business_key="HQ-2", region_code="110101", data={},
                                        actor=reviewer)
        uow.commit()
    for vote in ("approve", "reject"):
        with runtime.unit_of_work() as uow:
            task = uow.session.scalars(select(HumanTask).where(HumanTask.instance_id == instance.id,
                                                               HumanTask.status == TaskStatus.OPEN)).first()
            runtime.engine.complete_task(uow, task.id, reviewer, {"decision": vote, "conclusion": "意见"})
            uow.commit()
    page = browser("reviewer").get(f"/cases/{instance.id}").get_data(as_text=True)
    assert "会签票数：通过 1 · 不通过 1 · 待办 1" in page


def test_a_batch_return_sends_each_case_back_one_step_with_one_reason(runtime, browser):
    cases = [request_certificate(runtime) for _ in range(2)]
    for case in cases:
        complete(runtime, case.id, "clerk", {"decision": "approve"})
    waiting = request_certificate(runtime)  # at 受理: nothing before it to return to
    approver = browser("approver")
    approver.get("/inbox")
    issues = [open_task(runtime, case.id).id for case in cases]
    missing = approver.post("/inbox/batch", {"task_ids": issues, "decision": "return", "conclusion": ""})
    assert missing.status_code == 302 and all(open_task(runtime, c.id).name == "issue" for c in cases)
    done = approver.post("/inbox/batch", {"task_ids": issues, "decision": "return", "conclusion": "统一补充档案"})
    assert done.status_code == 200 and "成功 2 件" in done.get_data(as_text=True)
    assert all(open_task(runtime, c.id).name == "accept" for c in cases)
    clerk = browser("clerk")
    clerk.get("/inbox")
    refused = clerk.post("/inbox/batch", {"task_ids": [open_task(runtime, waiting.id).id], "decision": "return",
                                          "conclusion": "x"})
    assert "此环节之前没有可退回的环节" in refused.get_data(as_text=True)
