"""An enterprise user in a real browser: uploads a workbook on 新增申报 and watches the progress bar,
refreshed by static/js/progress.js without reloading by hand, reach the import's result."""
from __future__ import annotations

import re

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
