"""A large batch does not become a page with one row per person: the reviewer's context lists every
person with a finding first and says how many clean persons were left out."""
from __future__ import annotations

import re

import services.special_work.context as declaration_context
from tests.conftest import person
from tests.web.conftest import invalid_person, open_task, submit


def test_context_lists_flagged_persons_first_and_counts_the_rest(runtime, browser, monkeypatch):
    monkeypatch.setattr(declaration_context, "PERSONS_SHOWN", 2)
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


def test_a_clean_person_beyond_the_list_is_found_by_name_or_id_number(runtime, browser, monkeypatch):
    monkeypatch.setattr(declaration_context, "PERSONS_SHOWN", 2)
    clean = [person(76), person(77), person(78)]
    case = submit(runtime, [*clean, invalid_person(79)])
    task = open_task(runtime, case.instance_id)
    reviewer = browser("reviewer")
    assert clean[2]["id_number"] not in reviewer.get(f"/tasks/{task.id}").get_data(as_text=True)

    found = reviewer.get(f"/tasks/{task.id}?q={clean[2]['id_number']}").get_data(as_text=True)
    assert clean[2]["id_number"] in found and invalid_person(79)["id_number"] not in found
    assert f"“{clean[2]['id_number']}”：找到 1 人" in re.sub(r"<[^>]+>", "", found)  # the number: user data
    assert found.count('name="rejected_persons"') == 1  # the found person can be named in the decision
    assert f'action="/tasks/{task.id}?q={clean[2]["id_number"]}"' in found  # a refused decision keeps the search

    by_name = reviewer.get(f"/tasks/{task.id}?q=测试7").get_data(as_text=True)  # 测试76…测试79: four, two listed
    assert "“测试7”：找到 4 人，列出前 2 人" in re.sub(r"<[^>]+>", "", by_name)
    on_case_page = reviewer.get(f"/cases/{case.instance_id}?q={clean[2]['name']}").get_data(as_text=True)
    assert clean[2]["id_number"] in on_case_page and clean[0]["id_number"] not in on_case_page
