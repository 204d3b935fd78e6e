"""办件统计 for supervisors (services.platform.lifecycle_statistics, /supervision/statistics, its Excel
export and GET /api/statistics/lifecycle): cases by 办件状态, 超期率 and handling time in working days,
over cases around the 2025 National Day holiday (1–8 October, with the make-up working days Sunday
28 September and Saturday 11 October), confined to the supervisor's regions."""
from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import update

from engine.actors import Actor
from engine.errors import Forbidden, InvalidData
from engine.models import HumanTask, ProcessInstance
from services.platform import lifecycle_statistics as statistics
from services.platform.lifecycle_statistics import StatisticsFilter
from tests.bpmn_factory import linear_process
from tests.conftest import actor, cst
from tests.web.conftest import ensure_user

STARTER = Actor("starter", frozenset({("reviewer", "000000")}))
NOW = cst("2025-10-20")
AUTUMN = StatisticsFilter(date_from=date(2025, 9, 1), date_to=date(2025, 10, 31))
AUTUMN_ARGS = "from=2025-09-01&to=2025-10-31"


def end_of(day: str) -> datetime:
    """The end of ``day`` in China (a due date), as naive UTC."""
    return datetime.fromisoformat(f"{day}T23:59:59") - timedelta(hours=8)


@dataclass
class Case:
    process: str
    region: str
    started: datetime
    case_status: str
    status: str = "waiting"
    ended: datetime | None = None
    clock: str = ""  # clock_state
    due: datetime | None = None
    paused_days: int = 0
    paused_since: datetime | None = None
    task_done: tuple[str, str] | None = None  # (received, completed) CST days of its one step; None: still open


# Working days are those after the first day up to and including the last (the case clock's count).
CASES = {
    # 26 Sep → 10 Oct: 28 Sep (make-up), 29, 30 Sep, 9, 10 Oct = 5, less 1 paused: 4; its step 26 → 30 Sep: 3
    "A": Case("stat_licence", "110101", cst("2025-09-26"), "closed_approved", "completed", cst("2025-10-10"),
              "stopped", end_of("2025-10-16"), 1, task_done=("2025-09-26", "2025-09-30")),
    # ended after its due date (超期办结); 29 Sep → 13 Oct: 30 Sep, 9, 10, 11 (make-up), 13 Oct = 5; step 2
    "B": Case("stat_licence", "110101", cst("2025-09-29"), "closed_rejected", "completed", cst("2025-10-13"),
              "stopped", end_of("2025-10-09"), task_done=("2025-09-29", "2025-10-09")),
    # open past its due date (超期未结)
    "C": Case("stat_licence", "110105", cst("2025-09-30"), "accepted", clock="running", due=end_of("2025-10-10")),
    # no clock (refused before 受理): not in 超期率; started and ended the same day: 0; step 0
    "D": Case("stat_licence", "110105", cst("2025-10-09"), "refused", "completed", cst("2025-10-09"),
              task_done=("2025-10-09", "2025-10-09")),
    # running, due later: not overdue; step 9 → 13 Oct: 10, 11 (make-up), 13 = 3
    "E": Case("stat_permit", "110101", cst("2025-10-09"), "received", clock="running", due=end_of("2025-10-31"),
              task_done=("2025-10-09", "2025-10-13")),
    # paused after its due date: overdue (超期未结)
    "F": Case("stat_permit", "110101", cst("2025-10-10"), "correction_started", clock="paused",
              due=end_of("2025-10-14"), paused_since=cst("2025-10-15")),
    # paused before its due date: the clock stands still, not overdue. Started 07:00 on 10 Oct in China,
    # which is still 9 Oct in UTC: a filter by 9 Oct must not count it
    "G": Case("stat_permit", "110101", datetime(2025, 10, 9, 23, 0), "correction_started", clock="paused",
              due=end_of("2025-10-14"), paused_since=cst("2025-10-13")),
    # another province: 9 → 20 Oct = 10, 11 (make-up), 13–17, 20 = 8
    "T": Case("stat_licence", "120101", cst("2025-10-09"), "closed_approved", "completed", cst("2025-10-20"),
              "stopped", end_of("2025-10-10"), task_done=("2025-10-09", "2025-10-20")),
    # before the autumn filter: 1 → 5 Aug = 4, 5 Aug = 2
    "X": Case("stat_licence", "110101", cst("2025-08-01"), "closed_approved", "completed", cst("2025-08-05"),
              task_done=("2025-08-01", "2025-08-04")),
}


@pytest.fixture
def cases(runtime) -> dict[str, int]:
    """The cases above, started by the engine and then set to the given dates and states."""
    with runtime.unit_of_work() as uow:
        runtime.deployer.deploy(uow.session, [(linear_process("stat_licence", label="审核"), "stat_licence.bpmn"),
                                              (linear_process("stat_permit", label="复核"), "stat_permit.bpmn")],
                                "test")
        ids = {key: runtime.engine.start(uow, c.process, business_key=f"STAT-{key}", region_code=c.region, data={},
                                         actor=STARTER).id for key, c in CASES.items()}
        uow.commit()
    with runtime.db.begin() as conn:
        for key, c in CASES.items():
            conn.execute(update(ProcessInstance).where(ProcessInstance.id == ids[key]).values(
                started_at=c.started, status=c.status, case_status=c.case_status, ended_at=c.ended,
                clock_state=c.clock, clock_started_at=c.started if c.clock else None, clock_due_at=c.due,
                statutory_due_at=c.due, clock_paused_days=c.paused_days, clock_paused_since=c.paused_since))
            received, done = (cst(c.task_done[0]), cst(c.task_done[1])) if c.task_done else (c.started, None)
            conn.execute(update(HumanTask).where(HumanTask.instance_id == ids[key]).values(
                created_at=received, completed_at=done, status="completed" if done else "open"))
    return ids


@pytest.fixture
def tj_supervisor(runtime) -> str:
    ensure_user(runtime, "tj_supervisor", "120000", ["supervisor"])
    return "tj_supervisor"


@pytest.fixture
def frozen(monkeypatch):
    """The pages and the API judge the clocks at NOW."""
    monkeypatch.setattr("web.pages.statistics.utcnow", lambda: NOW)
    monkeypatch.setattr("web.api.statistics.utcnow", lambda: NOW)


def figures(runtime, who: Actor, flt: StatisticsFilter = AUTUMN) -> statistics.LifecycleStatistics:
    with runtime.unit_of_work() as uow:
        return statistics.lifecycle_statistics(uow.session, who, flt, NOW)


def statuses(stats) -> dict[str, dict[str, int]]:
    return {row.process_key: {s.status: s.count for s in row.statuses} for row in stats.by_status}


def rates(rows) -> dict[str, tuple]:
    return {r.key: (r.clocked, r.overdue_closed, r.overdue_open, r.rate) for r in rows}


def durations(rows) -> dict[str, tuple]:
    return {d.key: (d.count, d.average, d.p90) for d in rows}


def test_counts_overdue_rates_and_working_day_durations(runtime, cases):
    stats = figures(runtime, actor("supervisor"))
    assert statuses(stats) == {
        "stat_licence": {"accepted": 1, "refused": 1, "closed_approved": 1, "closed_rejected": 1},
        "stat_permit": {"received": 1, "correction_started": 2}}
    assert [row.total for row in stats.by_status] == [4, 3]
    assert stats.by_status[0].statuses[0].label == "已受理"
    assert stats.status_codes == ["received", "accepted", "refused", "correction_started", "closed_approved",
                                  "closed_rejected"]

    overdue = stats.overdue_rate
    assert rates(overdue.process) == {"stat_licence": (3, 1, 1, 0.6667), "stat_permit": (3, 0, 1, 0.3333)}
    assert rates(overdue.region) == {"110101": (5, 1, 1, 0.4), "110105": (1, 0, 1, 1.0)}
    assert [r.name for r in overdue.region] == ["东城区", "朝阳区"]
    assert (overdue.total.clocked, overdue.total.overdue, overdue.total.rate) == (6, 3, 0.5)

    handling = stats.handling_time
    # A 4, B 5, D 0: the mean 3.0; nearest rank ⌈0.9·3⌉ = 3rd → 5 (an interpolated P90 would be 4.8)
    assert durations(handling.process) == {"stat_licence": (3, 3.0, 5)}
    assert durations(handling.region) == {"110101": (2, 4.5, 5), "110105": (1, 0.0, 0)}
    assert [(s.process_key, s.step, s.label, s.count, s.average, s.p90) for s in handling.step] == [
        ("stat_licence", "task", "审核", 3, 1.67, 3), ("stat_permit", "task", "复核", 1, 3.0, 3)]
    assert (handling.capped, handling.row_limit) == (False, statistics.MAX_ROWS)


def test_the_filters_count_days_in_china_processes_and_regions(runtime, cases):
    supervisor = actor("supervisor")
    ninth = figures(runtime, supervisor, StatisticsFilter(date_from=date(2025, 10, 9), date_to=date(2025, 10, 9)))
    assert statuses(ninth) == {"stat_licence": {"refused": 1}, "stat_permit": {"received": 1}}  # not G
    tenth = figures(runtime, supervisor, StatisticsFilter(date_from=date(2025, 10, 10), date_to=date(2025, 10, 10)))
    assert statuses(tenth) == {"stat_permit": {"correction_started": 2}}  # F and G

    everything = figures(runtime, supervisor, StatisticsFilter())
    assert statuses(everything)["stat_licence"]["closed_approved"] == 2  # A and X
    assert durations(everything.handling_time.process) == {"stat_licence": (4, 2.75, 5)}  # X took 2

    permit = figures(runtime, supervisor, StatisticsFilter(date_from=AUTUMN.date_from, process_key="stat_permit"))
    assert list(statuses(permit)) == ["stat_permit"] and permit.handling_time.process == []
    county = figures(runtime, supervisor, StatisticsFilter(region_code="110105"))
    assert statuses(county) == {"stat_licence": {"accepted": 1, "refused": 1}}
    assert rates(county.overdue_rate.region) == {"110105": (1, 0, 1, 1.0)}


def test_a_supervisor_sees_only_the_regions_supervised(runtime, cases, tj_supervisor):
    supervisor, tianjin = actor("supervisor"), Actor(tj_supervisor, frozenset({("supervisor", "120000")}))
    outside = figures(runtime, supervisor, StatisticsFilter(region_code="120101"))
    assert outside.by_status == [] and outside.overdue_rate.process == [] and outside.overdue_rate.region == []
    assert (outside.overdue_rate.total.clocked, outside.overdue_rate.total.rate) == (0, None)
    assert (outside.handling_time.process, outside.handling_time.region, outside.handling_time.step) == ([], [], [])

    theirs = figures(runtime, tianjin)
    assert statuses(theirs) == {"stat_licence": {"closed_approved": 1}}
    assert rates(theirs.overdue_rate.region) == {"120101": (1, 1, 0, 1.0)}
    assert durations(theirs.handling_time.process) == {"stat_licence": (1, 8.0, 8)}
    assert [(s.count, s.p90) for s in theirs.handling_time.step] == [(1, 8)]
    assert figures(runtime, tianjin, StatisticsFilter(region_code="110000")).by_status == []

    with runtime.unit_of_work() as uow, pytest.raises(Forbidden):
        statistics.lifecycle_statistics(uow.session, actor("reviewer"), AUTUMN, NOW)


def test_a_reversed_date_range_is_refused(runtime):
    with runtime.unit_of_work() as uow, pytest.raises(InvalidData) as refused:
        statistics.lifecycle_statistics(uow.session, actor("supervisor"),
                                        StatisticsFilter(date_from=date(2025, 10, 2), date_to=date(2025, 10, 1)), NOW)
    assert refused.value.fields == {"to": ["结束日期不能早于开始日期"]}


def test_durations_are_capped_and_say_so(runtime, cases, monkeypatch, browser, frozen):
    monkeypatch.setattr(statistics, "MAX_ROWS", 2)
    handling = figures(runtime, actor("supervisor")).handling_time
    assert (handling.capped, handling.row_limit) == (True, 2)
    assert sum(d.count for d in handling.process) == 2 and sum(s.count for s in handling.step) == 2
    page = browser("supervisor").get(f"/supervision/statistics?{AUTUMN_ARGS}").get_data(as_text=True)
    assert "仅统计最新的 2 件办结办件和 2 个已办环节" in page


def test_the_page_shows_the_figures_in_chinese_with_its_export(runtime, cases, browser, frozen):
    page = browser("supervisor").get(f"/supervision/statistics?{AUTUMN_ARGS}&process=&region=&nonsense=1")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert '<html lang="zh-CN">' in html and "<h1>办件统计" in html
    for text in ("按办件状态统计", "已受理", "补正（开始）", "超期率", "66.7%", "33.3%", "50.0%", "100.0%",
                 "办理时长（工作日）", "4.50", "1.67", "审核", "复核", "110105 朝阳区", "导出 Excel"):
        assert text in html, text
    assert "120101" not in html  # no Tianjin figures
    assert "/supervision/statistics.xlsx?from=2025-09-01&amp;to=2025-10-31" in html


def test_the_cockpit_links_to_the_statistics(runtime, browser):
    assert 'href="/supervision/statistics"' in browser("supervisor").get("/cockpit").get_data(as_text=True)


def test_a_bad_filter_is_shown_beside_its_field(runtime, browser):
    page = browser("supervisor").get("/supervision/statistics?from=2025-10-02&to=2025-10-01&region=zz")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "结束日期不能早于开始日期" in html and "区划代码应为 6 位数字" in html
    assert "statistics.xlsx?from=2025-10-02" in html  # the export link keeps only the good filters
    assert "to=2025-10-01" not in html.split("statistics.xlsx")[1].split('"')[0]


def test_only_supervisors_and_administrators_open_it(runtime, browser, client, bearer):
    assert browser("clerk").get("/supervision/statistics").status_code == 403
    assert browser("clerk").client.get("/supervision/statistics.xlsx").status_code == 403
    assert browser("admin").get("/supervision/statistics").status_code == 200
    signed_out = client.get("/supervision/statistics")
    assert signed_out.status_code == 302 and signed_out.headers["Location"].startswith("/signin")
    refused = client.get("/api/statistics/lifecycle", headers=bearer("clerk"))
    assert refused.status_code == 403 and refused.json["error"] == "forbidden"
    assert client.get("/api/statistics/lifecycle").status_code == 401


def test_the_workbook_holds_the_same_figures(runtime, cases, browser, frozen):
    response = browser("supervisor").client.get(f"/supervision/statistics.xlsx?{AUTUMN_ARGS}")
    assert response.status_code == 200 and response.mimetype.endswith("spreadsheetml.sheet")
    book = load_workbook(io.BytesIO(response.data), read_only=True)
    assert book.sheetnames == ["办件状态", "超期率", "办理时长", "催办", "好差评"]
    status_rows = list(book["办件状态"].values)
    assert status_rows[0] == tuple(statistics.STATUS_HEADERS)
    assert ("stat_licence", "stat_licence", "办结（不通过）", "closed_rejected", 1) in status_rows
    assert ("stat_permit", "stat_permit", "补正（开始）", "correction_started", 2) in status_rows
    assert list(book["超期率"].values)[1:] == [
        ("流程", "stat_licence", "stat_licence", 3, 1, 1, 2, 66.67),
        ("流程", "stat_permit", "stat_permit", 3, 0, 1, 1, 33.33),
        ("区划", "东城区", "110101", 5, 1, 1, 2, 40.0), ("区划", "朝阳区", "110105", 1, 0, 1, 1, 100.0),
        ("合计", "合计", None, 6, 1, 2, 3, 50.0)]
    assert list(book["办理时长"].values)[1:] == [
        ("流程", "stat_licence", "stat_licence", 3, 3, 5), ("区划", "东城区", "110101", 2, 4.5, 5),
        ("区划", "朝阳区", "110105", 1, 0, 0), ("环节", "stat_licence / 审核", "stat_licence/task", 3, 1.67, 3),
        ("环节", "stat_permit / 复核", "stat_permit/task", 1, 3, 3)]


def test_the_workbook_escapes_what_excel_would_run():
    stats = statistics.LifecycleStatistics(
        by_status=[statistics.ProcessStatuses("p", "=HYPERLINK(\"http://x\")", 1,
                                              [statistics.StatusCount("received", "接件", 1)])],
        overdue_rate=statistics.OverdueRates([], [], statistics.OverdueRate("", "合计", 0, 0, 0)),
        handling_time=statistics.HandlingTime([], [], [statistics.StepDuration("p", "+p", "s", "@s", 1, 1.0, 1)],
                                              capped=False, row_limit=10),
        status_codes=["received"])
    book = load_workbook(io.BytesIO(statistics.workbook(stats)), read_only=True)
    assert list(book["办件状态"].values)[1][0] == "'=HYPERLINK(\"http://x\")"
    assert list(book["办理时长"].values)[1][1] == "'+p / @s"
    assert list(book["超期率"].values)[1][:7] == ("合计", "合计", None, 0, 0, 0, 0)  # no rate without clocked cases


def test_the_api_gives_the_figures(runtime, cases, client, bearer, frozen):
    answer = client.get(f"/api/statistics/lifecycle?{AUTUMN_ARGS}", headers=bearer("supervisor"))
    assert answer.status_code == 200, answer.json
    body = answer.json
    assert set(body) == {"by_status", "overdue_rate", "handling_time", "urges", "ratings"}
    assert body["by_status"][1] == {"process_key": "stat_permit", "process_name": "stat_permit", "total": 3,
                                    "statuses": [{"status": "received", "label": "接件", "count": 1},
                                                 {"status": "correction_started", "label": "补正（开始）", "count": 2}]}
    assert body["overdue_rate"]["total"] == {"key": "", "name": "合计", "clocked": 6, "overdue": 3, "overdue_closed": 1,
                                             "overdue_open": 2, "rate": 0.5}
    assert [(r["key"], r["rate"]) for r in body["overdue_rate"]["region"]] == [("110101", 0.4), ("110105", 1.0)]
    handling = body["handling_time"]
    assert handling["process"] == [{"key": "stat_licence", "name": "stat_licence", "count": 3, "average": 3.0,
                                    "p90": 5}]
    assert [(s["step"], s["label"], s["average"], s["p90"]) for s in handling["step"]] == [
        ("task", "审核", 1.67, 3), ("task", "复核", 3.0, 3)]
    assert (handling["capped"], handling["row_limit"]) == (False, statistics.MAX_ROWS)

    outside = client.get("/api/statistics/lifecycle?region=120101", headers=bearer("supervisor")).json
    assert outside["by_status"] == [] and outside["overdue_rate"]["total"]["rate"] is None
    bad = client.get("/api/statistics/lifecycle?from=2025-10-02&to=2025-10-01&sort=x", headers=bearer("supervisor"))
    assert bad.status_code == 400 and set(bad.json["fields"]) == {"to", "sort"}
    assert "/api/statistics/lifecycle" in client.get("/api/openapi.json").json["paths"]
