"""The JSON API: the declaration lifecycle over HTTP and every error shape."""
from __future__ import annotations

import io

from services.platform.identity import SIGN_IN_REFUSED
from tests.bpmn_factory import linear_process
from tests.conftest import person


def declaration_body(*persons, kind="first"):
    body = {"enterprise_code": "110101000001", "kind": kind, "persons": []}
    for p in persons:
        body["persons"].append({
            **p, "birth_date": p["birth_date"].isoformat(),
            "work_histories": [{**h, "start_date": h["start_date"].isoformat(), "end_date": h["end_date"].isoformat()}
                               for h in p["work_histories"]]})
    return body


def submit(client, login, *persons):
    response = client.post("/api/declarations", json=declaration_body(*persons), headers=login("enterprise"))
    assert response.status_code == 201, response.json
    return response.json


def group_task(client, login, who, business_key):
    response = client.get(f"/api/tasks?scope=group&business_key={business_key}", headers=login(who))
    assert response.status_code == 200
    items = response.json["items"]
    assert len(items) == 1, items
    return items[0]


def test_declaration_lifecycle_over_http(client, login):
    created = submit(client, login, person(60))
    assert created["batch_no"].startswith("SC110101") and created["instance_id"]
    review = group_task(client, login, "reviewer", created["batch_no"])
    assert review["label"] == "初审" and review["due_at"]

    detail = client.get(f"/api/tasks/{review['id']}", headers=login("reviewer")).json
    assert {"decision", "conclusion"} <= {c.get("key") for c in detail["form"]["components"]}

    claimed = client.post(f"/api/tasks/{review['id']}/claim", headers=login("reviewer"))
    assert claimed.status_code == 200 and claimed.json["assignee"] == "reviewer"
    mine = client.get("/api/tasks?scope=mine", headers=login("reviewer")).json
    assert [t["id"] for t in mine["items"]] == [review["id"]]

    done = client.post(f"/api/tasks/{review['id']}/complete", json={"data": {"decision": "approve"}},
                       headers=login("reviewer"))
    assert done.status_code == 200 and done.json["status"] == "waiting"
    again = client.post(f"/api/tasks/{review['id']}/complete", json={"data": {"decision": "approve"}},
                        headers=login("reviewer"))
    assert again.status_code == 409 and again.json["error"] == "conflict"

    recheck = group_task(client, login, "rechecker", created["batch_no"])
    closed = client.post(f"/api/tasks/{recheck['id']}/complete", json={"data": {"decision": "approve"}},
                         headers=login("rechecker"))
    assert closed.json["status"] == "completed"

    instance = client.get(f"/api/instances/{created['instance_id']}", headers=login("reviewer")).json
    assert instance["status"] == "completed" and instance["process_version"] >= 1
    assert [(h["task_name"], h["decision"]) for h in instance["history"] if h["kind"] == "task_completed"] == [
        ("review", "approve"), ("recheck", "approve")]
    done_list = client.get("/api/tasks?scope=done", headers=login("reviewer")).json
    assert review["id"] in [t["id"] for t in done_list["items"]]
    listed = client.get(f"/api/instances?status=completed&business_key={created['batch_no']}",
                        headers=login("supervisor")).json
    assert [i["id"] for i in listed["items"]] == [created["instance_id"]]


def test_invalid_decision_gets_field_messages(client, login):
    created = submit(client, login, person(61))
    review = group_task(client, login, "reviewer", created["batch_no"])
    response = client.post(f"/api/tasks/{review['id']}/complete", json={"data": {"decision": "reject"}},
                           headers=login("reviewer"))
    assert response.status_code == 400
    assert response.json["fields"]["conclusion"] == ["请填写“审核结论”"]
    response = client.post(f"/api/tasks/{review['id']}/complete", json={"data": {"decision": "maybe"}},
                           headers=login("reviewer"))
    assert response.status_code == 400 and "decision" in response.json["fields"]


def test_business_rule_failures_are_accepted_and_shown(client, login):
    bad = person(62, id_number="110101197503010001")
    created = submit(client, login, bad)
    batch = client.get(f"/api/declarations/{created['batch_id']}", headers=login("reviewer")).json
    assert batch["error_count"] == 1
    assert "公民身份号码校验位错误" in batch["persons"][0]["problems"]


def test_malformed_payload_is_400_with_fields(client, login):
    response = client.post("/api/declarations", json={"enterprise_code": "110101000001", "kind": "weekly",
                                                      "persons": [{"name": "x"}]}, headers=login("enterprise"))
    assert response.status_code == 400
    assert set(response.json["fields"]) == {"kind", "persons"}
    not_json = client.post("/api/declarations", data="{{", headers={**login("enterprise"),
                                                                   "Content-Type": "application/json"})
    assert not_json.status_code == 400 and "Traceback" not in not_json.get_data(as_text=True)


def test_authentication_errors(client, login):
    assert client.get("/api/tasks").status_code == 401
    assert client.get("/api/tasks", headers={"Authorization": "Bearer forged"}).status_code == 401
    wrong = client.post("/api/auth/token", json={"username": "reviewer", "password": "nope"})
    assert wrong.status_code == 401 and wrong.json == {"error": "unauthenticated", "message": SIGN_IN_REFUSED}


def test_region_scoping(client, login):
    created = submit(client, login, person(63))
    review = group_task(client, login, "reviewer", created["batch_no"])
    assert client.get(f"/api/instances/{created['instance_id']}", headers=login("tj_reviewer")).status_code == 404
    assert client.get(f"/api/declarations/{created['batch_id']}", headers=login("tj_reviewer")).status_code == 404
    assert client.get(f"/api/tasks/{review['id']}", headers=login("tj_reviewer")).status_code == 404
    out_of_scope = client.post(f"/api/tasks/{review['id']}/complete", json={"data": {"decision": "approve"}},
                               headers=login("tj_reviewer"))
    assert out_of_scope.status_code == 404  # like a task that does not exist: nothing about its case leaks
    assert client.get("/api/tasks?scope=group", headers=login("tj_reviewer")).json["total"] == 0
    assert client.post("/api/tasks/00000000-0000-0000-0000-000000000000/complete", json={"data": {}},
                       headers=login("reviewer")).status_code == 404
    enterprises = client.get("/api/enterprises", headers=login("enterprise")).json["items"]
    assert [e["code"] for e in enterprises] == ["110101000001"]
    other = client.post("/api/declarations", json={**declaration_body(person(64)), "enterprise_code": "120101000003"},
                        headers=login("enterprise"))
    assert other.status_code == 403


def test_deploy_upload_is_for_designers_only(client, login):
    xml = linear_process("uploaded_process")
    upload = {"file": (io.BytesIO(xml), "uploaded_process.bpmn")}
    assert client.post("/api/process-definitions", data=upload, headers=login("reviewer"),
                       content_type="multipart/form-data").status_code == 403
    created = client.post("/api/process-definitions", data={"file": (io.BytesIO(xml), "uploaded_process.bpmn")},
                          headers=login("designer"), content_type="multipart/form-data")
    assert created.status_code == 201 and created.json["items"][0]["version"] >= 1
    bad = client.post("/api/process-definitions", data={"file": (io.BytesIO(b"<oops"), "x.bpmn")},
                      headers=login("designer"), content_type="multipart/form-data")
    assert bad.status_code == 400 and bad.json["problems"][0]["file"] == "x.bpmn"
    keys = [d["key"] for d in client.get("/api/process-definitions", headers=login("reviewer")).json["items"]]
    assert "first_declaration_review" in keys and "uploaded_process" in keys


def test_generic_start_respects_startable_by(client, login):
    body = {"process_key": "first_declaration_review", "business_key": "X-1", "data": {}}
    assert client.post("/api/instances", json=body, headers=login("reviewer")).status_code == 403
    assert client.post("/api/instances", json={**body, "process_key": "nope"},
                       headers=login("reviewer")).status_code == 404


def test_openapi_document_lists_the_endpoints(client):
    doc = client.get("/api/openapi.json").json
    assert doc["openapi"].startswith("3.")
    assert "requestBody" in doc["paths"]["/api/declarations"]["post"]
    assert {"/api/tasks/{task_id}/complete", "/api/instances/{instance_id}", "/api/auth/token"} <= set(doc["paths"])
    assert "DeclarationRequest" in doc["components"]["schemas"]
