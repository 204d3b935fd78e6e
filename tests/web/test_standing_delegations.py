"""委托: while a delegation runs, tasks meant for the delegator — their claimed ones when it starts, a 退回 to
them as the step's previous doer, a 转交 or a 加签 to them — go to the delegate, and the history names both."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from engine.models import HistoryEvent
from services.platform import standing_delegations
from tests.conftest import actor
from tests.services.review_helpers import complete, open_task, request_certificate


def delegate_clerk(client, login, to: str = "approver", **dates) -> dict:
    today = standing_delegations.today()
    body = {"delegate": to, "process_keys": ["work_history_certificate"],
            "starts_on": dates.get("starts_on", today).isoformat(),
            "ends_on": dates.get("ends_on", today + timedelta(days=7)).isoformat()}
    return client.post("/api/delegations", json=body, headers=login("clerk"))


def test_claimed_tasks_move_to_the_delegate_when_the_delegation_starts(runtime, client, login):
    instance = request_certificate(runtime)
    accept = open_task(runtime, instance.id)
    with runtime.unit_of_work() as uow:
        runtime.engine.claim(uow, accept.id, actor("clerk"))
        uow.commit()
    created = delegate_clerk(client, login, "reviewer")
    assert created.status_code == 201 and created.json["delegate"] == "reviewer"
    assert open_task(runtime, instance.id).assignee == "reviewer"
    with runtime.unit_of_work() as uow:
        event = uow.session.scalars(select(HistoryEvent).where(HistoryEvent.kind == "task_delegated")).one()
        assert (event.actor, event.details["to"], event.details["delegated_from"]) == ("clerk", "reviewer", "clerk")
    mine = client.get("/api/tasks?scope=mine", headers=login("reviewer")).json["items"]
    assert [t["id"] for t in mine] == [accept.id]


def test_a_return_to_the_delegator_goes_to_the_delegate(runtime, client, login):
    instance = request_certificate(runtime)
    complete(runtime, instance.id, "clerk", {"decision": "approve"})
    delegate_clerk(client, login, "reviewer")
    issue = open_task(runtime, instance.id)
    assert client.post(f"/api/tasks/{issue.id}/return", json={"target": "accept", "reason": "补充"},
                       headers=login("approver")).status_code == 200
    assert open_task(runtime, instance.id).assignee == "reviewer"


def test_delegations_are_checked(runtime, client, login):
    today = standing_delegations.today()
    assert delegate_clerk(client, login, "clerk").status_code == 400  # oneself
    assert delegate_clerk(client, login, "enterprise").status_code == 400  # not staff
    assert delegate_clerk(client, login, "tj_clerk").status_code == 400  # staff of another office
    assert delegate_clerk(client, login, starts_on=today - timedelta(days=1)).status_code == 400
    assert delegate_clerk(client, login, ends_on=today - timedelta(days=1)).status_code == 400
    first = delegate_clerk(client, login)
    assert first.status_code == 201
    assert delegate_clerk(client, login, "reviewer").status_code == 409  # overlaps
    ended = client.post(f"/api/delegations/{first.json['id']}/end", headers=login("clerk"))
    assert ended.status_code == 200 and ended.json["items"][0]["ended_at"] is not None
    assert client.post(f"/api/delegations/{first.json['id']}/end", headers=login("reviewer")).status_code == 404
    assert delegate_clerk(client, login, "reviewer").status_code == 201  # the ended one no longer counts
    listed = client.get("/api/delegations", headers=login("reviewer")).json["items"]
    assert [d["delegate"] for d in listed] == ["reviewer"]


def test_the_page_sets_up_and_ends_a_delegation(runtime, browser):
    clerk = browser("clerk")
    page = clerk.get("/delegations").get_data(as_text=True)
    assert "设置委托" in page and "特殊工种从业经历证明申请" in page
    today = standing_delegations.today()
    answer = clerk.post("/delegations", {"delegate": "reviewer", "starts_on": today.isoformat(),
                                         "ends_on": (today + timedelta(days=3)).isoformat()})
    assert answer.status_code == 302
    assert "生效中" in clerk.get("/delegations").get_data(as_text=True)
    bad = clerk.post("/delegations", {"delegate": "reviewer", "starts_on": "not-a-day", "ends_on": ""})
    assert bad.status_code == 302 and "请填写有效的日期" in clerk.get("/delegations").get_data(as_text=True)


def test_adding_the_delegator_as_a_signer_adds_the_delegate(runtime, client, login):
    today = standing_delegations.today()
    client.post("/api/delegations", json={"delegate": "rechecker", "starts_on": today.isoformat(),
                                          "ends_on": today.isoformat()}, headers=login("reviewer"))
    instance = request_certificate(runtime)
    accept = open_task(runtime, instance.id)
    added = client.post(f"/api/tasks/{accept.id}/add-signers", json={"users": ["reviewer"]}, headers=login("clerk"))
    assert added.status_code == 201 and added.json["items"][0]["assignee"] == "rechecker"
