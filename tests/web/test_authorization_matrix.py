"""Every page and API endpoint × every role × own / foreign region → the expected status, and no
case data in any answer that refuses it. The case lies in 110101 (东城区, enterprise 110101000001)
and waits on its 初审 (review) task."""
from __future__ import annotations

import pytest

from engine.models import ProcessInstance
from engine.regions import covers
from services.platform.identity import APPLICANT_ROLES
from tests.conftest import USERS
from tests.web.conftest import open_task, submit

CASE_REGION = "110101"


def sees_case(user: str) -> bool:
    """Staff of the case's region or above, and the enterprise user who submitted it."""
    roles, region, _enterprise = USERS[user]
    return user == "enterprise" or any(r not in APPLICANT_ROLES for r in roles) and covers(region, CASE_REGION)


def reviews_case(user: str) -> bool:
    roles, region, _enterprise = USERS[user]
    return "reviewer" in roles and covers(region, CASE_REGION)


def supervises_case(user: str) -> bool:
    roles, region, _enterprise = USERS[user]
    return bool({"supervisor", "admin"} & set(roles)) and covers(region, CASE_REGION)


OK, REFUSED, NOT_FOUND, INVALID, CONFLICT = 200, 403, 404, 400, 409


def expected(user: str) -> dict[str, int]:
    case_visible, may_review = sees_case(user), reviews_case(user)
    roles, region, _enterprise = USERS[user]
    staff = any(r not in APPLICANT_ROLES for r in roles)
    manager = bool({"clerk", "reviewer", "admin"} & set(roles))
    may_see_case = OK if case_visible else NOT_FOUND
    return {
        "page home": OK if staff else 302,  # an applicant's home is 我的办件
        "page inbox": OK, "page done": OK, "page cases": OK,
        "page task": OK if may_review else NOT_FOUND,
        "post task (empty form)": INVALID if may_review else NOT_FOUND,
        # out of scope: as if absent; in scope without the task's role: the engine's Forbidden
        "post claim": 302 if may_review else REFUSED if case_visible else NOT_FOUND,
        # the applicant reads its case on 我的办件, without the office's internals: the staff page sends
        # it there, and it gets no diagram (the designer's code)
        "page case": (OK if staff else 302) if case_visible else NOT_FOUND,
        "page diagram": OK if case_visible and staff else NOT_FOUND,
        "page admin": OK if "admin" in USERS[user][0] else REFUSED,
        "page cockpit": OK if {"supervisor", "admin"} & set(USERS[user][0]) else REFUSED,
        "page incidents": OK if {"supervisor", "admin"} & set(USERS[user][0]) else REFUSED,
        "page overdue": OK if {"supervisor", "admin"} & set(USERS[user][0]) else REFUSED,
        "post retry (healthy case)": CONFLICT if supervises_case(user) else REFUSED if case_visible else NOT_FOUND,
        "post terminate (no reason)": INVALID if supervises_case(user) else REFUSED if case_visible else NOT_FOUND,
        "post supervise": 302 if supervises_case(user) else REFUSED if case_visible else NOT_FOUND,
        "page designer": OK if "designer" in USERS[user][0] else REFUSED,
        "page definition": OK if "designer" in USERS[user][0] else REFUSED,
        "page studio": OK if "designer" in USERS[user][0] else REFUSED,
        "studio catalogue": OK if "designer" in USERS[user][0] else REFUSED,
        "page export": OK,
        "api tasks": OK, "api instances": OK,
        "api task": OK if may_review else NOT_FOUND,
        "api instance": may_see_case, "api declaration": may_see_case,
        "api complete (empty form)": INVALID if may_review else REFUSED if case_visible else NOT_FOUND,
        # notification centre, 查询统计, 抽查, 单位管理, 名录管理
        "page notifications": OK, "post read-all": 302,
        "page query review-results": OK if staff else REFUSED,
        "page spot checks": OK if "spot_checker" in roles and region.endswith("0000") else REFUSED,
        "page enterprises": OK if manager else REFUSED,
        "page enterprise": (OK if covers(region, CASE_REGION) else NOT_FOUND) if manager else REFUSED,
        "page catalogue admin": OK if "catalogue_admin" in roles and region == "000000" else REFUSED,
        "page register": OK if "clerk" in roles else REFUSED,
        # the applicant portal: enterprise users only, and only their own enterprise's batches
        "page portal": OK if USERS[user][2] else REFUSED,
        "page portal batch": OK if user == "enterprise" else NOT_FOUND if USERS[user][2] else REFUSED,
    }


@pytest.mark.parametrize("user", sorted(USERS))
def test_authorization_matrix(runtime, browser, bearer, client, user):
    case = submit(runtime)
    task = open_task(runtime, case.instance_id)
    with runtime.unit_of_work() as uow:
        definition = uow.session.get(ProcessInstance, case.instance_id).definition_id
    b = browser(user)
    headers = bearer(user)
    calls = {
        "page home": lambda: b.get("/"),
        "page inbox": lambda: b.get("/inbox"),
        "page done": lambda: b.get("/inbox?scope=done"),
        "page cases": lambda: b.get("/cases"),
        "page task": lambda: b.get(f"/tasks/{task.id}"),
        "post task (empty form)": lambda: b.post(f"/tasks/{task.id}", {}),
        "post claim": lambda: b.post(f"/tasks/{task.id}/claim"),
        "page case": lambda: b.get(f"/cases/{case.instance_id}"),
        "page diagram": lambda: b.get(f"/cases/{case.instance_id}/diagrams/{definition}.bpmn"),
        "page admin": lambda: b.get("/admin/users"),
        "page cockpit": lambda: b.get("/cockpit"),
        "page incidents": lambda: b.get("/cockpit/incidents"),
        "page overdue": lambda: b.get("/cockpit/overdue"),
        "post retry (healthy case)": lambda: b.post(f"/cases/{case.instance_id}/retry"),
        "post terminate (no reason)": lambda: b.post(f"/cases/{case.instance_id}/terminate", {"reason": ""}),
        "post supervise": lambda: b.post(f"/cockpit/overdue/{task.id}/supervise", {"note": "请尽快办理"}),
        "page designer": lambda: b.get("/designer"),
        "page definition": lambda: b.get(f"/designer/definitions/{definition}"),
        "page studio": lambda: b.get("/designer/studio"),
        "studio catalogue": lambda: b.client.get("/designer/studio/catalogue.json",
                                                 headers={"Accept": "application/json"}),
        "page export": lambda: b.client.get("/inbox/export.xlsx"),
        "api tasks": lambda: client.get("/api/tasks", headers=headers),
        "api instances": lambda: client.get("/api/instances", headers=headers),
        "api task": lambda: client.get(f"/api/tasks/{task.id}", headers=headers),
        "api instance": lambda: client.get(f"/api/instances/{case.instance_id}", headers=headers),
        "api declaration": lambda: client.get(f"/api/declarations/{case.batch_id}", headers=headers),
        "api complete (empty form)": lambda: client.post(f"/api/tasks/{task.id}/complete", json={"data": {}},
                                                          headers=headers),
        "page notifications": lambda: b.get("/notifications"),
        "post read-all": lambda: b.post("/notifications/read-all"),
        "page query review-results": lambda: b.get("/queries/review-results"),
        "page spot checks": lambda: b.get("/spot-checks"),
        "page enterprises": lambda: b.get("/enterprises"),
        "page enterprise": lambda: b.get("/enterprises/110101000001"),
        "page catalogue admin": lambda: b.get("/catalogue"),
        "page register": lambda: b.get("/register"),
        "page portal": lambda: b.get("/portal"),
        "page portal batch": lambda: b.get(f"/portal/batches/{case.batch_id}"),
    }
    want = expected(user)
    may_see = sees_case(user)
    got, leaks = {}, []
    for name, call in calls.items():
        response = call()
        got[name] = response.status_code
        body = response.get_data().decode(errors="replace")  # the export is a binary workbook
        if not may_see and case.batch_no in body:
            leaks.append(name)
        if name.startswith("page") and response.status_code >= 400:
            assert "text/html" in response.content_type, name
        if name.startswith("api") and response.status_code >= 400:
            assert response.is_json, name
    assert got == want
    assert leaks == []
    if not may_see:  # lists answer 200 but hold nothing of a case out of scope
        assert case.batch_no not in b.get("/inbox").get_data(as_text=True)
        assert case.batch_no not in b.get("/cases").get_data(as_text=True)
        assert case.batch_no not in b.get("/").get_data(as_text=True)


def test_the_matrix_has_users_on_both_sides_of_the_region_line():
    """The rule above, pinned on known users so that the matrix cannot silently lose a side."""
    assert all(sees_case(u) for u in ("enterprise", "reviewer", "rechecker", "supervisor", "admin"))
    assert not any(sees_case(u) for u in ("tj_enterprise", "tj_reviewer", "county_reviewer"))
    assert [u for u in USERS if reviews_case(u)] == ["reviewer"]
