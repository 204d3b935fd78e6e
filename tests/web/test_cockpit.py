"""The supervisor's cockpit: monitoring with filters and counts, incidents, overdue tasks with 督办,
and retry / terminate on the case page — scoped to the supervisor's regions."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from engine.actors import Actor
from engine.db import utcnow
from engine.models import HistoryEvent, HumanTask, Incident, InstanceStatus, ProcessInstance, TaskStatus
from engine.regions import covers
from services.platform.identity import RoleGrant, User
from services.platform.notifications import Notification
from tests.bpmn_factory import linear_process, service_task
from tests.web.conftest import ensure_user, open_task, submit

STARTER = Actor("reviewer", frozenset({("reviewer", "110000")}))
SWITCH = {"broken": True}


def flaky_operator(_ctx, **_params):
    if SWITCH["broken"]:
        raise RuntimeError("对方系统不可用")
    return {"ok": True}


@pytest.fixture
def flaky(runtime):
    """start(business key) → the id of a case of 'cockpit_flaky' in 110101 that failed at its service task."""
    if "test.cockpit_flaky" not in runtime.engine.operators:
        runtime.engine.operators.register("test.cockpit_flaky", flaky_operator)
    with runtime.unit_of_work() as uow:
        runtime.deployer.deploy(uow.session, [(linear_process("cockpit_flaky", service_task("test.cockpit_flaky")),
                                               "cockpit_flaky.bpmn")], "test")
        uow.commit()
    SWITCH["broken"] = True

    def start(business_key: str = "FLAKY-1") -> int:
        with runtime.unit_of_work() as uow:
            instance = runtime.engine.start(uow, "cockpit_flaky", business_key=business_key, region_code="110101",
                                            data={}, actor=STARTER)
            uow.commit()
            return instance.id

    return start


@pytest.fixture
def tj_supervisor(runtime) -> str:
    ensure_user(runtime, "tj_supervisor", "120000", ["supervisor"])
    return "tj_supervisor"


def status_of(runtime, instance_id: int) -> str:
    with runtime.unit_of_work() as uow:
        return uow.session.get(ProcessInstance, instance_id).status


def history(runtime, instance_id: int) -> list[HistoryEvent]:
    with runtime.unit_of_work() as uow:
        return list(uow.session.scalars(select(HistoryEvent).where(HistoryEvent.instance_id == instance_id)
                                        .order_by(HistoryEvent.id)))


def make_overdue(runtime, task_id: str) -> None:
    with runtime.db.begin() as conn:
        conn.execute(update(HumanTask).where(HumanTask.id == task_id).values(due_at=utcnow() - timedelta(days=3)))


def test_supervisor_sees_the_incident_and_retries_the_case(runtime, browser, flaky):
    instance_id = flaky()
    supervisor = browser("supervisor")
    incidents = supervisor.get("/cockpit/incidents").get_data(as_text=True)
    assert "FLAKY-1" in incidents and "对方系统不可用" in incidents and "mid" in incidents
    page = supervisor.get(f"/cases/{instance_id}").get_data(as_text=True)
    assert f'action="/cases/{instance_id}/retry"' in page

    still_broken = supervisor.post(f"/cases/{instance_id}/retry", follow_redirects=True)
    assert "重试未成功" in still_broken.get_data(as_text=True)
    assert status_of(runtime, instance_id) == InstanceStatus.ERROR

    SWITCH["broken"] = False
    fixed = supervisor.post(f"/cases/{instance_id}/retry", follow_redirects=True)
    text = fixed.get_data(as_text=True)
    assert fixed.status_code == 200 and "已重试，办件恢复办理" in text and "办理中" in text
    assert status_of(runtime, instance_id) == InstanceStatus.WAITING
    assert open_task(runtime, instance_id).status == TaskStatus.OPEN
    with runtime.unit_of_work() as uow:
        incidents = uow.session.scalars(select(Incident).where(Incident.instance_id == instance_id)).all()
    assert len(incidents) == 2 and all(i.resolved_by == "supervisor" for i in incidents)
    assert "FLAKY-1" not in supervisor.get("/cockpit/incidents").get_data(as_text=True)
    assert f'action="/cases/{instance_id}/retry"' not in supervisor.get(f"/cases/{instance_id}").get_data(as_text=True)


def test_retry_of_a_healthy_case_is_a_conflict(runtime, browser):
    case = submit(runtime)
    response = browser("supervisor").post(f"/cases/{case.instance_id}/retry")
    assert response.status_code == 409 and "无需重试" in response.get_data(as_text=True)


def test_terminate_requires_a_reason(runtime, browser):
    case = submit(runtime)
    supervisor = browser("supervisor")
    for reason in ("", "   "):
        refused = supervisor.post(f"/cases/{case.instance_id}/terminate", {"reason": reason})
        assert refused.status_code == 400 and "请填写终止原因" in refused.get_data(as_text=True)
    assert status_of(runtime, case.instance_id) == InstanceStatus.WAITING
    assert [e.kind for e in history(runtime, case.instance_id)].count("terminated") == 0

    done = supervisor.post(f"/cases/{case.instance_id}/terminate", {"reason": "申报单位撤回申报"},
                           follow_redirects=True)
    assert "办件已终止" in done.get_data(as_text=True)
    assert status_of(runtime, case.instance_id) == InstanceStatus.TERMINATED
    event = history(runtime, case.instance_id)[-1]
    assert (event.kind, event.actor, event.conclusion) == ("terminated", "supervisor", "申报单位撤回申报")
    assert browser("reviewer").get("/inbox").get_data(as_text=True).count(case.batch_no) == 0


def test_supervisor_of_another_region_gets_404_and_changes_nothing(runtime, browser, flaky, tj_supervisor):
    instance_id = flaky()
    case = submit(runtime)
    task = open_task(runtime, case.instance_id)
    make_overdue(runtime, task.id)
    foreign = browser(tj_supervisor)
    assert foreign.get(f"/cases/{instance_id}").status_code == 404
    assert foreign.post(f"/cases/{instance_id}/retry").status_code == 404
    assert foreign.post(f"/cases/{case.instance_id}/terminate", {"reason": "越权"}).status_code == 404
    assert foreign.post(f"/cockpit/overdue/{task.id}/supervise", {"note": "越权"}).status_code == 404
    for url in ("/cockpit", "/cockpit/incidents", "/cockpit/overdue"):
        page = foreign.get(url)
        assert page.status_code == 200
        assert "FLAKY-1" not in page.get_data(as_text=True) and case.batch_no not in page.get_data(as_text=True)
    assert status_of(runtime, instance_id) == InstanceStatus.ERROR
    assert status_of(runtime, case.instance_id) == InstanceStatus.WAITING
    assert "supervised" not in [e.kind for e in history(runtime, case.instance_id)]


def test_reviewer_is_refused_the_cockpit_and_its_actions(runtime, browser, flaky):
    instance_id = flaky()
    reviewer = browser("reviewer")
    for url in ("/cockpit", "/cockpit/incidents", "/cockpit/overdue"):
        assert reviewer.get(url).status_code == 403
    page = reviewer.get(f"/cases/{instance_id}").get_data(as_text=True)  # the reviewer may see the case …
    assert "/retry" not in page and "/terminate" not in page  # … but is offered no repair
    assert reviewer.post(f"/cases/{instance_id}/retry").status_code == 403
    assert reviewer.post(f"/cases/{instance_id}/terminate", {"reason": "x"}).status_code == 403
    assert status_of(runtime, instance_id) == InstanceStatus.ERROR
    assert "监控台" not in reviewer.get("/").get_data(as_text=True)


def test_monitor_filters_by_process_status_region_and_overdue(runtime, browser, flaky):
    flaky_id = flaky("FLAKY-9")
    first, second = submit(runtime), submit(runtime)
    make_overdue(runtime, open_task(runtime, second.instance_id).id)
    supervisor = browser("supervisor")

    def keys(url: str) -> set[str]:
        text = supervisor.get(url).get_data(as_text=True)
        return {k for k in (first.batch_no, second.batch_no, "FLAKY-9") if k in text}

    assert keys("/cockpit") == {first.batch_no, second.batch_no, "FLAKY-9"}
    assert keys("/cockpit?status=error") == {"FLAKY-9"}
    assert keys("/cockpit?process_key=first_declaration_review") == {first.batch_no, second.batch_no}
    assert keys("/cockpit?overdue=true") == {second.batch_no}
    assert keys("/cockpit?region_code=110105") == set()
    assert keys("/cockpit?region_code=120000") == set()  # not the supervisor's region: nothing
    assert keys("/cockpit?status=completed") == set()
    text = supervisor.get("/cockpit").get_data(as_text=True)
    counts = re.search(r'<table class="grid counts">.*?</table>', text, re.S).group(0)
    error_link = re.search(r'process_key=cockpit_flaky&amp;status=error">(\d+)<', counts)
    waiting_link = re.search(r'process_key=first_declaration_review&amp;status=waiting">(\d+)<', counts)
    assert error_link and error_link.group(1) == "1"
    assert waiting_link and waiting_link.group(1) == "2"
    assert status_of(runtime, flaky_id) == InstanceStatus.ERROR


def test_overdue_task_is_listed_and_supervised(runtime, browser):
    case, on_time = submit(runtime), submit(runtime)
    task = open_task(runtime, case.instance_id)
    make_overdue(runtime, task.id)
    supervisor = browser("supervisor")
    listed = supervisor.get("/cockpit/overdue").get_data(as_text=True)
    assert case.batch_no in listed and on_time.batch_no not in listed
    response = supervisor.post(f"/cockpit/overdue/{task.id}/supervise",
                               {"note": "请本周内办结", "back": "/cockpit/overdue"})
    assert response.status_code == 302 and response.headers["Location"] == "/cockpit/overdue"
    event = history(runtime, case.instance_id)[-1]
    assert (event.kind, event.actor, event.task_name, event.conclusion) == ("supervised", "supervisor", task.name,
                                                                           "请本周内办结")
    with runtime.unit_of_work() as uow:
        notified = uow.session.scalars(select(Notification).where(Notification.kind == "supervised")).all()
        group = {grant_user for grant_user, region in uow.session.execute(
            select(User.username, RoleGrant.region_code).join(RoleGrant).where(RoleGrant.role == "reviewer"))
            if covers(region, "110101")}  # other tests may have added reviewers: users are reference data
    recipients = {n.recipient for n in notified}
    assert "reviewer" in recipients and recipients == group  # the unclaimed task's group in 110101 and above
    assert all("请本周内办结" in n.body and case.batch_no in n.subject for n in notified)
    assert "督办" in supervisor.get(f"/cases/{case.instance_id}").get_data(as_text=True)
    assert open_task(runtime, case.instance_id).status == TaskStatus.OPEN  # the task itself is unchanged


def test_supervising_notifies_the_assignee_of_a_claimed_task(runtime, browser):
    case = submit(runtime)
    task = open_task(runtime, case.instance_id)
    ensure_user(runtime, "reviewer2", "110000", ["reviewer"])
    browser("reviewer").post(f"/tasks/{task.id}/claim")
    make_overdue(runtime, task.id)
    assert browser("admin").post(f"/cockpit/overdue/{task.id}/supervise", {}).status_code == 302
    with runtime.unit_of_work() as uow:
        recipients = uow.session.scalars(select(Notification.recipient).where(Notification.kind == "supervised")).all()
    assert recipients == ["reviewer"]


def test_a_task_already_done_cannot_be_supervised(runtime, browser):
    case = submit(runtime)
    task = open_task(runtime, case.instance_id)
    browser("reviewer").post(f"/tasks/{task.id}", {"decision": "approve", "conclusion": "同意"})
    response = browser("supervisor").post(f"/cockpit/overdue/{task.id}/supervise", {"note": "迟了"})
    assert response.status_code == 409 and "任务已办理，无需督办" in response.get_data(as_text=True)
    assert "supervised" not in [e.kind for e in history(runtime, case.instance_id)]
    with runtime.unit_of_work() as uow:
        assert uow.session.scalars(select(Notification).where(Notification.kind == "supervised")).all() == []
