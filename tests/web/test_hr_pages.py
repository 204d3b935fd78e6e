"""The licence system through the generic pages and the API: an organisation starts an application with
its materials from 发起办件 (a multipart form), the office and the applicant see and download the files,
nobody else does; the API stages files and names them by id; 机构管理 refuses a wrong credit code."""
from __future__ import annotations

import io
import re

from sqlalchemy import func, select

from engine.models import ProcessInstance
from services.platform.attachments import CaseAttachment
from tests.processes.hr_helpers import APPLICATION, PDF, act, apply, register_organisation
from tests.web.conftest import Browser


def files_form(materials: dict[str, bytes]) -> dict:
    form: dict = {"licence_items": APPLICATION["licence_items"], "premises": APPLICATION["premises"],
                  "staff_count": "5", "contact_phone": APPLICATION["contact_phone"]}
    for key, content in materials.items():
        form[key] = (io.BytesIO(content), f"{key}.pdf")
    return form


MATERIALS = ("application_letter", "business_licence", "articles", "premises_proof", "staff_list",
             "legal_representative_id")


def test_an_organisation_applies_with_its_materials_from_the_start_page(runtime, browser):
    register_organisation(runtime)
    applicant: Browser = browser("hr_org")
    assert "人力资源服务许可" in applicant.get("/start").get_data(as_text=True)
    page = applicant.get("/start/hr_licence").get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in page and page.count('type="file"') == 6
    missing = applicant.post("/start/hr_licence", files_form({k: PDF for k in MATERIALS if k != "articles"}),
                             content_type="multipart/form-data")
    assert missing.status_code == 400 and "请上传“机构章程和管理制度”" in missing.get_data(as_text=True)
    wrong = applicant.post("/start/hr_licence", files_form({**{k: PDF for k in MATERIALS}, "articles": b"GIF89a"}),
                           content_type="multipart/form-data")
    assert wrong.status_code == 400 and "只能是 PDF、PNG 或 JPEG" in wrong.get_data(as_text=True)
    with runtime.unit_of_work() as uow:
        assert uow.session.scalar(select(func.count()).select_from(CaseAttachment)) == 0
    started = applicant.post("/start/hr_licence", files_form({k: PDF for k in MATERIALS}),
                             content_type="multipart/form-data")
    assert started.status_code == 302 and "/my/cases/" in started.location
    mine = applicant.get(started.location).get_data(as_text=True)
    assert "申请材料" in mine and "机构章程和管理制度" in mine
    link = re.search(r'href="(/cases/\d+/attachments/\d+)"', mine).group(1)
    assert applicant.get(link).data == PDF
    assert browser("acceptor").get(link).data == PDF  # the office of the region
    assert browser("hr_org_chaoyang").get(link).status_code == 404  # another organisation
    assert browser("tj_reviewer").get(link).status_code == 404  # another province's office


def test_the_task_page_shows_the_materials_and_the_resubmission_keeps_them(runtime, browser):
    register_organisation(runtime)
    case = apply(runtime)
    with runtime.unit_of_work() as uow:
        task_id = runtime.engine.open_tasks(uow.session, case.id)[0].id
    office = browser("acceptor").get(f"/tasks/{task_id}").get_data(as_text=True)
    assert "申请材料" in office and "北京东城人才服务有限公司" in office and "职责" not in office
    act(runtime, case.id, "acceptor", {"decision": "correct", "correction_items": "租赁合同已过期"})
    with runtime.unit_of_work() as uow:
        task_id = runtime.engine.open_tasks(uow.session, case.id)[0].id
    resubmit = browser("hr_org").get(f"/tasks/{task_id}").get_data(as_text=True)
    assert 'value="东城区示范路 1 号"' in resubmit  # prefilled from the application
    assert resubmit.count('class="choice kept-file"') == 6  # each file kept unless unticked


def test_the_api_stages_a_file_and_the_start_names_it(runtime, client, bearer):
    register_organisation(runtime)
    headers = bearer("hr_org")
    ids = {}
    for key in MATERIALS:
        staged = client.post("/api/attachments", headers=headers, content_type="multipart/form-data",
                             data={"field": key, "file": (io.BytesIO(PDF), "x.pdf")})
        assert staged.status_code == 201, staged.json
        ids[key] = [staged.json["id"]]
    refused = client.post("/api/attachments", headers=headers, content_type="multipart/form-data",
                          data={"field": "articles", "file": (io.BytesIO(b"<?php"), "x.pdf")})
    assert refused.status_code == 400 and "PDF" in refused.json["message"]
    foreign = client.post("/api/instances", headers=bearer("hr_org_chaoyang"), json={
        "process_key": "hr_licence", "region_code": "110105",
        "data": {**APPLICATION, **ids}})
    assert foreign.status_code in (400, 409)  # not its files (and not its organisation)
    chosen = client.post("/api/instances", headers=headers, json={
        "process_key": "hr_licence", "business_key": "HRL110105202612310001", "data": {**APPLICATION, **ids}})
    assert chosen.status_code == 400  # numbers of an office's sequence are drawn, never chosen by a client
    started = client.post("/api/instances", headers=headers, json={
        "process_key": "hr_licence", "region_code": "110101", "data": {**APPLICATION, **ids}})
    assert started.status_code == 201, started.json
    with runtime.unit_of_work() as uow:
        bound = uow.session.scalars(select(CaseAttachment.instance_id)).all()
        assert set(bound) == {started.json["id"]}
        case = uow.session.get(ProcessInstance, started.json["id"])
        assert case.title.startswith("北京东城人才服务有限公司（") and case.business_key.startswith("HRL110101")
    download = client.get(f"/api/instances/{started.json['id']}/attachments/{ids['articles'][0]}", headers=headers)
    assert download.status_code == 200 and download.data == PDF


def test_the_organisation_register_pages(runtime, browser):
    admin = browser("admin")
    assert "机构管理" in admin.get("/").get_data(as_text=True)
    form = {"credit_code": "91350100M000100Y44", "name": "新机构", "kind": "enterprise", "legal_representative": "王五",
            "address": "东城区一号", "region_code": "110101"}
    wrong = admin.post("/hr/organisations/new", form)
    assert wrong.status_code == 400 and "统一社会信用代码校验位错误" in wrong.get_data(as_text=True)
    added = admin.post("/hr/organisations/new", form | {"credit_code": "91350100M000100Y43"})
    assert added.status_code == 302
    listed = admin.get("/hr/organisations?q=新机构").get_data(as_text=True)
    assert "91350100M000100Y43" in listed
    edit = added.location
    assert admin.post(edit + "/delete").status_code == 302
    assert "没有符合条件的机构" in admin.get("/hr/organisations?q=新机构").get_data(as_text=True)
    assert browser("reviewer").get("/hr/organisations").status_code == 403


def test_the_licence_and_filing_queries_are_region_scoped_and_export(runtime, browser):
    register_organisation(runtime)
    case = apply(runtime)
    act(runtime, case.id, "acceptor", {"decision": "approve"})
    act(runtime, case.id, "approver", {"decision": "approve"})
    filing = apply(runtime, process="hr_filing")
    act(runtime, filing.id, "acceptor", {"decision": "approve"})
    act(runtime, filing.id, "approver", {"decision": "approve"})
    office = browser("acceptor")
    licences = office.get("/queries/hr-licences").get_data(as_text=True)
    assert "北京东城人才服务有限公司" in licences and "有效" in licences
    assert "110101B" in office.get("/queries/hr-filings").get_data(as_text=True)
    export = office.client.get("/queries/hr-licences/export.xlsx")
    assert export.status_code == 200 and export.data[:2] == b"PK"
    assert "北京东城人才服务有限公司" not in browser("tj_reviewer").get("/queries/hr-licences").get_data(as_text=True)


def test_the_cancellation_page_looks_up_a_licence_and_cancels_it(runtime, browser):
    register_organisation(runtime)
    case = apply(runtime)
    act(runtime, case.id, "acceptor", {"decision": "approve"})
    act(runtime, case.id, "approver", {"decision": "approve"})
    from services.hr_market.models import HrLicence

    with runtime.unit_of_work() as uow:
        number = uow.session.scalars(select(HrLicence.licence_number)).one()
    office = browser("approver")
    found = office.get(f"/hr/cancellations?licence_number={number}").get_data(as_text=True)
    assert "北京东城人才服务有限公司" in found and 'name="items"' in found
    missing = office.post("/hr/cancellations", {"licence_number": number, "cancelled_on": "2026-12-01"})
    assert missing.status_code == 400 and "请选择注销原因" in missing.get_data(as_text=True)
    done = office.post("/hr/cancellations", {"licence_number": number, "reason": "expired",
                                             "cancelled_on": "2026-12-01"})
    assert done.status_code == 302
    listed = office.get("/hr/cancellations").get_data(as_text=True)
    assert number in listed and "全部（许可证注销）" in listed and "有效期届满未延续" in listed
    assert browser("acceptor").get("/hr/cancellations").status_code == 403


def test_the_yearly_statistics_count_per_district_with_a_total(runtime, browser, client, bearer):
    from datetime import date

    from services.hr_market import cancellations

    register_organisation(runtime)
    register_organisation(runtime, "hr_org_chaoyang", "北京朝阳职业介绍中心有限公司")
    for account in ("hr_org", "hr_org_chaoyang"):
        case = apply(runtime, account)
        act(runtime, case.id, "acceptor", {"decision": "approve"})
        act(runtime, case.id, "approver", {"decision": "approve"})
    filing = apply(runtime, process="hr_filing")
    act(runtime, filing.id, "acceptor", {"decision": "approve"})
    act(runtime, filing.id, "approver", {"decision": "approve"})
    from services.hr_market.models import HrLicence
    from tests.conftest import actor

    with runtime.unit_of_work() as uow:
        numbers = sorted(uow.session.scalars(select(HrLicence.licence_number)))
        year = uow.session.scalars(select(HrLicence.issued_on)).first().year
        cancellations.cancel(uow.session, actor("approver"), cancellations.CancellationInput(
            numbers[0], [], "terminated", "", date(year, 6, 1)))
        uow.commit()
    headers = bearer("approver")
    new = client.get(f"/api/queries/hr-new-registrations?year={year}", headers=headers)
    rows = {r["region_name"]: r for r in new.json["items"]}
    assert [name for name in rows] == ["东城区", "朝阳区", "合计"]  # per district, the total last
    assert (rows["东城区"]["new_licences"], rows["东城区"]["new_filings"], rows["朝阳区"]["new_licences"]) == (1, 1, 1)
    assert rows["合计"]["total"] == 3
    gone = {r["region_name"]: r for r in client.get(f"/api/queries/hr-deregistrations?year={year}",
                                                    headers=headers).json["items"]}
    assert gone["合计"]["licences_by_authority"] == 1 and gone["合计"]["licences_applied"] == 0
    office = browser("approver")
    assert "行政机关注销" in office.get(f"/queries/hr-deregistrations?year={year}").get_data(as_text=True)
    assert office.client.get(f"/queries/hr-deregistrations/export.xlsx?year={year}").status_code == 200


def test_a_passed_annual_report_is_returned_from_its_case_page(runtime, browser):
    from services.hr_market.models import HrAnnualReport
    from tests.processes.test_hr_annual_report import REPORT

    register_organisation(runtime)
    case = apply(runtime, data=REPORT, uploads={}, process="hr_annual_report")
    act(runtime, case.id, "approver", {"decision": "approve"})
    office = browser("approver")
    page = office.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "年度报告 2025" in page and "退回重填" in page
    with runtime.unit_of_work() as uow:
        report_id = uow.session.scalars(select(HrAnnualReport.id)).one()
    assert "退回重填" not in browser("hr_org").get(f"/my/cases/{case.id}").get_data(as_text=True)
    done = office.post(f"/hr/annual-reports/{report_id}/reopen", {"reason": "数据有误", "instance_id": str(case.id)})
    assert done.status_code == 302 and done.location.endswith(f"/cases/{case.id}")
    with runtime.unit_of_work() as uow:
        assert uow.session.get(HrAnnualReport, report_id).status == "returned"
    assert browser("acceptor").post(f"/hr/annual-reports/{report_id}/reopen", {"reason": "x"}).status_code == 404


def test_an_organisation_enters_a_job_fair_on_its_page(runtime, browser):
    register_organisation(runtime)
    case = apply(runtime)
    act(runtime, case.id, "acceptor", {"decision": "approve"})
    act(runtime, case.id, "approver", {"decision": "approve"})  # 为用人单位推荐劳动者, 组织开展招聘会
    organisation = browser("hr_org")
    assert "现场招聘会" in organisation.get("/my/cases").get_data(as_text=True)  # its menu
    form = {"name": "冬季招聘会", "starts_on": "2026-12-20", "ends_on": "2026-12-19", "venue": "会展中心",
            "region_code": "110101", "contact_person": "王", "contact_phone": "010-1"}
    wrong = organisation.post("/hr/job-fairs", form)
    assert wrong.status_code == 400 and "结束日期不能早于开始日期" in wrong.get_data(as_text=True)
    assert organisation.post("/hr/job-fairs", form | {"ends_on": "2026-12-21"}).status_code == 302
    assert "冬季招聘会" in browser("acceptor").get("/queries/hr-job-fairs").get_data(as_text=True)
