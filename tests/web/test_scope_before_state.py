"""Scope, then permission, then state: an object outside the caller's scope answers exactly like one
that does not exist (404, same message), whatever its state; a visible object the caller may not
touch answers 403; only then may an answer speak of the object's state (409). The holes of issue 12."""
from __future__ import annotations

from datetime import date

from tests.conftest import person
from tests.web.conftest import open_task, submit

UNKNOWN_TASK = "00000000-0000-0000-0000-000000000000"


def register_person(client, bearer, serial: int, enterprise: str = "110101000001", work_type: str = "MT001") -> str:
    number = person(serial, birth=date(1968, 1, 1))["id_number"]
    answer = client.post("/api/register/unfiled-persons", headers=bearer("clerk"), json={
        "id_number": number, "person": {"name": f"库中{serial}", "gender": "male", "region_code": "110101"},
        "work_histories": [{"enterprise_code": enterprise, "work_type_code": work_type,
                            "start_date": "1990-01-01", "end_date": "2001-12-31"}]})
    assert answer.status_code == 201, answer.json
    return number


def test_an_enterprise_reads_only_its_own_employees_in_the_register(client, bearer):
    own = register_person(client, bearer, 81)
    other_unit = register_person(client, bearer, 82, enterprise="110105000002", work_type="YJ001")
    second_employer = client.post("/api/register/persons", headers=bearer("clerk"), json={
        "id_number": own, "work_histories": [{"enterprise_code": "110105000002", "work_type_code": "YJ001",
                                              "start_date": "2002-01-01", "end_date": "2003-12-31"}]})
    assert second_employer.status_code == 201
    refused = client.get(f"/api/register/persons/{other_unit}", headers=bearer("enterprise"))
    unknown = client.get(f"/api/register/persons/{person(99)['id_number']}", headers=bearer("enterprise"))
    assert refused.status_code == unknown.status_code == 404
    assert refused.json == unknown.json
    mine = client.get(f"/api/register/persons/{own}", headers=bearer("enterprise")).json
    assert [h["enterprise_code"] for h in mine["work_histories"]] == ["110101000001"]  # not the other employer's
    assert mine["audit"] == [] and mine["early_retirements"] == []  # no staff names, no pension matters
    assert "valid" not in mine["work_histories"][0] and "suspicious" not in mine["work_histories"][0]
    staff = client.get(f"/api/register/persons/{own}", headers=bearer("clerk")).json
    assert len(staff["work_histories"]) == 2 and staff["audit"]


def test_a_spot_check_out_of_scope_says_nothing_about_the_registration_s_state(client, bearer):
    number = register_person(client, bearer, 83)
    registration = client.post("/api/early-retirements", headers=bearer("clerk"), json={
        "id_number": number, "nature": "underground", "retirement_date": "2024-01-01"}).json
    assert registration["status"] == "pending_approval"  # not spot-checkable yet: a state
    body = {"result": "pass"}
    foreign = client.post(f"/api/early-retirements/{registration['id']}/spot-check", json=body,
                          headers=bearer("tj_reviewer"))
    unknown = client.post("/api/early-retirements/999999/spot-check", json=body, headers=bearer("tj_reviewer"))
    assert foreign.status_code == unknown.status_code == 404 and foreign.json == unknown.json
    assert client.post(f"/api/early-retirements/{registration['id']}/spot-check", json=body,
                       headers=bearer("reviewer")).status_code == 403  # sees it, may not check it
    too_early = client.post(f"/api/early-retirements/{registration['id']}/spot-check", json=body,
                            headers=bearer("spot_checker"))
    assert too_early.status_code == 409  # the checker may know its state


def test_task_actions_on_another_region_s_task_answer_like_an_unknown_task(runtime, client, bearer):
    task = open_task(runtime, submit(runtime).instance_id)
    headers = bearer("tj_reviewer")
    for action, body in (("claim", None), ("unclaim", None), ("complete", {"data": {"decision": "approve"}}),
                         ("delegate", {"to": "tj_clerk", "note": ""})):
        foreign = client.post(f"/api/tasks/{task.id}/{action}", json=body or {}, headers=headers)
        unknown = client.post(f"/api/tasks/{UNKNOWN_TASK}/{action}", json=body or {}, headers=headers)
        assert (action, foreign.status_code, foreign.json) == (action, unknown.status_code, unknown.json)
        assert foreign.status_code == 404
    # a completed task of the caller's own region is a state the caller may learn
    client.post(f"/api/tasks/{task.id}/complete", headers=bearer("reviewer"), json={"data": {"decision": "reject",
                                                                                             "conclusion": "退回"}})
    again = client.post(f"/api/tasks/{task.id}/claim", headers=bearer("reviewer"))
    assert again.status_code == 409
    assert client.post(f"/api/tasks/{task.id}/claim", headers=headers).status_code == 404


def test_delegating_to_someone_unknown_is_a_form_error_not_a_missing_task(runtime, client, bearer):
    task = open_task(runtime, submit(runtime).instance_id)
    answer = client.post(f"/api/tasks/{task.id}/delegate", json={"to": "nobody", "note": ""},
                         headers=bearer("reviewer"))
    assert answer.status_code == 400
    assert answer.json["fields"] == {"to": ["该用户不存在、已停用，或不具备办理此任务的角色或区划权限"]}


def test_delegation_does_not_tell_who_has_an_account(runtime, client, bearer):
    """A reviewer must not learn usernames by trying to delegate: an unknown name, an enterprise's
    account, another region's reviewer and a disabled account all get the same answer."""
    from tests.conftest import account

    account(runtime, "disabled_reviewer", active=False)
    task = open_task(runtime, submit(runtime).instance_id)
    answers = {to: client.post(f"/api/tasks/{task.id}/delegate", json={"to": to, "note": ""},
                               headers=bearer("reviewer")) for to in
               ("nobody_at_all", "enterprise", "tj_reviewer", "disabled_reviewer")}
    assert {(a.status_code, a.json["message"].replace(to, "…")) for to, a in answers.items()} == {
        (400, "不能转交给 …：该用户不存在、已停用，或不具备办理此任务的角色或区划权限")}
