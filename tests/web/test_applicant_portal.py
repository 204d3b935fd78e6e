"""The applicant portal: 我的申报, 新增申报 with a background import (progress, result, cancel), a
batch's detail, and the reviewers' read-only progress bar of a case's background 校验."""
from __future__ import annotations

import io
import re

from sqlalchemy import func, select, update

from services.platform.jobs import Job
from services.special_work.models import DeclarationBatch
from tests.conftest import person
from tests.import_files import bad_row, good_row, workbook
from tests.web.conftest import submit


def upload(browser_, content: bytes, kind: str = "first", good_rows_only: bool = False, letter: bytes | None = None):
    data = {"kind": kind, "file": (io.BytesIO(content), "申报.xlsx")}
    if good_rows_only:
        data["import_valid_rows"] = "on"
    if letter is not None:
        data["letter"] = (io.BytesIO(letter), "承诺书.pdf")
    return browser_.post("/portal/new", data, content_type="multipart/form-data")


def job_id_of(response) -> int:
    assert response.status_code == 302, response.get_data(as_text=True)
    return int(re.search(r"/portal/imports/(\d+)$", response.headers["Location"]).group(1))


def batches(runtime) -> int:
    with runtime.unit_of_work() as uow:
        return uow.session.scalar(select(func.count()).select_from(DeclarationBatch))


def test_upload_returns_at_once_and_the_page_follows_the_job_to_its_result(runtime, browser):
    enterprise = browser("enterprise")
    form = enterprise.get("/portal/new").get_data(as_text=True)
    assert "仅导入无误的行" in form and "/portal/template.xlsx" in form and 'name="letter"' in form
    template = enterprise.client.get("/portal/template.xlsx")
    assert template.status_code == 200 and template.data.startswith(b"PK")

    job_id = job_id_of(upload(enterprise, workbook(good_row(301), good_row(302)), letter=b"%PDF-1.7\n%%EOF"))
    assert batches(runtime) == 0  # nothing was imported inside the request
    waiting = enterprise.get(f"/portal/imports/{job_id}").get_data(as_text=True)
    assert "<progress" in waiting and 'http-equiv="refresh"' in waiting and "取消" in waiting
    assert re.search(r'data-field="done">0</span> / <span data-field="total">2<', waiting)
    assert enterprise.get(f"/jobs/{job_id}/progress").json == {
        "id": job_id, "status": "queued", "status_label": "排队中", "done": 0, "total": 2, "percent": 0,
        "final": False, "cancel_requested": False, "region_code": "110101"}

    runtime.jobs.run_pending()
    progress = enterprise.get(f"/jobs/{job_id}/progress").json
    assert (progress["status"], progress["done"], progress["total"], progress["final"]) == ("done", 2, 2, True)
    result = enterprise.get(f"/portal/imports/{job_id}").get_data(as_text=True)
    assert "已导入 2 名人员" in result and 'http-equiv="refresh"' not in result
    batch_id = int(re.search(r"/portal/batches/(\d+)", result).group(1))

    listing = enterprise.get("/portal").get_data(as_text=True)
    with runtime.unit_of_work() as uow:
        batch = uow.session.get(DeclarationBatch, batch_id)
    assert batch.batch_no in listing and "首次申报" in listing and "初审" in listing  # current step
    assert "最近的导入" in listing and "已导入 2 名人员" in listing
    detail = enterprise.get(f"/portal/batches/{batch_id}").get_data(as_text=True)
    assert "导入301" in detail and "导入302" in detail and "提交申报" in detail and "承诺书.pdf" in detail


def test_a_file_with_errors_imports_nothing_and_lists_rows_and_columns(runtime, browser):
    enterprise = browser("enterprise")
    job_id = job_id_of(upload(enterprise, workbook(good_row(310), bad_row())))
    runtime.jobs.run_pending()
    page = enterprise.get(f"/portal/imports/{job_id}").get_data(as_text=True)
    assert "未导入任何数据" in page
    assert re.search(r'<td class="num">3</td><td>公民身份号码</td><td class="wrap">公民身份号码校验位错误</td>', page)
    assert batches(runtime) == 0


def test_import_good_rows_only(runtime, browser):
    enterprise = browser("enterprise")
    job_id = job_id_of(upload(enterprise, workbook(good_row(320, "好人"), bad_row("坏人")), good_rows_only=True))
    runtime.jobs.run_pending()
    page = enterprise.get(f"/portal/imports/{job_id}").get_data(as_text=True)
    assert "已导入 1 名人员" in page and "公民身份号码校验位错误" in page
    batch_id = int(re.search(r"/portal/batches/(\d+)", page).group(1))
    detail = enterprise.get(f"/portal/batches/{batch_id}").get_data(as_text=True)
    assert "好人" in detail and "坏人" not in detail


def test_cancel_stops_the_import_and_imports_nothing(runtime, browser):
    enterprise = browser("enterprise")
    job_id = job_id_of(upload(enterprise, workbook(good_row(330))))
    cancelled = enterprise.post(f"/portal/imports/{job_id}/cancel")
    assert cancelled.status_code == 302
    page = enterprise.get(f"/portal/imports/{job_id}").get_data(as_text=True)
    assert "导入已取消，未导入任何数据" in page
    assert runtime.jobs.run_pending() == 0 and batches(runtime) == 0


def test_another_enterprise_gets_404_on_the_batch_and_the_job(runtime, browser):
    enterprise = browser("enterprise")
    job_id = job_id_of(upload(enterprise, workbook(good_row(340))))
    runtime.jobs.run_pending()
    batch_id = int(re.search(r"/portal/batches/(\d+)",
                             enterprise.get(f"/portal/imports/{job_id}").get_data(as_text=True)).group(1))
    other = browser("tj_enterprise")
    for url in (f"/portal/imports/{job_id}", f"/jobs/{job_id}/progress", f"/portal/batches/{batch_id}"):
        assert other.get(url).status_code == 404, url
    assert other.post(f"/portal/imports/{job_id}/cancel").status_code == 404
    assert "导入340" not in other.get("/portal").get_data(as_text=True)


def test_a_malformed_workbook_gets_a_clear_chinese_error_and_changes_nothing(runtime, browser):
    enterprise = browser("enterprise")
    refused = upload(enterprise, b"%PDF-1.4 not a workbook")
    assert refused.status_code == 400
    assert "文件不是有效的 Excel 工作簿" in refused.get_data(as_text=True)
    no_kind = upload(enterprise, workbook(good_row(350)), kind="")
    assert no_kind.status_code == 400 and "请选择申报类型" in no_kind.get_data(as_text=True)
    with runtime.unit_of_work() as uow:
        assert uow.session.scalar(select(func.count()).select_from(Job)) == 0


def test_navigation_adapts_to_the_role(browser):
    enterprise = browser("enterprise").get("/portal").get_data(as_text=True)
    assert "我的申报" in enterprise and 'href="/inbox"' not in enterprise
    reviewer = browser("reviewer")
    assert "我的申报" not in reviewer.get("/").get_data(as_text=True)
    assert reviewer.get("/portal").status_code == 403


def test_reviewers_see_the_case_validation_progress_and_supervisors_may_retry_it(runtime, browser):
    case = submit(runtime)
    with runtime.unit_of_work() as uow:  # a large batch's 校验 running in the background
        job = runtime.jobs.submit(uow.session, uow.after_commit, "declaration.validate", {"batch_id": case.batch_id},
                                  created_by="enterprise", region_code="110101", instance_id=case.instance_id,
                                  total=3)
        uow.commit()
    reviewer = browser("reviewer")
    page = reviewer.get(f"/cases/{case.instance_id}").get_data(as_text=True)
    assert "后台校验" in page and "<progress" in page and "重试" not in page.split("后台校验")[1].split("</section>")[0]

    with runtime.unit_of_work() as uow:
        uow.session.execute(update(Job).where(Job.id == job.id).values(status="failed", error="boom"))
        uow.commit()
    assert "后台校验失败" in reviewer.get(f"/cases/{case.instance_id}").get_data(as_text=True)
    assert reviewer.post(f"/jobs/{job.id}/retry").status_code == 403
    supervisor = browser("supervisor")
    panel = supervisor.get(f"/cases/{case.instance_id}").get_data(as_text=True)
    assert f"/jobs/{job.id}/retry" in panel
    assert supervisor.post(f"/jobs/{job.id}/retry", {"back": f"/cases/{case.instance_id}"}).status_code == 302
    with runtime.unit_of_work() as uow:
        assert uow.session.get(Job, job.id).status == "queued"


def test_a_large_batch_is_listed_a_page_at_a_time_and_can_be_filtered(runtime, browser):
    people = [person(200 + n) for n in range(105)]
    for n in (7, 101):  # two wrong check digits: 校验 findings
        people[n] = {**people[n], "id_number": people[n]["id_number"][:17] + ("0" if people[n]["id_number"][17] != "0"
                                                                              else "1")}
    case = submit(runtime, people)
    runtime.jobs.run_pending()  # a large batch's 校验 may run in the background
    enterprise = browser("enterprise")

    def rows(query: str = "") -> list[tuple[str, str]]:  # (序号, 姓名) of the listed persons
        page = enterprise.get(f"/portal/batches/{case.batch_id}{query}").get_data(as_text=True)
        return re.findall(r'<tr class="[^"]*">\s*<td>(\d+)</td><td data-user>([^<]+)</td>', page)

    first = enterprise.get(f"/portal/batches/{case.batch_id}").get_data(as_text=True)
    assert "共 105 人" in first and "第 1 / 2 页" in first
    assert len(rows()) == 100 and rows()[0] == ("1", "测试200")
    assert rows("?page=2") == [(str(n), f"测试{199 + n}") for n in range(101, 106)]
    assert rows("?page=9") == rows("?page=2")  # past the end: the last page
    assert [name for _, name in rows("?findings=1")] == ["测试207", "测试301"]
    assert rows(f"?q={people[50]['id_number']}") == [("1", "测试250")]
    assert [name for _, name in rows("?q=测试25")] == [f"测试{n}" for n in range(250, 260)]
    assert "没有符合条件的人员" in enterprise.get(f"/portal/batches/{case.batch_id}?q=无此人").get_data(as_text=True)
