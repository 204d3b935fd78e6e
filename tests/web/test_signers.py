"""加签 / 减签 on the certificate request's 受理 step: the added people get real inbox tasks; 前加签 holds the
step until they are done, 并加签 and 后加签 hold its completion until they are; 减签 removes only added tasks
not done yet, and a held completion goes through when its last signer is removed."""
from __future__ import annotations

from sqlalchemy import select

from engine.models import HumanTask, TaskStatus
from tests.services.review_helpers import open_task, request_certificate

APPROVE = {"data": {"decision": "approve", "conclusion": "同意"}}


def open_names(runtime, instance_id: int) -> list[tuple[str, str | None]]:
    with runtime.unit_of_work() as uow:
        return sorted((row.label, row.assignee) for row in uow.session.scalars(
            select(HumanTask).where(HumanTask.instance_id == instance_id, HumanTask.status == TaskStatus.OPEN)))


def inbox_ids(client, login, who: str) -> list[str]:
    return [t["id"] for t in client.get("/api/tasks?scope=mine", headers=login(who)).json["items"]]


def add(client, login, task_id: str, users: list[str], mode: str):
    return client.post(f"/api/tasks/{task_id}/add-signers", json={"users": users, "mode": mode, "note": "请会商"},
                       headers=login("clerk"))


def test_signers_before_hold_the_step_until_they_are_done(runtime, client, login):
    instance = request_certificate(runtime)
    accept = open_task(runtime, instance.id)
    added = add(client, login, accept.id, ["reviewer"], "before")
    assert added.status_code == 201 and added.json["items"][0]["label"] == "受理（前加签）"
    [signer_task] = inbox_ids(client, login, "reviewer")
    held_up = client.post(f"/api/tasks/{accept.id}/complete", json=APPROVE, headers=login("clerk"))
    assert held_up.status_code == 409 and "reviewer" in held_up.json["message"]
    assert client.post(f"/api/tasks/{signer_task}/complete", json=APPROVE, headers=login("reviewer")).status_code == 200
    assert client.post(f"/api/tasks/{accept.id}/complete", json=APPROVE, headers=login("clerk")).status_code == 200
    assert open_names(runtime, instance.id) == [("审批出具", None)]
    history = client.get(f"/api/instances/{instance.id}", headers=login("clerk")).json["history"]
    assert [e["kind"] for e in history if e["kind"] in ("signers_added", "task_completed")] == [
        "signers_added", "task_completed", "task_completed"]


def test_a_completion_alongside_or_before_signers_waits_for_them(runtime, client, login):
    for mode in ("parallel", "after"):
        instance = request_certificate(runtime)
        accept = open_task(runtime, instance.id)
        add(client, login, accept.id, ["reviewer", "rechecker"], mode)
        waiting = mode == "after"
        assert (inbox_ids(client, login, "reviewer") == []) == waiting  # 后加签: nothing to do yet
        assert client.post(f"/api/tasks/{accept.id}/complete", json=APPROVE, headers=login("clerk")).status_code == 200
        assert ("审批出具", None) not in open_names(runtime, instance.id)  # held
        for who in ("reviewer", "rechecker"):
            [task] = inbox_ids(client, login, who)
            assert client.post(f"/api/tasks/{task}/complete", json=APPROVE, headers=login(who)).status_code == 200
        assert open_names(runtime, instance.id) == [("审批出具", None)], mode


def test_removing_signers_cancels_only_undone_added_tasks_and_releases_a_held_completion(runtime, client, login):
    instance = request_certificate(runtime)
    accept = open_task(runtime, instance.id)
    add(client, login, accept.id, ["reviewer", "rechecker"], "parallel")
    url = f"/api/tasks/{accept.id}/remove-signers"
    assert client.post(url, json={"users": ["approver"]}, headers=login("clerk")).status_code == 400
    assert client.post(url, json={"users": ["reviewer"]}, headers=login("clerk")).status_code == 200
    assert inbox_ids(client, login, "reviewer") == []
    assert client.post(f"/api/tasks/{accept.id}/complete", json=APPROVE, headers=login("clerk")).status_code == 200
    assert client.get(f"/api/tasks/{accept.id}/actions", headers=login("clerk")).json["actions"] == ["remove_signers"]
    assert client.post(url, json={"users": ["rechecker"]}, headers=login("clerk")).status_code == 200
    assert open_names(runtime, instance.id) == [("审批出具", None)]  # the held completion went through


def test_who_may_be_added_and_by_whom(runtime, client, login):
    instance = request_certificate(runtime)
    accept = open_task(runtime, instance.id)
    for users in (["enterprise"], ["nobody_at_all"], ["tj_reviewer"]):  # an applicant, nobody, another region
        refused = add(client, login, accept.id, users, "before")
        assert refused.status_code == 400 and "只能加签本办件所在区划的在职工作人员" in refused.json["message"]
    assert client.post(f"/api/tasks/{accept.id}/add-signers", json={"users": ["reviewer"]},
                       headers=login("approver")).status_code == 404
    add(client, login, accept.id, ["reviewer"], "before")
    [signer_task] = inbox_ids(client, login, "reviewer")
    again = client.post(f"/api/tasks/{signer_task}/add-signers", json={"users": ["rechecker"]},
                        headers=login("reviewer"))
    assert again.status_code == 400 and "加签人员不能再加签" in again.json["message"]
    assert add(client, login, accept.id, ["reviewer"], "before").status_code == 400  # already added
