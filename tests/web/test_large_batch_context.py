"""A large batch does not become a page with one row per person: the reviewer's context lists every
person with a finding first and says how many clean persons were left out."""
from __future__ import annotations

import services.case_view as case_view
from tests.conftest import person
from tests.web.conftest import invalid_person, open_task, submit


def test_context_lists_flagged_persons_first_and_counts_the_rest(runtime, browser, monkeypatch):
    monkeypatch.setattr(case_view, "PERSONS_SHOWN", 2)
    clean = [person(70), person(71), person(72)]
    case = submit(runtime, [*clean, invalid_person(73)])
    task = open_task(runtime, case.instance_id)

    page = browser("reviewer").get(f"/tasks/{task.id}").get_data(as_text=True)
    flagged_id = invalid_person(73)["id_number"]
    assert flagged_id in page  # the person a decision must name is always listed
    assert clean[0]["id_number"] in page  # then the first clean one, up to the limit
    assert clean[1]["id_number"] not in page and clean[2]["id_number"] not in page
    assert "另有 2 名校验通过的人员未列出" in page
    # the per-person 不通过 choices offer exactly the listed persons, so the flagged one can be named
    assert page.count('name="rejected_persons"') == 2


def test_small_batch_lists_everyone(runtime, browser):
    clean = [person(74), person(75)]
    case = submit(runtime, clean)
    page = browser("reviewer").get(f"/tasks/{open_task(runtime, case.instance_id).id}").get_data(as_text=True)
    assert all(p["id_number"] in page for p in clean)
    assert "未列出" not in page
