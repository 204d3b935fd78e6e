"""The case page and its BPMN diagrams."""
from __future__ import annotations

import json
import re
from html import unescape

from tests.web.conftest import open_task, submit


def test_case_page_shows_status_tasks_history_and_diagrams(runtime, browser):
    case = submit(runtime)
    reviewer = browser("reviewer")
    reviewer.post(f"/tasks/{open_task(runtime, case.instance_id).id}", {"decision": "approve", "conclusion": "同意"})
    text = reviewer.get(f"/cases/{case.instance_id}").get_data(as_text=True)
    assert case.batch_no in text and "办理中" in text
    assert "复核" in text and "同意" in text  # open task and history with the conclusion
    assert "bpmn-navigated-viewer.production.min.js" in text
    figures = re.findall(r'<figure class="diagram" data-url="([^"]+)"\s+data-done="([^"]*)" data-current="([^"]*)"',
                         text)
    assert len(figures) == 2  # the caller and the called review flow
    marks = {url: (json.loads(unescape(done)), json.loads(unescape(current))) for url, done, current in figures}
    flow = next(m for m in marks.values() if "recheck" in m[1])
    assert "review" in flow[0] and "validate" in flow[0]
    caller = next(m for m in marks.values() if "review_flow" in m[1])
    assert caller[0] == []
    lanes = ""
    for url in marks:
        xml = reviewer.get(url)
        assert xml.status_code == 200 and xml.content_type.startswith("application/xml")
        assert b"<bpmn:definitions" in xml.data or b"<definitions" in xml.data
        lanes += xml.data.decode()
    assert 'name="reviewer"' not in lanes and 'name="审核人员"' in lanes  # lanes by their roles in words


def test_diagram_of_another_case_cannot_be_fetched_through_mine(runtime, browser):
    case = submit(runtime)
    reviewer = browser("reviewer")
    assert reviewer.get(f"/cases/{case.instance_id}/diagrams/999999.bpmn").status_code == 404


def test_case_list_finds_my_cases(runtime, browser):
    case = submit(runtime)
    text = browser("reviewer").get(f"/cases?business_key={case.batch_no}").get_data(as_text=True)
    assert f"/cases/{case.instance_id}" in text
    assert f"/cases/{case.instance_id}" not in browser("tj_reviewer").get("/cases").get_data(as_text=True)


def test_enterprise_user_sees_its_own_case_but_not_the_task(runtime, browser):
    case = submit(runtime)
    enterprise = browser("enterprise")
    own = enterprise.get(f"/cases/{case.instance_id}")  # the staff page sends the applicant to its own page
    assert own.status_code == 302 and own.headers["Location"].endswith(f"/my/cases/{case.instance_id}")
    assert enterprise.get(own.headers["Location"]).status_code == 200
    assert enterprise.get(f"/tasks/{open_task(runtime, case.instance_id).id}").status_code == 404


def test_commitment_letter_is_listed_and_downloadable_in_scope_only(runtime, browser):
    from services.special_work import attachments
    from tests.conftest import actor

    case = submit(runtime)
    with runtime.unit_of_work() as uow:
        letter = attachments.attach(uow.session, runtime.engine, actor("enterprise"), case.batch_id, "承诺书.pdf",
                                    b"%PDF-1.4 commitment")
        uow.commit()
        letter_id = letter.id
    reviewer = browser("reviewer")
    page = reviewer.get(f"/tasks/{open_task(runtime, case.instance_id).id}").get_data(as_text=True)
    assert f"/attachments/{letter_id}" in page and "承诺书" in page
    download = reviewer.get(f"/attachments/{letter_id}")
    assert download.status_code == 200 and download.data == b"%PDF-1.4 commitment"
    assert download.headers["Content-Disposition"].startswith("attachment;")
    assert browser("tj_reviewer").get(f"/attachments/{letter_id}").status_code == 404


def _reviewed_and_delegated(runtime, browser):
    """A case the reviewer passed with a conclusion; its 复核 delegated by one rechecker to another."""
    from tests.web.conftest import ensure_user

    ensure_user(runtime, "other_rechecker", "110000", ["rechecker"])
    case = submit(runtime)
    browser("reviewer").post(f"/tasks/{open_task(runtime, case.instance_id).id}",
                             {"decision": "approve", "conclusion": "材料齐全"})
    rechecker = browser("rechecker")
    recheck = open_task(runtime, case.instance_id).id
    rechecker.post(f"/tasks/{recheck}/delegate", {"to": "other_rechecker", "note": "请协助"})
    return case


def test_the_applicant_reads_its_case_without_the_office_s_internals(runtime, browser, client, bearer):
    """The enterprise that submitted the batch follows its case on 我的办件 and through the API
    (as on the portal: steps, outcomes, conclusions), but not the usernames of the staff who handled
    it, the delegation, the automatic steps, the process variables or the BPMN (designer code)."""
    case = _reviewed_and_delegated(runtime, browser)
    enterprise = browser("enterprise")
    page = enterprise.get(f"/cases/{case.instance_id}", follow_redirects=True)
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "材料齐全" in text and "复核" in text
    for internal in ("reviewer", "rechecker", "batch_id", "业务数据", "/diagrams/"):
        assert internal not in text, internal
    assert enterprise.get(f"/cases/{case.instance_id}/diagrams/1.bpmn").status_code == 404

    body = client.get(f"/api/instances/{case.instance_id}", headers=bearer("enterprise")).json
    assert {e["kind"] for e in body["history"]} <= {"started", "task_completed", "completed", "terminated"}
    assert [e["actor"] for e in body["history"]] == ["enterprise", None]
    assert all(e["details"] == {} for e in body["history"])
    assert body["open_tasks"][0]["label"] == "复核" and body["open_tasks"][0]["assignee"] is None
    assert body["incidents"] == []

    staff = client.get(f"/api/instances/{case.instance_id}", headers=bearer("supervisor")).json
    assert "reviewer" in [e["actor"] for e in staff["history"]]
    assert staff["open_tasks"][0]["assignee"] == "other_rechecker"


def test_the_enterprise_does_not_read_who_in_the_office_changed_it(runtime, client, bearer):
    from services.special_work import enterprises
    from tests.conftest import actor

    unit = enterprises.EnterpriseInput(name="操作记录测试单位", region_code="110101", industry="煤炭",
                                       address="东城区某路 9 号", postal_code="100010", contact_person="王经办",
                                       contact_phone="13800138000")
    with runtime.unit_of_work() as uow:
        if uow.session.get(enterprises.Enterprise, "110101900088") is None:
            enterprises.create_enterprise(uow.session, actor("clerk"), "110101900088", unit)
        enterprises.set_portal_access(uow.session, actor("clerk"), "110101900088", True)
        credentials = enterprises.reset_portal_password(uow.session, actor("clerk"), "110101900088")
        uow.commit()
    token = client.post("/api/auth/token", json=credentials).json["token"]
    own = client.get("/api/enterprises/110101900088", headers={"Authorization": f"Bearer {token}"}).json
    assert own["name"] == "操作记录测试单位" and own["audit"] == []
    office = client.get("/api/enterprises/110101900088", headers=bearer("clerk")).json
    assert "clerk" in [entry["actor"] for entry in office["audit"]]


def test_the_case_data_reads_in_words(runtime, browser):
    from tests.services.review_helpers import complete, request_certificate

    instance = request_certificate(runtime)
    complete(runtime, instance.id, "clerk", {"decision": "approve", "conclusion": "材料齐全"})
    page = browser("clerk").get(f"/cases/{instance.id}").get_data(as_text=True)
    assert '姓名 <small class="mono">name</small>' in page and '用途 <small class="mono">purpose</small>' in page
    assert "<dd><span data-user>王井下</span></dd>" in page and "<dd>办理提前退休</dd>" in page
