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
    for url in marks:
        xml = reviewer.get(url)
        assert xml.status_code == 200 and xml.content_type.startswith("application/xml")
        assert b"<bpmn:definitions" in xml.data or b"<definitions" in xml.data


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
    assert enterprise.get(f"/cases/{case.instance_id}").status_code == 200
    assert enterprise.get(f"/tasks/{open_task(runtime, case.instance_id).id}").status_code == 404


def test_commitment_letter_is_listed_and_downloadable_in_scope_only(runtime, browser):
    from services import attachments
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
