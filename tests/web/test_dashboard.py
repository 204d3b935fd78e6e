"""The supervision dashboard (监控看板): its figures count what the supervisor's regions hold — cases
opened and closed per day, incidents, open cases by clock level and by 办件状态, claimed steps per
person with the overdue ones, and the heatmap of one process version — each linking to its list,
exported to Excel, and refused to anyone else — and the handling time (average, P50, P90 in working
days) and 超期率 of what was done in its window, per process, step, region and reviewer, each figure
linking to the cases behind it."""
from __future__ import annotations

import io
import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from html import unescape

import pytest
from openpyxl import load_workbook
from sqlalchemy import select, update

from engine.actors import Actor
from engine.db import utcnow
from engine.errors import Forbidden
from engine.models import HumanTask, Incident, ProcessDefinition, ProcessInstance
from services.platform import dashboard
from tests.bpmn_factory import linear_process
from tests.conftest import PASSWORD, actor, cst
from tests.web.conftest import ensure_user, open_task, submit


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
    assert sheet.sheetnames == ["每日新增与办结", "在办按办件状态", "在办按时限", "人员工作量", "办理时长",
                                "环节办理时长", "区划办理时长", "审核人员办理时长"]


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
    assert chart["items"][0]["code"] == duration.key and chart["link"].endswith("&process_key=__VALUE__")


# ---------------------------------------------------------------------- handling time and 超期率
# The window of the dashboard on 20 October 2025: 21 September – 20 October (China). Working days are
# those after the first day up to and including the last, around the 2025 National Day holiday
# (1–8 October; make-up working days Sunday 28 September and Saturday 11 October).
NOW = cst("2025-10-20")
WINDOW = "closed_from=2025-09-21&closed_to=2025-10-20"
DONE = "done_from=2025-09-21&done_to=2025-10-20"
STARTER = Actor("starter", frozenset({("reviewer", "000000")}))
REVIEWER = Actor("dash_reviewer", frozenset({("reviewer", "110000")}))  # 王审核


def end_of(day: str) -> datetime:
    """The end of ``day`` in China (a due date), as naive UTC."""
    return datetime.fromisoformat(f"{day}T23:59:59") - timedelta(hours=8)


@dataclass
class Done:
    region: str
    started: str
    ended: str | None  # None: still open
    due: str | None = None  # the case clock's due date (None: no clock)
    paused_days: int = 0
    by: Actor = REVIEWER
    step: tuple[str, str, str | None] | None = None  # the step: received, done, due


CASES = {
    # 26 Sep → 10 Oct: 28 Sep, 29, 30, 9, 10 Oct = 5, less 1 paused: 4, in time; its step 26 → 30 Sep: 3, late
    "A": Done("110101", "2025-09-26", "2025-10-10", "2025-10-16", 1, step=("2025-09-26", "2025-09-30", "2025-09-29")),
    # 29 Sep → 13 Oct: 30 Sep, 9, 10, 11, 13 Oct = 5, late; its step 29 Sep → 9 Oct: 2, in time
    "B": Done("110101", "2025-09-29", "2025-10-13", "2025-10-09", step=("2025-09-29", "2025-10-09", "2025-10-10")),
    # no clock: 0, not in 超期率; its step 0, without a due date
    "C": Done("110105", "2025-10-09", "2025-10-09", by=actor("county_reviewer"),
              step=("2025-10-09", "2025-10-09", None)),
    # 9 → 20 Oct: 10, 11, 13–17, 20 = 8, late; its step 9 → 13 Oct: 3, late
    "D": Done("110105", "2025-10-09", "2025-10-20", "2025-10-10", by=actor("county_reviewer"),
              step=("2025-10-09", "2025-10-13", "2025-10-10")),
    # another province: 9 → 13 Oct = 3, late
    "T": Done("120101", "2025-10-09", "2025-10-13", "2025-10-10", by=actor("tj_reviewer"),
              step=("2025-10-09", "2025-10-13", "2025-10-10")),
    # closed before the window
    "X": Done("110101", "2025-08-01", "2025-08-05", step=("2025-08-01", "2025-08-04", None)),
    # still open
    "O": Done("110101", "2025-10-15", None),
}


@pytest.fixture
def done(runtime, monkeypatch) -> dict[str, int]:
    """The cases above, started and their step completed by the engine, then set to the given dates."""
    ensure_user(runtime, "tj_supervisor", "120000", ["supervisor"])
    with runtime.unit_of_work() as uow:
        from services.platform.identity import User, create_user

        if uow.session.scalar(select(User.id).where(User.username == "dash_reviewer")) is None:
            create_user(uow.session, "dash_reviewer", PASSWORD, "110000", ["reviewer"], display_name="王审核")
        runtime.deployer.deploy(uow.session, [(linear_process("dash_licence", label="审核"), "dash_licence.bpmn")],
                                "test")
        ids = {key: runtime.engine.start(uow, "dash_licence", business_key=f"DASH-{key}", region_code=c.region,
                                         data={}, actor=STARTER).id for key, c in CASES.items()}
        uow.commit()
    for key, c in CASES.items():
        if c.ended:
            with runtime.unit_of_work() as uow:
                task = uow.session.scalar(select(HumanTask.id).where(HumanTask.instance_id == ids[key]))
                runtime.engine.complete_task(uow, task, c.by, {"decision": "approve"})
                uow.commit()
    with runtime.db.begin() as conn:
        for key, c in CASES.items():
            conn.execute(update(ProcessInstance).where(ProcessInstance.id == ids[key]).values(
                started_at=cst(c.started), ended_at=cst(c.ended) if c.ended else None,
                clock_state=("stopped" if c.ended else "running") if c.due else "",
                clock_started_at=cst(c.started) if c.due else None, clock_due_at=end_of(c.due) if c.due else None,
                statutory_due_at=end_of(c.due) if c.due else None, clock_paused_days=c.paused_days))
            if c.step:
                received, completed, due = c.step
                conn.execute(update(HumanTask).where(HumanTask.instance_id == ids[key]).values(
                    created_at=cst(received), completed_at=cst(completed), due_at=end_of(due) if due else None))
    monkeypatch.setattr("web.pages.cockpit.utcnow", lambda: NOW)
    monkeypatch.setattr("web.pages.cases.utcnow", lambda: NOW)
    return ids


def figures(rows: list[dashboard.Figures]) -> dict[str, tuple]:
    return {f.key: (f.name, f.count, f.average, f.p50, f.p90, f.timed, f.late, f.rate) for f in rows}


def chart(text: str, name: str) -> dict:
    return json.loads(unescape(re.search(rf"id=\"chart-{name}\"[^>]*data-chart='([^']*)'", text).group(1)))


def listed(browser, who: str, query: str) -> set[str]:
    """The DASH- cases the case list shows for ``query``."""
    page = browser(who).get(f"/cases?{query}")
    assert page.status_code == 200, query
    return set(re.findall(r">DASH-(\w)<", page.get_data(as_text=True)))


def test_handling_time_and_overdue_rate_per_process_step_region_and_reviewer(runtime, done):
    with runtime.unit_of_work() as uow:
        board = dashboard.dashboard(uow.session, actor("supervisor"), NOW)
    # A 4, B 5, C 0, D 8: P50 is the 2nd smallest (4), P90 the 4th (8); late B and D of the clocked A, B, D
    assert figures(board.durations) == {"dash_licence": ("dash_licence", 4, 4.25, 4, 8, 3, 2, 0.6667)}
    assert board.durations[0].percent == 66.67
    assert figures(board.regions) == {"110101": ("东城区", 2, 4.5, 4, 5, 2, 1, 0.5),
                                      "110105": ("朝阳区", 2, 4.0, 0, 8, 1, 1, 1.0)}
    # steps A 3 (late), B 2, C 0 (no due date), D 3 (late)
    assert figures(board.steps) == {"dash_licence/task": ("审核", 4, 2.0, 2, 3, 3, 2, 0.6667)}
    assert (board.steps[0].process_key, board.steps[0].step) == ("dash_licence", "task")
    assert figures(board.reviewers) == {"dash_reviewer": ("王审核", 2, 2.5, 2, 3, 2, 1, 0.5),
                                        "county_reviewer": ("county_reviewer", 2, 1.5, 0, 3, 1, 1, 1.0)}
    assert not board.capped

    with runtime.unit_of_work() as uow:
        county = dashboard.dashboard(uow.session, actor("supervisor"), NOW, region_code="110105")
        tianjin = dashboard.dashboard(uow.session, Actor("tj_supervisor", frozenset({("supervisor", "120000")})), NOW)
        outside = dashboard.dashboard(uow.session, actor("supervisor"), NOW, region_code="120101")
    assert figures(county.durations) == {"dash_licence": ("dash_licence", 2, 4.0, 0, 8, 1, 1, 1.0)}
    assert list(figures(county.reviewers)) == ["county_reviewer"]
    assert figures(tianjin.durations) == {"dash_licence": ("dash_licence", 1, 3.0, 3, 3, 1, 1, 1.0)}
    assert list(figures(tianjin.regions)) == ["120101"] and list(figures(tianjin.reviewers)) == ["tj_reviewer"]
    assert (outside.durations, outside.regions, outside.steps, outside.reviewers) == ([], [], [], [])


def test_every_new_figure_links_to_its_cases_in_the_supervisors_regions(runtime, done, browser):
    text = browser("supervisor").get("/cockpit/dashboard").get_data(as_text=True)
    durations = chart(text, "durations")
    assert [s["data"] for s in durations["series"]] == [[4.25], [4], [8]]
    assert durations["link"] == f"/cases?{WINDOW}&process_key=__VALUE__"
    rates = chart(text, "rates")
    assert rates["series"][0]["data"] == [66.67]
    assert rates["link"] == f"/cases?{WINDOW}&closed_late=1&process_key=__VALUE__"
    regions = chart(text, "regions")
    assert [(i["code"], i["name"]) for i in regions["items"]] == [("110101", "东城区"), ("110105", "朝阳区")]
    assert [s["data"] for s in regions["series"]] == [[4, 0], [5, 8]]
    assert regions["link"] == f"/cases?{WINDOW}&region_code=__VALUE__"
    reviewers = chart(text, "reviewers")
    assert [i["name"] for i in reviewers["items"]] == ["county_reviewer", "王审核"]  # the most steps first
    assert reviewers["link"] == f"/cases?{DONE}&done_by=__VALUE__"
    steps = re.search(r'id="table-steps".*?</table>', text, re.S).group(0)
    assert "审核" in steps and "66.67%" in steps and "(2/3)" in steps
    assert ">王审核<" in re.search(r'id="table-reviewers".*?</table>', text, re.S).group(0)

    def link(value: str) -> str:
        return durations["link"].replace("__VALUE__", value).removeprefix("/cases?")

    supervisor = "supervisor"
    assert listed(browser, supervisor, link("dash_licence")) == {"A", "B", "C", "D"}  # not T, X nor O
    assert listed(browser, supervisor, f"{WINDOW}&closed_late=1&process_key=dash_licence") == {"B", "D"}
    assert listed(browser, supervisor, f"{WINDOW}&region_code=110105") == {"C", "D"}
    assert listed(browser, supervisor, f"{WINDOW}&closed_late=1&region_code=110101") == {"B"}
    assert listed(browser, supervisor, f"process_key=dash_licence&step=task&{DONE}&done_late=1") == {"A", "D"}
    assert listed(browser, supervisor, f"{DONE}&done_by=dash_reviewer") == {"A", "B"}
    assert listed(browser, supervisor, f"{DONE}&done_by=county_reviewer&done_late=1") == {"D"}
    # the links the tables carry are those lists
    for query in (f"process_key=dash_licence&amp;step=task&amp;{DONE.replace('&', '&amp;')}&amp;done_late=1",
                  f"done_by=dash_reviewer&amp;{DONE.replace('&', '&amp;')}",
                  f"region_code=110105&amp;{WINDOW.replace('&', '&amp;')}&amp;closed_late=1"):
        assert sorted(query.split("&amp;")) in [sorted(href.split("&amp;")) for href in
                                                re.findall(r'href="/cases\?([^"]*)"', text)], query
    shown = browser(supervisor).get(f"/cases?{DONE}&done_by=dash_reviewer").get_data(as_text=True)
    assert "王审核" in shown and 'name="done_by" value="dash_reviewer"' in shown

    # region scoping: another province's supervisor sees only their case; a region outside narrows to nothing
    assert listed(browser, "tj_supervisor", link("dash_licence")) == {"T"}
    assert listed(browser, "tj_supervisor", f"{DONE}&done_by=dash_reviewer") == set()
    assert listed(browser, supervisor, f"{WINDOW}&region_code=120101") == set()
    tianjin = browser("tj_supervisor").get("/cockpit/dashboard").get_data(as_text=True)
    assert [i["code"] for i in chart(tianjin, "regions")["items"]] == ["120101"] and "王审核" not in tianjin
    assert browser("reviewer").get(f"/cases?{WINDOW}").status_code in (403, 404)
    with runtime.unit_of_work() as uow, pytest.raises(Forbidden):
        dashboard.cases(uow.session, actor("reviewer"), dashboard.CaseFilter(closed_late=True), NOW)


def test_the_export_has_a_sheet_per_breakdown(runtime, done, browser):
    book = load_workbook(io.BytesIO(browser("supervisor").client.get("/cockpit/dashboard.xlsx").data))

    def rows(title: str) -> list[tuple]:
        return [tuple(row) for row in book[title].iter_rows(values_only=True)]

    assert rows("办理时长") == [("流程", "流程代码", *dashboard.FIGURE_HEADERS),
                              ("dash_licence", "dash_licence", 4, 4.25, 4, 8, 3, 2, 66.67)]
    assert rows("环节办理时长")[1] == ("dash_licence", "dash_licence", "审核", "task", 4, 2, 2, 3, 3, 2, 66.67)
    assert rows("区划办理时长")[1:] == [("东城区", "110101", 2, 4.5, 4, 5, 2, 1, 50),
                                   ("朝阳区", "110105", 2, 4, 0, 8, 1, 1, 100)]
    assert rows("审核人员办理时长")[1:] == [("county_reviewer", "county_reviewer", 2, 1.5, 0, 3, 1, 1, 100),
                                     ("王审核", "dash_reviewer", 2, 2.5, 2, 3, 2, 1, 50)]
