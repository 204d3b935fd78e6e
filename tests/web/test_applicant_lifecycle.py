"""The applicant's side of the 办件 lifecycle: 撤回 until staff first open the case, and 补正 — the office lists
the missing material once (补正材料通知书), the clock stands still, the applicant (and no other party)
resubmits the same case, and it goes back to 受理."""
from __future__ import annotations

import io
import re

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from engine.errors import Conflict
from engine.models import HumanTask, ProcessInstance, TaskStatus
from services.platform import applicant_actions, documents
from services.platform.documents import CaseDocument
from tests.conftest import actor
from tests.services.review_helpers import complete, open_task, request_certificate

CORRECT = {"decision": "correct", "correction_items": "身份证复印件\n劳动合同\n身份证复印件"}


def reload(runtime, instance_id: int) -> ProcessInstance:
    with runtime.unit_of_work() as uow:
        return uow.session.get(ProcessInstance, instance_id)


def test_the_applicant_withdraws_before_staff_open_the_case(runtime, client, login):
    instance = request_certificate(runtime)
    answer = client.post(f"/api/instances/{instance.id}/withdraw", json={"reason": "材料准备有误"},
                         headers=login("enterprise"))
    assert answer.status_code == 200
    assert answer.json["status"] == "terminated" and answer.json["lifecycle"]["status"] == "withdrawn"
    assert answer.json["lifecycle"]["status_label"] == "已撤回" and answer.json["open_tasks"] == []
    assert answer.json["history"][-1]["conclusion"] == "申请人撤回：材料准备有误"
    again = client.post(f"/api/instances/{instance.id}/withdraw", json={}, headers=login("enterprise"))
    assert again.status_code == 409


@pytest.mark.parametrize("opened_by", ["case page", "task in the API", "claim"])
def test_once_staff_opened_the_case_the_applicant_can_no_longer_withdraw(runtime, client, login, browser, opened_by):
    instance = request_certificate(runtime)
    task = open_task(runtime, instance.id)
    if opened_by == "case page":
        assert browser("clerk").get(f"/cases/{instance.id}").status_code == 200
    elif opened_by == "task in the API":
        assert client.get(f"/api/tasks/{task.id}", headers=login("clerk")).status_code == 200
    else:
        with runtime.unit_of_work() as uow:
            runtime.engine.claim(uow, task.id, actor("clerk"))
            uow.commit()
    refused = client.post(f"/api/instances/{instance.id}/withdraw", json={}, headers=login("enterprise"))
    assert refused.status_code == 409 and refused.json["message"] == applicant_actions.OPENED
    after = reload(runtime, instance.id)
    assert after.status == "waiting" and after.case_status == "received"


def test_only_the_applicant_withdraws(runtime, client, login):
    instance = request_certificate(runtime)
    url = f"/api/instances/{instance.id}/withdraw"
    assert client.post(url, json={}, headers=login("tj_enterprise")).status_code == 404
    assert client.post(url, json={}, headers=login("clerk")).status_code == 403
    assert reload(runtime, instance.id).status == "waiting"


def test_a_withdrawal_that_read_the_case_before_staff_opened_it_loses(runtime):
    if runtime.db.dialect.name == "sqlite":
        pytest.skip("SQLite: a unit of work takes the write lock at its start, so nobody opens the case in between")
    instance = request_certificate(runtime)
    with runtime.unit_of_work() as late:
        runtime.engine.get_instance(late.session, instance.id, actor("enterprise"))  # read before the opening
        with runtime.unit_of_work() as staff:
            runtime.engine.mark_opened(staff, instance.id)
            staff.commit()
        with pytest.raises(Conflict):
            applicant_actions.withdraw(late, runtime.engine, actor("enterprise"), instance.id, "")
            late.commit()
    assert reload(runtime, instance.id).status == "waiting"


def test_the_withdraw_form_needs_a_confirmation_and_disappears_once_staff_opened(runtime, browser):
    instance = request_certificate(runtime)
    applicant = browser("enterprise")
    page = applicant.get(f"/my/cases/{instance.id}").get_data(as_text=True)
    assert "撤回申请" in page
    unconfirmed = applicant.post(f"/my/cases/{instance.id}/withdraw", {"reason": "重复提交"})
    assert unconfirmed.status_code == 302 and reload(runtime, instance.id).status == "waiting"
    browser("clerk").get(f"/cases/{instance.id}")
    assert "撤回申请" not in applicant.get(f"/my/cases/{instance.id}").get_data(as_text=True)


def test_withdrawing_from_the_page(runtime, browser):
    instance = request_certificate(runtime)
    applicant = browser("enterprise")
    applicant.get(f"/my/cases/{instance.id}")
    withdrawn = applicant.post(f"/my/cases/{instance.id}/withdraw", {"reason": "重复提交", "confirm": "yes"})
    assert withdrawn.status_code == 302
    page = applicant.get(f"/my/cases/{instance.id}").get_data(as_text=True)
    assert "申请已撤回" in page and "已撤回" in page and "撤回申请" not in page


def test_correction_lists_the_items_once_pauses_the_clock_and_the_applicant_resubmits(runtime, browser, client,
                                                                                      login):
    instance = request_certificate(runtime)
    complete(runtime, instance.id, "clerk", CORRECT)
    case = reload(runtime, instance.id)
    assert case.case_status == "correction_started" and case.clock_state == "paused"
    with runtime.unit_of_work() as uow:
        notice = uow.session.scalars(select(CaseDocument).where(CaseDocument.kind == "correction_notice")).one()
        text = re.sub(r"\s", "", "".join(p.extract_text() for p in PdfReader(io.BytesIO(notice.content)).pages))
        step = uow.session.scalars(select(HumanTask).where(HumanTask.instance_id == instance.id,
                                                           HumanTask.status == TaskStatus.OPEN)).one()
    if not documents.missing_fonts():
        assert text.count("身份证复印件") == 1 and "劳动合同" in text and "一次性告知" in text
    assert step.name == "correct" and step.assignee == "enterprise"

    applicant = browser("enterprise")
    page = applicant.get(f"/my/cases/{instance.id}").get_data(as_text=True)
    assert "需要您办理：补正材料" in page and notice.number in page
    # another enterprise of the same region never sees or does the applicant's step
    assert client.get(f"/api/tasks/{step.id}", headers=login("tj_enterprise")).status_code == 404
    for other in ("tj_enterprise", "clerk"):
        data = {"materials_supplied": True, "correction_note": "x"}
        answer = client.post(f"/api/tasks/{step.id}/complete", json={"data": data}, headers=login(other))
        assert answer.status_code in (403, 404), other
    missing = applicant.post(f"/tasks/{step.id}", {"correction_note": "已补交"})
    assert missing.status_code == 400 and "请勾选" in missing.get_data(as_text=True)
    assert reload(runtime, instance.id).case_status == "correction_started"
    done = applicant.post(f"/tasks/{step.id}", {"materials_supplied": "true", "correction_note": "已补交两项材料"})
    assert done.status_code == 302
    case = reload(runtime, instance.id)
    assert case.case_status == "correction_ended" and case.clock_state == "running"
    assert open_task(runtime, instance.id).name == "accept"  # the same case, back at 受理

    complete(runtime, instance.id, "clerk", dict(CORRECT, correction_items="社保缴费记录"))
    with runtime.unit_of_work() as uow:
        numbers = list(uow.session.scalars(select(CaseDocument.number).where(CaseDocument.kind == "correction_notice")
                                           .order_by(CaseDocument.id)))
    assert len(numbers) == 2 and numbers[0] != numbers[1]  # each round its own notice


def test_once_staff_began_the_applicant_may_still_cancel_with_a_reason(runtime, client, login, browser):
    instance = request_certificate(runtime)
    browser("clerk").get(f"/cases/{instance.id}")  # the office has begun: 撤回 is over, 撤销 remains
    applicant = browser("enterprise")
    page = applicant.get(f"/my/cases/{instance.id}").get_data(as_text=True)
    assert "撤销原因" in page and 'name="confirm"' not in page
    url = f"/api/instances/{instance.id}/cancel"
    assert client.post(url, json={"reason": " "}, headers=login("enterprise")).status_code == 400
    assert client.post(url, json={"reason": "x"}, headers=login("clerk")).status_code == 403
    answer = client.post(url, json={"reason": "企业已注销"}, headers=login("enterprise"))
    assert answer.status_code == 200 and answer.json["lifecycle"]["status"] == "cancelled"
    assert answer.json["history"][-1]["conclusion"] == "申请人撤销：企业已注销"
    assert client.post(url, json={"reason": "x"}, headers=login("enterprise")).status_code == 409


def test_a_supervisor_terminates_through_the_api_with_a_reason(runtime, client, login):
    instance = request_certificate(runtime)
    url = f"/api/instances/{instance.id}/terminate"
    assert client.post(url, json={"reason": "x"}, headers=login("clerk")).status_code == 403
    assert client.post(url, json={"reason": ""}, headers=login("supervisor")).status_code == 400
    answer = client.post(url, json={"reason": "重复申请"}, headers=login("supervisor"))
    assert answer.status_code == 200 and answer.json["lifecycle"]["status"] == "terminated"
    assert answer.json["open_tasks"] == []
