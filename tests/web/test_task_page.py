"""The task page: the form from forms/ rendered server-side, errors, the case context."""
from __future__ import annotations

import re

from engine.models import InstanceStatus
from tests.conftest import person
from tests.web.conftest import invalid_person, open_task, submit


def test_task_page_renders_the_form_and_the_declaration_context(runtime, browser):
    case = submit(runtime, [person(1), invalid_person(2)])
    task = open_task(runtime, case.instance_id)
    text = browser("reviewer").get(f"/tasks/{task.id}").get_data(as_text=True)
    assert "特殊工种申报初审" in text  # the form's title from forms/declaration_review.json
    assert re.search(r'初审结论<span class="req"', text)  # required field marked
    assert 'type="radio" name="decision" value="approve"' in text
    assert '<textarea id="f-conclusion" name="conclusion"' in text
    assert person(1)["id_number"] in text and "测试2" in text  # persons of the batch
    assert "结束日期早于开始日期" in text  # the validation finding of person 2
    assert "办理历史" in text and "发起" in text


def test_form_error_is_shown_in_chinese_and_values_are_kept(runtime, browser):
    case = submit(runtime)
    task = open_task(runtime, case.instance_id)
    reviewer = browser("reviewer")
    reviewer.get(f"/tasks/{task.id}")
    response = reviewer.post(f"/tasks/{task.id}", {"conclusion": "先写了意见"})
    text = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "请填写“初审结论”" in text
    assert ">先写了意见</textarea>" in text
    assert 'aria-invalid="true"' in text
    assert open_task(runtime, case.instance_id).id == task.id  # nothing happened

    response = reviewer.post(f"/tasks/{task.id}", {"decision": "reject"})
    assert "请填写“审核结论”" in response.get_data(as_text=True)
    assert re.search(r'value="reject" checked', response.get_data(as_text=True))

    response = reviewer.post(f"/tasks/{task.id}", {"decision": "approve", "conclusion": "材料齐全"})
    assert response.status_code == 302 and response.headers["Location"] == "/inbox"
    assert "已办理" in reviewer.get("/inbox").get_data(as_text=True)
    assert open_task(runtime, case.instance_id).name == "recheck"


def test_guard_message_is_shown_when_validation_failed(runtime, browser):
    case = submit(runtime, [invalid_person()])
    task = open_task(runtime, case.instance_id)
    reviewer = browser("reviewer")
    reviewer.get(f"/tasks/{task.id}")
    response = reviewer.post(f"/tasks/{task.id}", {"decision": "approve"})
    assert response.status_code == 400
    assert "校验未通过" in response.get_data(as_text=True)


def test_persons_can_be_rejected_one_by_one(runtime, browser):
    case = submit(runtime, [person(1), invalid_person(2)])
    task = open_task(runtime, case.instance_id)
    reviewer = browser("reviewer")
    page = reviewer.get(f"/tasks/{task.id}").get_data(as_text=True)
    bad = re.search(r'name="rejected_persons" value="(\d+)"[^>]*> 测试2', page).group(1)
    response = reviewer.post(f"/tasks/{task.id}", {"decision": "approve", "rejected_persons": bad,
                                                  "conclusion": "经历日期有误"})
    assert response.status_code == 302
    assert open_task(runtime, case.instance_id).name == "recheck"
    recheck_page = browser("rechecker").get(f"/tasks/{open_task(runtime, case.instance_id).id}")
    text = recheck_page.get_data(as_text=True)
    assert "经历日期有误" in text  # the person's conclusion is shown in the context
    assert not re.search(r'name="rejected_persons" value="' + bad + '"', text)  # no longer under this step


def test_rechecker_rejects_back_to_review(runtime, browser):
    case = submit(runtime)
    reviewer, rechecker = browser("reviewer"), browser("rechecker")
    reviewer.post(f"/tasks/{open_task(runtime, case.instance_id).id}", {"decision": "approve"})
    recheck = open_task(runtime, case.instance_id)
    assert recheck.name == "recheck"
    response = rechecker.post(f"/tasks/{recheck.id}", {"decision": "reject", "conclusion": "工种与行业不符"})
    assert response.status_code == 302
    back = open_task(runtime, case.instance_id)
    assert back.name == "review"
    history = reviewer.get(f"/tasks/{back.id}").get_data(as_text=True)
    assert "工种与行业不符" in history


def test_a_done_task_is_read_only_for_the_one_who_did_it(runtime, browser):
    case = submit(runtime)
    task = open_task(runtime, case.instance_id)
    reviewer = browser("reviewer")
    reviewer.post(f"/tasks/{task.id}", {"decision": "approve"})
    text = reviewer.get(f"/tasks/{task.id}").get_data(as_text=True)
    assert "此任务已办理" in text and 'name="decision"' not in text
    again = reviewer.post(f"/tasks/{task.id}", {"decision": "approve"})
    assert again.status_code == 409  # never completed twice
    assert case.batch_no in reviewer.get("/inbox?scope=done").get_data(as_text=True)


def test_a_task_claimed_by_a_colleague_cannot_be_completed(runtime, browser):
    case = submit(runtime)
    task = open_task(runtime, case.instance_id)
    browser("reviewer").post(f"/tasks/{task.id}/claim")
    from tests.web.conftest import ensure_user

    ensure_user(runtime, "colleague", "110101", ["reviewer"])
    colleague = browser("colleague")
    assert "您只能查看" in colleague.get(f"/tasks/{task.id}").get_data(as_text=True)
    response = colleague.post(f"/tasks/{task.id}", {"decision": "approve"})
    assert response.status_code == 409
    assert open_task(runtime, case.instance_id).status == "open"


def test_the_whole_flow_closes_the_case(runtime, browser):
    case = submit(runtime)
    browser("reviewer").post(f"/tasks/{open_task(runtime, case.instance_id).id}", {"decision": "approve"})
    browser("rechecker").post(f"/tasks/{open_task(runtime, case.instance_id).id}", {"decision": "approve"})
    text = browser("reviewer").get(f"/cases/{case.instance_id}").get_data(as_text=True)
    assert f"status-{InstanceStatus.COMPLETED}" in text and "已办结" in text


def test_the_favicon_is_served_and_the_task_page_leads_back(runtime, browser, client):
    icon = client.get("/favicon.ico")
    assert icon.status_code == 200 and icon.data[:4] == b"\x00\x00\x01\x00"  # an ICO file, no 404 in the logs
    from tests.services.review_helpers import open_task, request_certificate

    instance = request_certificate(runtime)
    page = browser("clerk").get(f"/tasks/{open_task(runtime, instance.id).id}").get_data(as_text=True)
    assert 'class="breadcrumbs"' in page and 'href="/inbox"' in page and f'href="/cases/{instance.id}"' in page


def test_a_due_date_in_working_days_shows_the_day_and_one_in_hours_its_hour():
    from datetime import datetime

    from web.pages.formatting import due

    assert due(datetime(2026, 12, 4, 15, 59, 59)) == "2026-12-04"  # the end of a working day in China
    assert due(datetime(2026, 12, 4, 6, 30)) == "2026-12-04 14:30"  # an hour-based limit: 14:30 China time


def test_the_history_names_people_by_their_names(runtime, browser):
    from services.platform.identity import User
    from tests.services.review_helpers import complete, request_certificate

    with runtime.unit_of_work() as uow:
        uow.session.query(User).filter(User.username == "clerk").one().display_name = "张受理"
        uow.commit()
    try:
        instance = request_certificate(runtime)
        complete(runtime, instance.id, "clerk", {"decision": "approve"})
        page = browser("approver").get(f"/cases/{instance.id}").get_data(as_text=True)
        assert "<span data-user>张受理</span>（clerk）" in page
    finally:
        with runtime.unit_of_work() as uow:
            uow.session.query(User).filter(User.username == "clerk").one().display_name = "clerk"
            uow.commit()
