"""人力资源服务许可 (hr_licence) in a real browser, as its users take it: the organisation applies on 发起办件
with its six materials (refused while one is missing), 受理 returns it for 补正, the organisation resubmits the
same application with a new staff list, 受理 accepts it, 审批 grants it, and the organisation downloads its
licence certificate (许可证) from 我的办件."""
from __future__ import annotations

import io
import re
import shutil
import subprocess

from pypdf import PdfReader
from sqlalchemy import func, select

from engine.models import ProcessInstance
from services.platform.attachments import CaseAttachment
from tests.processes.hr_helpers import PDF, PNG, register_organisation

ORGANISATION = "北京东城人才服务有限公司"
MATERIALS = {  # the filepicker fields of forms/hr_market/hr_licence_application.json: key → material
    "application_letter": "从事职业中介活动的申请书",
    "business_licence": "营业执照",
    "articles": "机构章程和管理制度",
    "premises_proof": "经营场所的所有权证明或租赁合同",
    "staff_list": "专职工作人员名单及社会保险缴费证明",
    "legal_representative_id": "法定代表人身份证明",
}


def upload(page, key: str, name: str, content: bytes, mime: str = "application/pdf") -> None:
    page.set_input_files(f"input[type=file][name={key}]", files=[{"name": name, "mimeType": mime, "buffer": content}])


def submit(page) -> None:
    page.locator("section.task-form form").get_by_role("button", name="提交", exact=True).click()


def open_from_inbox(page, business_key: str, step: str) -> None:
    """The staff member's way to a task: 待办, the case's row at that step, its business key."""
    page.goto("/inbox")
    row = page.locator("table.tasks tbody tr", has_text=business_key).filter(has_text=step)
    row.get_by_role("link", name=business_key).click()
    page.wait_for_url(re.compile(r"/tasks/"))
    assert step in page.locator("h1").inner_text()


def field(page, label: str):
    """A form field by its label, which ends in * when the field is required."""
    return page.get_by_label(re.compile(rf"^{re.escape(label)}\*?$"))


def flash(page, text: str):
    return page.locator(".alert-success", has_text=text)


def count(rt, model) -> int:
    with rt.unit_of_work() as uow:
        return uow.session.scalar(select(func.count()).select_from(model))


def test_an_organisation_applies_corrects_and_downloads_its_licence(live, open_page, output_dir, tmp_path):
    _base, rt = live
    register_organisation(rt)
    cases_before, files_before = count(rt, ProcessInstance), count(rt, CaseAttachment)

    # 发起办件, first without the staff list: refused, nothing kept but what was typed
    org = open_page("hr_org")
    org.goto("/start/hr_licence")
    org.get_by_label("为用人单位推荐劳动者").check()
    org.get_by_label("组织开展招聘会").check()
    field(org, "经营场所").fill("东城区示范路 1 号")
    org.get_by_label("专职工作人员数").fill("5")
    org.get_by_label("联系电话").fill("010-65000001")
    for key in MATERIALS:
        if key != "staff_list":
            upload(org, key, f"{key}.pdf", PDF)
    submit(org)
    assert org.locator("#err-staff_list").inner_text() == "请上传“专职工作人员名单及社会保险缴费证明”"
    assert org.locator(".alert-error").is_visible()
    assert re.search(r"/start/hr_licence$", org.url)
    assert (count(rt, ProcessInstance), count(rt, CaseAttachment)) == (cases_before, files_before)
    assert org.get_by_label("组织开展招聘会").is_checked()
    assert field(org, "经营场所").input_value() == "东城区示范路 1 号"

    for key in MATERIALS:  # a browser never keeps chosen files across a page load
        upload(org, key, f"{key}.pdf", PDF)
    submit(org)
    org.wait_for_url(re.compile(r"/my/cases/\d+$"))
    instance_id = int(org.url.rsplit("/", 1)[1])
    started = flash(org, "已发起办件")
    assert started.is_visible()
    business_key = re.search(r"HRL\w+", started.inner_text()).group(0)
    assert org.locator("h1 small").inner_text() == business_key
    materials = org.locator("#attachments tbody tr")
    assert materials.count() == 6
    assert materials.filter(has_text=MATERIALS["staff_list"]).get_by_role("link").inner_text() == "staff_list.pdf"

    # 受理 returns it for 补正
    acceptor = open_page("acceptor")
    open_from_inbox(acceptor, business_key, "行政许可受理")
    assert acceptor.locator("#attachments tbody tr").count() == 6
    acceptor.get_by_role("radio", name="退回补正").check()
    acceptor.get_by_label("退回原因").fill("社保缴费证明缺少近三个月记录")
    submit(acceptor)
    acceptor.wait_for_url(re.compile(r"/inbox"))
    assert flash(acceptor, f"已办理：{business_key} 行政许可受理").is_visible()

    # the organisation resubmits the same application: its values and files are there, the staff list replaced
    org.goto(f"/my/cases/{instance_id}")
    assert org.locator(".callout", has_text="需要您办理：修改重新提交").is_visible()
    assert org.locator("#documents", has_text="补正材料通知书").is_visible()
    org.get_by_role("link", name="去办理").click()
    org.wait_for_url(re.compile(r"/tasks/"))
    assert org.get_by_label("为用人单位推荐劳动者").is_checked() and org.get_by_label("组织开展招聘会").is_checked()
    assert not org.get_by_label("开展网络招聘服务").is_checked()
    assert field(org, "经营场所").input_value() == "东城区示范路 1 号"
    assert float(org.get_by_label("专职工作人员数").input_value()) == 5
    assert org.get_by_label("联系电话").input_value() == "010-65000001"
    for key in MATERIALS:
        kept = org.locator(f"label.kept-file input[type=checkbox][name={key}]")
        assert kept.count() == 1 and kept.is_checked(), key
    assert org.locator("label.kept-file", has_text="staff_list.pdf").is_visible()
    org.screenshot(path=str(output_dir / "hr_licence_resubmit.png"), full_page=True)
    for staff_only in ("取消认领", "退回", "抄送"):  # the applicant's step is theirs to submit, nothing else
        assert org.get_by_role("button", name=staff_only).count() == 0, staff_only
    org.get_by_label("staff_list.pdf").uncheck()  # replaced by the new list
    upload(org, "staff_list", "社保证明.png", PNG, "image/png")
    submit(org)
    org.wait_for_url(re.compile(rf"/my/cases/{instance_id}$"))  # back to the case, not to an office inbox
    assert flash(org, f"已办理：{business_key} 修改重新提交").is_visible()

    # 受理 again, then 审批 grants it
    open_from_inbox(acceptor, business_key, "行政许可受理")
    assert acceptor.locator("#attachments tbody tr", has_text="社保证明.png").is_visible()
    acceptor.get_by_role("radio", name="受理", exact=True).check()
    submit(acceptor)
    acceptor.wait_for_url(re.compile(r"/inbox"))
    assert flash(acceptor, f"已办理：{business_key} 行政许可受理").is_visible()

    approver = open_page("approver")
    open_from_inbox(approver, business_key, "行政许可审批")
    approver.get_by_role("radio", name="准予许可", exact=True).check()
    submit(approver)
    approver.wait_for_url(re.compile(r"/inbox"))
    assert flash(approver, f"已办理：{business_key} 行政许可审批").is_visible()

    # the organisation's 我的办件: closed, its materials, its documents, the licence
    org.goto(f"/my/cases/{instance_id}")
    assert org.locator("h1 .status").inner_text() == "已办结"
    assert org.locator("dl.facts dd", has_text="办结（通过）").is_visible()
    materials = org.locator("#attachments tbody tr")
    assert materials.count() == 7  # the six first materials and the new staff list
    resubmitted = materials.filter(has_text="社保证明.png")
    assert resubmitted.locator("td").nth(0).inner_text() == MATERIALS["staff_list"]
    assert resubmitted.locator("td").nth(3).inner_text() == "修改重新提交"
    documents = org.locator("#documents tbody tr")
    assert {documents.nth(n).locator("td").first.inner_text() for n in range(documents.count())} >= {
        "补正材料通知书", "受理通知书", "准予许可决定书", "许可证"}
    certificate_row = documents.filter(has=org.get_by_role("cell", name="许可证", exact=True))
    licence_number = certificate_row.locator("td").nth(1).inner_text()
    assert re.fullmatch(r"110101\d{4}0001", licence_number), licence_number
    assert org.locator("table", has_text="许可证编号").get_by_text(licence_number).is_visible()  # 申请机构 panel
    org.screenshot(path=str(output_dir / "hr_licence_case.png"), full_page=True)

    link = certificate_row.get_by_role("link", name="查看 / 打印 PDF")
    href = link.get_attribute("href")
    assert re.fullmatch(rf"/cases/{instance_id}/documents/\d+\.pdf", href), href
    response = org.request.get(href)
    assert response.ok and response.headers["content-type"].startswith("application/pdf")
    pdf = response.body()
    assert pdf.startswith(b"%PDF-")
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    text = re.sub(r"\s+", "", text)  # the table cells wrap their lines
    for shown in (f"机构名称{ORGANISATION}", f"许可证编号{licence_number}", "有效期至", f"业务编号：{business_key}",
                  "服务范围职业中介活动：为用人单位推荐劳动者、组织开展招聘会"):
        assert shown in text, shown

    pdftoppm = shutil.which("pdftoppm")
    if pdftoppm is None:  # poppler-utils not installed: the PDF is checked, not rendered
        return
    (tmp_path / "certificate.pdf").write_bytes(pdf)
    subprocess.run([pdftoppm, "-png", "-r", "100", "-f", "1", "-l", "1", "-singlefile",
                    str(tmp_path / "certificate.pdf"), str(output_dir / "hr_licence_certificate")],
                   check=True, timeout=60)
    assert (output_dir / "hr_licence_certificate.png").read_bytes().startswith(PNG[:8])
