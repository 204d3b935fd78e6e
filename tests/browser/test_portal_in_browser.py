"""An enterprise user in a real browser: uploads a workbook on 新增申报 and watches the progress bar,
refreshed by static/js/progress.js without reloading by hand, reach the import's result."""
from __future__ import annotations

import re
from datetime import date

from services.special_work import declarations
from tests.conftest import actor, person
from tests.import_files import good_row, workbook

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def test_enterprise_uploads_a_workbook_and_watches_the_progress_reach_the_result(live, open_page, output_dir):
    base, rt = live
    page = open_page("enterprise")
    page.click("nav >> text=新增申报")
    page.check("input[name=kind][value=first]")
    page.set_input_files("#file", files=[{"name": "申报.xlsx", "mimeType": XLSX,
                                          "buffer": workbook(good_row(461), good_row(462), good_row(463))}])
    page.click("button:has-text('上传并导入')")
    page.wait_for_url(re.compile(r"/portal/imports/\d+$"))
    bar = page.locator(".job-progress")
    assert bar.locator("[data-field=status_label]").inner_text() == "排队中"
    assert bar.locator("[data-field=total]").inner_text() == "3"
    page.screenshot(path=str(output_dir / "portal_import_queued.png"), full_page=True)

    assert rt.jobs.run_pending() == 1  # the background worker's turn; the page polls and then shows the result
    page.locator("#result-title").wait_for()
    assert page.locator(".alert-success", has_text="已导入 3 名人员").is_visible()
    assert page.locator("[data-field=done]").inner_text() == "3"
    page.screenshot(path=str(output_dir / "portal_import_done.png"), full_page=True)
    page.click("text=查看申报批次")
    page.wait_for_url(re.compile(r"/portal/batches/\d+$"))
    assert page.locator("table.persons tbody tr").count() == 3


def test_enterprise_pages_through_a_large_batch_and_finds_one_person(live, open_page, output_dir):
    _base, rt = live
    people = [person(300 + n, birth=date(1971, 2, 3), name=f"分页{n + 1}") for n in range(130)]
    with rt.unit_of_work() as uow:
        batch = declarations.submit_declaration(uow, rt.engine, actor("enterprise"), "110101000001", "first",
                                                [declarations.PersonInput(**p) for p in people])
        uow.commit()
    rt.jobs.run_pending()
    page = open_page("enterprise")
    page.goto(f"/portal/batches/{batch.id}")
    assert page.locator("table.persons tbody tr").count() == 100
    page.click("a[rel=next]")
    assert page.locator("table.persons tbody tr").count() == 30
    assert page.locator("table.persons tbody tr").first.locator("td").nth(1).inner_text() == "分页101"
    page.fill("input[name=q]", people[122]["id_number"])
    page.click("button:has-text('筛选')")
    assert page.locator("table.persons tbody tr").count() == 1
    assert page.locator("table.persons tbody tr td").nth(1).inner_text() == "分页123"
    page.screenshot(path=str(output_dir / "portal_batch_search.png"), full_page=True)
