"""中止 / 恢复 of a case clock on the case page and through the API: offered to supervisors only."""
from __future__ import annotations

from sqlalchemy import select

from engine.models import HumanTask, TaskStatus
from tests.processes.test_case_clock import APPROVE, act, deploy_and_start


def test_the_case_page_and_the_api_offer_the_pause_to_supervisors_only(runtime, browser, client, login, at):
    at("2025-09-26")
    instance_id = deploy_and_start(runtime)
    act(runtime, instance_id, "clerk", APPROVE)
    supervisor = browser("supervisor")
    page = supervisor.get(f"/cases/{instance_id}").get_data(as_text=True)
    assert f"/cases/{instance_id}/clock/pause" in page
    assert f"/cases/{instance_id}/clock/pause" not in browser("reviewer").get(f"/cases/{instance_id}").get_data(
        as_text=True)
    refused = supervisor.post(f"/cases/{instance_id}/clock/pause", {"reason": ""})
    assert refused.status_code == 400 and "请填写中止原因" in refused.get_data(as_text=True)
    assert supervisor.post(f"/cases/{instance_id}/clock/pause", {"reason": "听证"}).status_code == 302
    assert client.post(f"/api/instances/{instance_id}/clock/resume", headers=login("reviewer")).status_code == 403
    answer = client.post(f"/api/instances/{instance_id}/clock/resume", headers=login("supervisor"))
    assert answer.status_code == 200 and answer.json["lifecycle"]["clock"]["state"] == "running"
    assert client.post(f"/api/instances/{instance_id}/clock/resume", headers=login("supervisor")).status_code == 409


def test_the_inbox_filters_by_the_case_clock(runtime, browser, at):
    from services.platform import supervision
    from tests.conftest import actor

    at("2025-09-26")
    overdue = deploy_and_start(runtime)
    paused = deploy_and_start(runtime)
    for instance_id in (overdue, paused):
        act(runtime, instance_id, "clerk", APPROVE)  # 受理 in 2025: long overdue by now
    with runtime.unit_of_work() as uow:
        supervision.pause_clock(uow, runtime.engine, actor("supervisor"), paused, "听证")
        uow.commit()
    clerk = browser("clerk")

    pages = {level: clerk.get(f"/inbox?clock={level}").get_data(as_text=True)
             for level in ("overdue", "paused", "warning", "normal")}
    assert pages["overdue"].count("<td>审查</td>") == 1 and 'class="clock clock-overdue"' in pages["overdue"]
    assert pages["paused"].count("<td>审查</td>") == 1 and 'class="clock clock-paused"' in pages["paused"]
    assert "<td>审查</td>" not in pages["warning"] and "<td>审查</td>" not in pages["normal"]
    assert clerk.get("/inbox").get_data(as_text=True).count("<td>审查</td>") == 2
    unknown = clerk.get("/inbox?clock=soon")  # an unknown level is reported, not fatal
    assert unknown.status_code == 200 and "未知的时限等级" in unknown.get_data(as_text=True)


def test_the_case_list_filters_by_the_case_clock(runtime, browser, at):
    from services.platform import supervision
    from tests.conftest import actor

    at("2025-09-26")
    overdue, paused = deploy_and_start(runtime), deploy_and_start(runtime)
    for instance_id in (overdue, paused):
        act(runtime, instance_id, "clerk", APPROVE)
    with runtime.unit_of_work() as uow:
        supervision.pause_clock(uow, runtime.engine, actor("supervisor"), paused, "专家评审")
        uow.commit()
    supervisor = browser("supervisor")

    def listed(level: str) -> set[int]:
        page = supervisor.get(f"/cases?clock={level}").get_data(as_text=True)
        return {n for n in (overdue, paused) if f'href="/cases/{n}"' in page}

    assert listed("overdue") == {overdue} and listed("paused") == {paused}
    assert listed("warning") == set() and listed("normal") == set()
    assert listed("") == {overdue, paused}


def test_the_inbox_sorts_by_the_case_clock(runtime, browser, at):
    at("2025-10-09")
    later = deploy_and_start(runtime)
    act(runtime, later, "clerk", APPROVE)  # promised due 22 October
    at("2025-09-26")
    sooner = deploy_and_start(runtime)
    act(runtime, sooner, "clerk", APPROVE)  # promised due 16 October
    clerk = browser("clerk")
    first = clerk.get("/inbox?sort=clock_due_at").get_data(as_text=True)
    last = clerk.get("/inbox?sort=clock_due_at&order=desc").get_data(as_text=True)
    with runtime.unit_of_work() as uow:
        tasks = {uow.session.scalars(select(HumanTask.id).where(HumanTask.instance_id == n,
                                                                HumanTask.status == TaskStatus.OPEN)).one(): n
                 for n in (sooner, later)}
    order = [tasks[t] for t in sorted(tasks, key=first.index)]
    assert order == [sooner, later]
    assert [tasks[t] for t in sorted(tasks, key=last.index)] == [later, sooner]
