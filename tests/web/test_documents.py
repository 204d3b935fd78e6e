"""Printed documents (文书): a step or a clerk issues a numbered PDF notice a person can read (Chinese text in an
embedded CJK font, not boxes), stored once — re-printing gives the same number and bytes — listed in the API
and on the case pages, downloadable by the applicant and the office only, and verifiable by its code
without revealing anything personal."""
from __future__ import annotations

import io
import re

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from engine.db import utcnow
from engine.definitions import DefinitionInvalid
from engine.errors import InvalidData
from engine.models import ProcessInstance
from services.platform import documents
from services.platform.documents import CaseDocument
from tests.services.review_helpers import CERTIFICATE_REQUEST, complete, request_certificate
from tests.web.conftest import Browser

pytestmark = pytest.mark.skipif(bool(documents.missing_fonts()),
                                reason=f"document fonts not installed ({documents.FONT_PACKAGES}; `make install`)")

YEAR = (utcnow() + documents.CST).year



def pdf_text(content: bytes) -> str:
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def embedded_fonts(content: bytes) -> set[str]:
    names = set()
    for page in PdfReader(io.BytesIO(content)).pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            descendant = font["/DescendantFonts"][0].get_object() if "/DescendantFonts" in font else font
            descriptor = descendant["/FontDescriptor"].get_object()
            if any(key in descriptor for key in ("/FontFile", "/FontFile2", "/FontFile3")):
                names.add(str(font["/BaseFont"]))
    return names


def test_acceptance_issues_a_numbered_notice_that_reads_as_chinese(runtime, client, login):
    instance = request_certificate(runtime)
    complete(runtime, instance.id, "clerk", {"decision": "approve"})
    body = client.get(f"/api/instances/{instance.id}", headers=login("enterprise")).json
    [notice] = body["documents"]
    assert notice["kind"] == "acceptance_notice" and notice["title"] == "受理通知书"
    assert notice["number"] == f"110101人社受字〔{YEAR}〕第0001号"
    pdf = client.get(notice["url"], headers=login("enterprise"))
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF")
    text = pdf_text(pdf.data)
    for expected in ("北京市东城区人力资源和社会保障局", "受理通知书", notice["number"], "10个工作日内", "5个工作日内",
                     "特殊工种从业经历证明申请（王井下", instance.business_key, "核验码"):
        assert expected in re.sub(r"\s", "", text), expected
    assert "申请申请" not in text
    fonts = embedded_fonts(pdf.data)
    assert any("UMing" in name for name in fonts) and any("WenQuanYi" in name for name in fonts), fonts
    assert len(pdf.data) < 150_000  # the fonts are subset, not embedded whole


def test_printing_again_gives_the_same_number_and_bytes(runtime, client, login):
    instance = request_certificate(runtime)
    complete(runtime, instance.id, "clerk", {"decision": "approve"})
    first = client.get(f"/api/instances/{instance.id}", headers=login("clerk")).json["documents"][0]
    again = client.post(f"/api/instances/{instance.id}/documents", json={"kind": "acceptance_notice"},
                        headers=login("clerk"))
    assert again.status_code == 201 and again.json["number"] == first["number"]
    with runtime.unit_of_work() as uow:
        assert uow.session.scalar(select(func.count()).select_from(CaseDocument)) == 1
    assert client.get(first["url"], headers=login("clerk")).data == client.get(again.json["url"],
                                                                               headers=login("clerk")).data


def test_a_refusal_prints_its_decision_with_the_reason_on_demand(runtime, client, login, browser):
    instance = request_certificate(runtime)
    complete(runtime, instance.id, "clerk", {"decision": "reject", "conclusion": "申请人并非本单位职工"})
    clerk = browser("clerk")
    page = clerk.get(f"/cases/{instance.id}").get_data(as_text=True)
    assert "不予受理决定书" in page and "受理通知书" not in page  # only what the status allows is offered
    answer = clerk.post(f"/cases/{instance.id}/documents", {"kind": "refusal_decision"})
    assert answer.status_code == 302
    [decision] = client.get(f"/api/instances/{instance.id}", headers=login("clerk")).json["documents"]
    assert decision["number"] == f"110101人社不受字〔{YEAR}〕第0001号"
    text = re.sub(r"\s", "", pdf_text(client.get(decision["url"], headers=login("enterprise")).data))
    assert "不予受理决定书" in text and "理由：申请人并非本单位职工" in text and "行政复议" in text
    listed = clerk.get(f"/cases/{instance.id}").get_data(as_text=True)
    assert decision["number"] in listed
    applicant_page = browser("enterprise").get(f"/my/cases/{instance.id}").get_data(as_text=True)
    assert decision["number"] in applicant_page and 'name="kind"' not in applicant_page  # listed, not issued


def test_issuing_is_refused_when_status_role_or_region_do_not_allow(runtime, client, login):
    instance = request_certificate(runtime)
    url = f"/api/instances/{instance.id}/documents"
    wrong_status = client.post(url, json={"kind": "acceptance_notice"}, headers=login("clerk"))
    assert wrong_status.status_code == 409 and "不能出具受理通知书" in wrong_status.json["message"]
    assert client.post(url, json={"kind": "acceptance_notice"}, headers=login("enterprise")).status_code == 403
    assert client.post(url, json={"kind": "acceptance_notice"}, headers=login("tj_clerk")).status_code == 404
    assert client.post(url, json={"kind": "no_such_kind"}, headers=login("clerk")).status_code == 400
    with runtime.unit_of_work() as uow:
        assert uow.session.scalar(select(func.count()).select_from(CaseDocument)) == 0


def test_only_the_applicant_and_the_office_download_a_document(runtime, client, login):
    instance = request_certificate(runtime)
    complete(runtime, instance.id, "clerk", {"decision": "approve"})
    url = client.get(f"/api/instances/{instance.id}", headers=login("clerk")).json["documents"][0]["url"]
    assert client.get(url, headers=login("tj_enterprise")).status_code == 404
    assert client.get(url, headers=login("tj_clerk")).status_code == 404
    assert client.get(url).status_code == 401
    assert client.get(url, headers=login("approver")).status_code == 200


def test_the_verification_code_confirms_the_document_and_nothing_personal(runtime, client, login):
    instance = request_certificate(runtime)
    complete(runtime, instance.id, "clerk", {"decision": "approve"})
    with runtime.unit_of_work() as uow:
        document = uow.session.scalars(select(CaseDocument)).one()
    visitor = Browser(client)  # nobody signed in
    page = visitor.get(f"/verify/{document.verify_code.lower()}").get_data(as_text=True)
    for shown in ("文书真实有效", document.number, "北京市东城区人力资源和社会保障局", instance.business_key, "已受理"):
        assert shown in page, shown
    for personal in ("王井下", CERTIFICATE_REQUEST["id_number"], "示范煤矿", "clerk"):
        assert personal not in page, personal
    wrong = visitor.get("/verify/AAAA-BBBB-CCCC")
    assert wrong.status_code == 404 and "核验码不正确" in wrong.get_data(as_text=True)


def test_case_text_cannot_reach_files_or_markup_through_a_document(runtime, client, login):
    instance = request_certificate(runtime)
    complete(runtime, instance.id, "clerk", {"decision": "reject",
                                             "conclusion": '<img src="file:///etc/hostname"><b>材料</b>不全'})
    url = client.post(f"/api/instances/{instance.id}/documents", json={"kind": "refusal_decision"},
                      headers=login("clerk")).json["url"]
    content = client.get(url, headers=login("clerk")).data
    assert '<imgsrc="file:///etc/hostname"><b>材料</b>不全' in re.sub(r"\s", "", pdf_text(content))  # text, not markup
    assert b"/Subtype /Image" not in content and b"/Subtype/Image" not in content
    from weasyprint.urls import URLFetcher
    with pytest.raises(ValueError, match="disallowed protocol"):  # what documents.render_pdf fetches with
        URLFetcher(allowed_protocols=("data",)).fetch("file:///etc/hostname")


def test_a_correction_notice_lists_every_missing_item_once():
    items = ["身份证复印件", " 劳动合同 ", "身份证复印件", ""]
    assert documents.correction_items(items) == ["身份证复印件", "劳动合同"]
    assert documents.correction_items("社保缴费记录\n\n社保缴费记录\n工资单") == ["社保缴费记录", "工资单"]
    assert documents.correction_items(None) == []


def test_without_the_fonts_a_document_is_refused_and_nothing_is_stored(runtime, monkeypatch):
    instance = request_certificate(runtime)
    monkeypatch.setattr(documents, "missing_fonts", lambda: ("AR PL UMing CN",))
    with runtime.unit_of_work() as uow, pytest.raises(InvalidData, match="中文字体"):
        runtime.documents.issue(uow.session, uow.session.get(ProcessInstance, instance.id), "acceptance_notice",
                                "clerk")
    with runtime.unit_of_work() as uow:
        assert uow.session.scalar(select(func.count()).select_from(CaseDocument)) == 0


def test_a_batch_prints_every_case_that_lacks_the_document_with_consecutive_numbers(runtime, client, login):
    ids = []
    for _ in range(4):
        instance = request_certificate(runtime)
        complete(runtime, instance.id, "clerk", {"decision": "approve"})
        complete(runtime, instance.id, "approver", {"decision": "approve"})
        ids.append(instance.id)
    started = client.post("/api/documents/batches", json={"process_key": "work_history_certificate",
                                                           "kind": "approval_decision", "region_code": "110000"},
                          headers=login("approver"))
    assert started.status_code == 202 and started.json["total"] == 4
    runtime.jobs.run_pending()
    job = client.get(f"/api/jobs/{started.json['id']}", headers=login("approver")).json
    assert job["status"] == "done" and job["result"]["issued"] == 4 and job["percent"] == 100
    with runtime.unit_of_work() as uow:
        numbers = list(uow.session.scalars(select(CaseDocument.number).where(CaseDocument.kind == "approval_decision")
                                           .order_by(CaseDocument.instance_id)))
    assert numbers == [f"110101人社许字〔{YEAR}〕第{n:04d}号" for n in range(1, 5)]
    again = client.post("/api/documents/batches", json={"process_key": "work_history_certificate",
                                                        "kind": "approval_decision", "region_code": "110000"},
                        headers=login("approver"))
    assert again.json["total"] == 0  # nothing left to print
    refused = client.post("/api/documents/batches", json={"process_key": "work_history_certificate",
                                                          "kind": "licence_certificate"}, headers=login("approver"))
    assert refused.status_code == 409
    assert client.post("/api/documents/batches", json={"process_key": "work_history_certificate",
                                                       "kind": "approval_decision", "region_code": "120000"},
                       headers=login("approver")).status_code == 403


def test_deploy_refuses_unknown_kinds_and_numbers_without_their_kind(runtime):
    bpmn = (b'<?xml version="1.0" encoding="UTF-8"?>'
            b'<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
            b'xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="d" targetNamespace="t">'
            b'<bpmn:process id="printing" isExecutable="true"><bpmn:extensionElements><spiffworkflow:properties>'
            b'<spiffworkflow:property name="documents" value="acceptance_notice, passport" />'
            b'<spiffworkflow:property name="documentNumber" value="NO-{year}-{seq:4}" />'
            b'</spiffworkflow:properties></bpmn:extensionElements>'
            b'<bpmn:startEvent id="s"/><bpmn:endEvent id="e"/><bpmn:sequenceFlow id="f" sourceRef="s" targetRef="e"/>'
            b'</bpmn:process></bpmn:definitions>')
    with runtime.unit_of_work() as uow, pytest.raises(DefinitionInvalid) as refused:
        runtime.deployer.deploy(uow.session, [(bpmn, "printing.bpmn")], "designer")
    messages = " ".join(p.message for p in refused.value.problems)
    assert "passport 不是文书种类" in messages and "documentNumber 须含 {kind}" in messages
