"""查询统计 pages: the filter form comes from the query's declared filters; results are paged,
exportable to Excel, and scoped to the user's region (属地)."""
from __future__ import annotations

import io
from datetime import date

import pytest
from openpyxl import load_workbook

from services.platform.demo_data import demo_id_number
from services.special_work.models import Person, WorkHistory

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def add_persons(runtime, region: str, count: int, prefix: str) -> list[str]:
    """``count`` persons of ``region`` named prefix01…, each with one MT001 work history."""
    numbers = []
    with runtime.unit_of_work() as uow:
        for n in range(1, count + 1):
            number = demo_id_number(region, date(1970, 1, 1), n * 2 + 1)
            person = Person(id_number=number, name=f"{prefix}{n:02d}", gender="male", birth_date=date(1970, 1, 1),
                            region_code=region)
            uow.session.add(person)
            uow.session.flush()
            uow.session.add(WorkHistory(person_id=person.id, enterprise_code="110101000001", work_type_code="MT001",
                                        start_date=date(1995, 1, 1), end_date=date(2005, 1, 1)))
            numbers.append(number)
        uow.commit()
    return numbers


@pytest.fixture
def register_rows(runtime) -> dict[str, list[str]]:
    return {"beijing": add_persons(runtime, "110101", 23, "京员"), "tianjin": add_persons(runtime, "120101", 2, "津员")}


def test_every_query_has_a_page_in_the_menu(browser):
    reviewer = browser("reviewer")
    index = reviewer.get("/queries").get_data(as_text=True)
    for name in ("persons", "enterprises", "review-results", "spot-check-results", "suspicious-data", "catalogue",
                 "annual-review-stats", "historical-filings", "early-retirements"):
        assert f'href="/queries/{name}"' in index
        assert reviewer.get(f"/queries/{name}").status_code == 200
    assert 'href="/queries"' in reviewer.get("/").get_data(as_text=True)  # 查询统计 in the navigation


def test_filter_form_comes_from_the_declared_filters(browser):
    page = browser("reviewer").get("/queries/spot-check-results").get_data(as_text=True)
    assert 'name="checked_from"' in page and 'type="date"' in page  # date filter
    assert '<option value="fail" >抽查不通过</option>' in page  # labelled column → select
    assert 'name="region_code"' in page and "110101 东城区" in page


def test_query_page_filters_and_pages(browser, register_rows):
    reviewer = browser("reviewer")
    first = reviewer.get("/queries/persons?region_code=110101").get_data(as_text=True)
    assert "共 23 条" in first and "第 1 / 2 页" in first
    assert first.count("京员") == 20 and "津员" not in first
    second = reviewer.get("/queries/persons?region_code=110101&page=2").get_data(as_text=True)
    assert second.count("京员") == 3
    assert 'href="/queries/persons?page=1&amp;region_code=110101&amp;per_page=20"' in second
    named = reviewer.get("/queries/persons?name=京员07").get_data(as_text=True)
    assert "共 1 条" in named and register_rows["beijing"][6] in named


def test_a_bad_filter_is_reported_on_its_field(browser, register_rows):
    response = browser("reviewer").get("/queries/persons?year=x&suspicious=maybe")
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "有疑点经历的取值无效" in page and "京员" not in page


def test_export_holds_the_filtered_rows(browser, register_rows):
    reviewer = browser("reviewer")
    page = reviewer.get("/queries/persons?name=京员0").get_data(as_text=True)
    assert 'href="/queries/persons/export.xlsx?name=%E4%BA%AC%E5%91%980"' in page
    response = reviewer.client.get("/queries/persons/export.xlsx?name=京员0")
    assert response.status_code == 200 and response.content_type == XLSX
    rows = [[c.value for c in row] for row in load_workbook(io.BytesIO(response.data)).active.iter_rows()]
    assert rows[0][:2] == ["公民身份号码", "姓名"]
    assert sorted(r[1] for r in rows[1:]) == [f"京员0{n}" for n in range(1, 10)]


def test_a_foreign_region_user_sees_none_of_another_regions_rows(browser, register_rows):
    tianjin = browser("tj_reviewer")
    page = tianjin.get("/queries/persons").get_data(as_text=True)
    assert "共 2 条" in page and "津员01" in page
    assert not any(number in page for number in register_rows["beijing"])
    assert "京员" not in tianjin.get("/queries/persons?region_code=110101").get_data(as_text=True)
    exported = tianjin.client.get("/queries/persons/export.xlsx")
    names = [row[1].value for row in load_workbook(io.BytesIO(exported.data)).active.iter_rows(min_row=2)]
    assert sorted(names) == ["津员01", "津员02"]


def test_applicants_may_not_query_the_register(browser):
    enterprise = browser("enterprise")
    assert enterprise.get("/queries/persons").status_code == 403
    assert enterprise.client.get("/queries/persons/export.xlsx").status_code == 403
    assert 'href="/queries"' not in enterprise.get("/", follow_redirects=True).get_data(as_text=True)
