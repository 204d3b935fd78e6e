"""导出: the inbox's current list (待办 / 已办) as .xlsx — same filters, Chinese headers, dates as
YYYY-MM-DD, and text that Excel would take for a formula escaped."""
from __future__ import annotations

import io
from datetime import datetime

import pytest
from openpyxl import load_workbook

from engine.actors import Actor
from tests.bpmn_factory import linear_process
from tests.web.conftest import open_task, submit

STARTER = Actor("reviewer", frozenset({("reviewer", "110000")}))
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def sheet(response) -> list[list]:
    assert response.status_code == 200 and response.content_type == XLSX
    assert response.headers["Content-Disposition"].startswith("attachment;")
    return [[c.value for c in row] for row in load_workbook(io.BytesIO(response.data)).active.iter_rows()]


def cells(response) -> list:
    workbook = load_workbook(io.BytesIO(response.data))
    return [c for row in workbook.active.iter_rows(min_row=2) for c in row]


@pytest.fixture
def hostile_case(runtime) -> str:
    """A case whose business key, step and submitter look like spreadsheet formulas."""
    with runtime.unit_of_work() as uow:
        runtime.deployer.deploy(uow.session, [(linear_process("export_formula", label="=1+1"),
                                               "export_formula.bpmn")], "test")
        runtime.engine.start(uow, "export_formula", business_key="-2+3", region_code="110101", data={},
                             actor=STARTER, submitter='=HYPERLINK("http://evil.example","点我")')
        runtime.engine.start(uow, "export_formula", business_key="@SUM(A1)", region_code="110101", data={},
                             actor=STARTER, submitter="+86 单位")
        uow.commit()
    return "-2+3"


def test_open_tasks_export_with_chinese_headers_and_dates(runtime, browser):
    first, second = submit(runtime), submit(runtime)
    rows = sheet(browser("reviewer").client.get("/inbox/export.xlsx"))
    assert rows[0] == ["业务编号", "办理环节", "流程", "申报单位", "区划", "接收日期", "办理期限", "是否超期", "认领人"]
    by_key = {row[0]: row for row in rows[1:]}
    assert set(by_key) == {first.batch_no, second.batch_no}
    row = by_key[first.batch_no]
    assert (row[1], row[2]) == ("初审", "首次申报审核")  # the process shown by its name
    assert row[4] == "110101" and row[7] == "否" and row[8] is None
    assert isinstance(row[5], datetime) and isinstance(row[6], datetime) and row[6] > row[5]
    dated = [c for c in cells(browser("reviewer").client.get("/inbox/export.xlsx")) if c.is_date]
    assert dated and all(c.number_format == "yyyy-mm-dd" for c in dated)


def test_export_follows_the_filters_and_the_users_scope(runtime, browser):
    first, second = submit(runtime), submit(runtime)
    reviewer = browser("reviewer")
    only_first = sheet(reviewer.client.get(f"/inbox/export.xlsx?q={first.batch_no}"))
    assert [row[0] for row in only_first[1:]] == [first.batch_no]
    assert len(sheet(reviewer.client.get("/inbox/export.xlsx?overdue=true"))) == 1  # headers only: nothing overdue
    assert len(sheet(browser("tj_reviewer").client.get("/inbox/export.xlsx"))) == 1  # another region: nothing
    assert second.batch_no in {row[0] for row in sheet(reviewer.client.get("/inbox/export.xlsx?sort=business_key"))}
    page = reviewer.get(f"/inbox?q={first.batch_no}").get_data(as_text=True)
    assert f'href="/inbox/export.xlsx?q={first.batch_no}"' in page  # the page's link carries its filters


def test_done_list_export(runtime, browser):
    case = submit(runtime)
    reviewer = browser("reviewer")
    reviewer.post(f"/tasks/{open_task(runtime, case.instance_id).id}", {"decision": "approve", "conclusion": "同意"})
    rows = sheet(reviewer.client.get("/inbox/export.xlsx?scope=done"))
    assert rows[0] == ["业务编号", "办理环节", "流程", "申报单位", "区划", "接收日期", "办理日期", "办理结论"]
    assert [(r[0], r[1], r[7]) for r in rows[1:]] == [(case.batch_no, "初审", "通过")]
    assert isinstance(rows[1][6], datetime)


def test_formula_like_text_is_escaped(runtime, browser, hostile_case):
    response = browser("reviewer").client.get("/inbox/export.xlsx?process_key=export_formula&sort=business_key")
    rows = sheet(response)
    assert [row[:4] for row in rows[1:]] == [
        ["'-2+3", "'=1+1", "export_formula", "'=HYPERLINK(\"http://evil.example\",\"点我\")"],
        ["'@SUM(A1)", "'=1+1", "export_formula", "'+86 单位"],
    ]
    assert not any(c.data_type == "f" for c in cells(response))
