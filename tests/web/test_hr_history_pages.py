"""历史数据采集 pages: the template download, an upload that becomes a background import, its progress
and result (row errors listed), and who may use them."""
from __future__ import annotations

import io

from openpyxl import load_workbook
from sqlalchemy import func, select

from services.hr_market import history_import
from services.hr_market.models import HrOrganisation
from tests.services.test_hr_history_import import row, workbook


def upload(browser, content: bytes, filename: str = "历史数据.xlsx"):
    return browser.post("/hr/history", {"file": (io.BytesIO(content), filename)}, content_type="multipart/form-data")


def test_the_page_offers_the_template_and_the_upload(browser):
    admin = browser("admin")
    page = admin.get("/hr/history")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "历史数据采集" in html and 'href="/hr/history/template"' in html and 'enctype="multipart/form-data"' in html
    template = admin.client.get("/hr/history/template")  # a workbook: not a page to read a token from
    assert template.status_code == 200
    assert template.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    sheet = load_workbook(io.BytesIO(template.data))[history_import.SHEET]
    assert [cell.value for cell in sheet[1]] == list(history_import.TEMPLATE_COLUMNS)


def test_an_upload_runs_as_a_job_whose_page_shows_progress_then_the_result(browser, runtime):
    admin = browser("admin")
    answer = upload(admin, workbook(row(1), row(2)))
    assert answer.status_code == 302
    job_id = int(answer.location.rsplit("job=", 1)[1])
    queued = admin.get(answer.location).get_data(as_text=True)
    assert "导入进度" in queued and f"/jobs/{job_id}/progress" in queued

    assert runtime.jobs.execute(job_id) == "done"
    html = admin.get(answer.location).get_data(as_text=True)
    assert "已导入 2 个机构、2 个行政许可、2 个业务备案" in html
    assert f'href="/hr/history?job={job_id}"' in html  # among the recent imports
    with runtime.unit_of_work() as uow:
        assert uow.session.scalar(select(func.count()).select_from(HrOrganisation)) == 2


def test_a_file_with_errors_lists_them_by_row_and_imports_nothing(browser, runtime):
    admin = browser("admin")
    answer = upload(admin, workbook(row(1), row(2, region_code="120101")))
    runtime.jobs.execute(int(answer.location.rsplit("job=", 1)[1]))
    html = admin.get(answer.location).get_data(as_text=True)
    assert "第3行：所属区划不在您的管辖范围内" in html and "未导入任何数据" in html
    with runtime.unit_of_work() as uow:
        assert uow.session.scalar(select(func.count()).select_from(HrOrganisation)) == 0


def test_a_missing_or_wrong_file_is_refused_on_the_page(browser):
    admin = browser("admin")
    missing = admin.post("/hr/history", {}, content_type="multipart/form-data")
    assert missing.status_code == 400 and "请选择要上传的文件" in missing.get_data(as_text=True)
    wrong = upload(admin, workbook(row(1), header=("姓名", "性别")))
    assert wrong.status_code == 400 and "表头与模板不一致" in wrong.get_data(as_text=True)


def test_staff_without_a_managing_role_may_not_import(browser, runtime):
    reviewer = browser("reviewer")
    assert reviewer.get("/hr/history").status_code == 403
    assert reviewer.client.get("/hr/history/template").status_code == 403
    assert upload(reviewer, workbook(row(1))).status_code == 403
    admin = browser("admin")
    assert admin.get("/hr/history?job=999999").status_code == 404
    assert admin.get("/hr/history?job=abc").status_code == 200  # not a job id: the page without one
