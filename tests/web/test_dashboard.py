"""The supervision dashboard (监控看板): its figures count what the supervisor's regions hold — cases
opened and closed per day, incidents, open cases by clock level and by 办件状态, claimed steps per
person with the overdue ones, and the heatmap of one process version — each linking to its list,
exported to Excel, and refused to anyone else."""
from __future__ import annotations

import io
import json
import re
from datetime import timedelta
from html import unescape

from openpyxl import load_workbook
from sqlalchemy import select, update

from engine.db import utcnow
from engine.models import HumanTask, Incident, ProcessDefinition
from services.platform import dashboard
from tests.conftest import actor
from tests.web.conftest import open_task, submit


def make_overdue(runtime, task_id: str) -> None:
    with runtime.db.begin() as conn:
        conn.execute(update(HumanTask).where(HumanTask.id == task_id).values(due_at=utcnow() - timedelta(days=3)))


def fail(runtime, instance_id: int) -> None:
    """An incident of the case today (as a failing service task leaves one)."""
    with runtime.unit_of_work() as uow:
        uow.session.add(Incident(instance_id=instance_id, task_name="mid", message="对方系统不可用"))
        uow.commit()


def test_the_dashboard_counts_the_regions_cases_incidents_and_workload(runtime, browser):
    fail(runtime, submit(runtime).instance_id)  # an incident today
    case = submit(runtime)
    task = open_task(runtime, case.instance_id)
    with runtime.unit_of_work() as uow:
        runtime.engine.claim(uow, task.id, actor("reviewer"))
        uow.commit()
    make_overdue(runtime, task.id)
    with runtime.unit_of_work() as uow:
        board = dashboard.dashboard(uow.session, actor("supervisor"), utcnow())
        today = board.days[-1]
        assert today.opened >= 2 and today.incidents == 1
        assert ("reviewer", 1, 1) in [(user, count, late) for user, _name, count, late in board.workload]
        other = dashboard.dashboard(uow.session, _tianjin(), utcnow())
        assert other.days[-1].opened == 0 and other.workload == []  # another province sees none of it

    page = browser("supervisor").get("/cockpit/dashboard")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "监控看板" in text
    daily = json.loads(unescape(re.search(r"id=\"chart-daily\"[^>]*data-chart='([^']*)'", text).group(1)))
    assert daily["series"][2]["data"][-1] == 1 and daily["link"].endswith("?from=__VALUE__&to=__VALUE__")
    levels = json.loads(unescape(re.search(r"id=\"chart-levels\"[^>]*data-chart='([^']*)'", text).group(1)))
    assert {item["code"] for item in levels["items"]} == {"normal", "warning", "overdue", "paused"}
    assert browser("reviewer").get("/cockpit/dashboard").status_code in (403, 404)

    sheet = load_workbook(io.BytesIO(browser("supervisor").client.get("/cockpit/dashboard.xlsx").data))
    assert sheet.sheetnames == ["每日新增与办结", "在办按办件状态", "在办按时限", "人员工作量", "办理时长"]


def _tianjin():
    from engine.actors import Actor

    return Actor("tj_supervisor", frozenset({("supervisor", "120000")}))


def test_the_heatmap_counts_waiting_steps_of_one_version(runtime, browser):
    case = submit(runtime)
    task = open_task(runtime, case.instance_id)
    with runtime.unit_of_work() as uow:
        instance_definition = uow.session.scalar(select(HumanTask.process_key).where(HumanTask.id == task.id))
        definition_id = uow.session.scalar(select(ProcessDefinition.id).where(
            ProcessDefinition.key == instance_definition).order_by(ProcessDefinition.version.desc()).limit(1))
        definition, steps = dashboard.heatmap(uow.session, actor("supervisor"), definition_id, utcnow())
    waiting = {s.step: s.waiting for s in steps}
    assert waiting.get(task.name) == 1
    page = browser("supervisor").get(f"/cockpit/dashboard?definition_id={definition_id}").get_data(as_text=True)
    assert "流程热力图" in page and task.label in page
    diagram = browser("supervisor").get(f"/cockpit/definitions/{definition_id}.bpmn")
    assert diagram.status_code == 200 and b"<bpmn:definitions" in diagram.data or b"<definitions" in diagram.data


def test_the_case_list_filters_by_case_status_from_the_dashboard(runtime, browser):
    from engine.models import ProcessInstance

    case = submit(runtime)
    with runtime.unit_of_work() as uow:
        instance = uow.session.get(ProcessInstance, case.instance_id)
        number, status = instance.business_key, instance.case_status
    page = browser("supervisor").get(f"/cases?case_status={status}").get_data(as_text=True)
    assert number in page
    other = browser("supervisor").get("/cases?case_status=terminated").get_data(as_text=True)
    assert number not in other


def test_the_dashboard_shows_the_handling_time_of_cases_closed_in_its_window(runtime, browser):
    from engine.models import ProcessInstance

    case = submit(runtime)
    with runtime.db.begin() as conn:  # closed today, 0 working days after it began
        conn.execute(update(ProcessInstance).where(ProcessInstance.id == case.instance_id).values(
            status="completed", ended_at=utcnow()))
    with runtime.unit_of_work() as uow:
        board = dashboard.dashboard(uow.session, actor("supervisor"), utcnow())
    [duration] = [d for d in board.durations if d.count]
    assert (duration.count, duration.average, duration.p90) == (1, 0.0, 0)
    text = browser("supervisor").get("/cockpit/dashboard").get_data(as_text=True)
    chart = json.loads(unescape(re.search(r"id=\"chart-durations\"[^>]*data-chart='([^']*)'", text).group(1)))
    assert chart["items"][0]["code"] == duration.key and chart["link"].endswith("?process=__VALUE__")
