"""The task actions in the API and on the task page: ``GET /api/tasks/<id>/actions`` says what the caller may
do now (and where a return may go), ``/return`` and ``/withdraw`` do it, a case that moved on answers 409."""
from __future__ import annotations

from tests.services.review_helpers import complete, open_task, request_certificate


def test_the_actions_a_caller_may_take_now(runtime, client, login):
    instance = request_certificate(runtime)
    accept = open_task(runtime, instance.id)
    assert client.get(f"/api/tasks/{accept.id}/actions", headers=login("clerk")).json == {
        "actions": ["complete", "claim", "delegate", "cc"], "return_targets": []}
    assert client.get(f"/api/tasks/{accept.id}/actions", headers=login("approver")).json["actions"] == []
    assert client.get(f"/api/tasks/{accept.id}/actions", headers=login("tj_clerk")).status_code == 404
    complete(runtime, instance.id, "clerk", {"decision": "approve"})
    issue = open_task(runtime, instance.id)
    assert client.get(f"/api/tasks/{issue.id}/actions", headers=login("approver")).json == {
        "actions": ["complete", "claim", "delegate", "cc", "return"],
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
