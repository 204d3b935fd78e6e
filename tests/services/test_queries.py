"""信息查询与统计 (seed 000, 7 and 8): filters, pages, region scope, Excel export."""
from __future__ import annotations

import io
from datetime import date

import pytest
from openpyxl import load_workbook

from engine.errors import Forbidden, InvalidData, NotFound
from services.platform import queries
from tests.services.review_helpers import actor, complete, in_register, person, person_ids, submit


def run(runtime, query, who="reviewer", **filters):
    with runtime.unit_of_work() as uow:
        return queries.run(uow.session, actor(who), query, filters, page=1, per_page=50)


def test_person_query_filters_and_pages_within_the_region(runtime):
    numbers = [in_register(runtime, n) for n in range(1, 4)]
    tianjin = in_register(runtime, 4, region="120101", who="tj_clerk",
                          histories=[("120101000003", "JZ001", date(1995, 7, 1), date(2010, 6, 30))])
    rows, total = run(runtime, "persons")
    assert total == 3 and {r["id_number"] for r in rows} == set(numbers)
    assert rows[0]["gender_label"] == "男" and rows[0]["region_name"] == "东城区" and rows[0]["work_histories"] == 1
    assert run(runtime, "persons", id_number=numbers[1].lower())[1] == 1
    assert run(runtime, "persons", name="库内2")[1] == 1
    assert run(runtime, "persons", work_type_code="MT002")[1] == 0
    assert [r["id_number"] for r in run(runtime, "persons", who="tj_reviewer")[0]] == [tianjin]
    with runtime.unit_of_work() as uow:
        page2, total = queries.run(uow.session, actor("reviewer"), "persons", {}, page=2, per_page=2)
    assert total == 3 and len(page2) == 1


def test_enterprise_query(runtime):
    rows, total = run(runtime, "enterprises", name="煤矿")
    assert [r["code"] for r in rows] == ["110101000001"] and rows[0]["portal_enabled_label"] == "开启"
    assert run(runtime, "enterprises", who="tj_reviewer")[0][0]["code"] == "120101000003"


def test_review_results_and_annual_statistics(runtime):
    batch_id, instance_id = submit(runtime, [person(5), person(6)], kind="annual")
    rejected = person_ids(runtime, batch_id)[1]
    complete(runtime, instance_id, "reviewer", {"decision": "approve", "rejected_persons": [str(rejected)],
                                                "conclusion": "证明不足"})
    complete(runtime, instance_id, "rechecker", {"decision": "approve"})
    submit(runtime, [person(7)])  # a first declaration, still open
    rows, total = run(runtime, "review-results", kind="annual")
    assert total == 2
    assert {(r["name"], r["status_label"], r["conclusion"]) for r in rows} == {
        ("测试5", "复核通过，已入库", None), ("测试6", "审核不通过，需重新申报", "证明不足")}
    year = date.today().year
    [stats], _ = run(runtime, "annual-review-stats", year=str(year))
    assert (stats["region_code"], stats["year"], stats["persons"], stats["approved"], stats["rejected"],
            stats["open"]) == ("110101", year, 2, 1, 1, 0)
    assert run(runtime, "annual-review-stats", year=str(year - 1))[1] == 0
    [first_stats], _ = run(runtime, "annual-review-stats", kind="first")
    assert first_stats["open"] == 1
    assert run(runtime, "annual-review-stats", who="tj_reviewer")[1] == 0


def test_historical_filings_by_region(runtime):
    in_register(runtime, 8)
    in_register(runtime, 9, histories=[("110101000001", "MT001", date(1995, 7, 1), date(2000, 6, 30)),
                                       ("110101000001", "MT002", date(2001, 1, 1), date(2004, 1, 1))])
    in_register(runtime, 10, region="110105", histories=[("110105000002", "YJ001", date(1995, 7, 1),
                                                          date(2000, 6, 30))])
    rows, _ = run(runtime, "historical-filings")
    assert [(r["region_code"], r["persons"], r["work_histories"]) for r in rows] == [("110101", 2, 3),
                                                                                    ("110105", 1, 1)]
    rows, _ = run(runtime, "historical-filings", year="2008")  # only 8 still at work, 9 stopped in 2004
    assert [(r["region_code"], r["persons"]) for r in rows] == [("110101", 1)]


def test_bad_filters_unknown_queries_and_applicants(runtime):
    with pytest.raises(InvalidData) as refused:
        run(runtime, "review-results", year="二〇二四", region_code="11")
    assert set(refused.value.fields) == {"year", "region_code"}
    with pytest.raises(NotFound):
        run(runtime, "everything")
    with pytest.raises(Forbidden):
        run(runtime, "persons", who="enterprise")


def test_export_contains_every_filtered_row_with_labels(runtime):
    in_register(runtime, 11)
    with runtime.unit_of_work() as uow:
        content = queries.export(uow.session, actor("reviewer"), "persons", {})
    sheet = load_workbook(io.BytesIO(content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("公民身份号码", "姓名", "性别")
    assert rows[1][1:3] == ("库内11", "男") and len(rows) == 2
