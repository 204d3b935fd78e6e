"""流程设计工作台's server side: drafts kept per designer, saves that never overwrite newer work or accept a
hostile file, validation through the deployer with the draft's own forms, deploys that store those forms
with the version, audited — and nobody but the draft's designer reading or changing it."""
from __future__ import annotations

import json
from uuid import uuid4

import pytest
from sqlalchemy import select

from engine.models import ProcessDefinition
from services.bootstrap import ROOT
from services.platform.audit import AuditEntry
from services.platform.studio import DesignDraft
from tests.bpmn_factory import linear_process
from tests.web.test_designer import ENTITY_FILE

FORM = {"type": "default", "id": "x", "components": [
    {"type": "textfield", "key": "reason", "label": "请假事由", "validate": {"required": True}}]}


@pytest.fixture
def key() -> str:
    return f"studio_{uuid4().hex[:10]}"


def new_draft(b, key: str) -> int:
    b.get("/designer/studio")
    response = b.post("/designer/studio", {"key": key, "name": "请假申请"})
    assert response.status_code == 302, response.get_data(as_text=True)
    return int(response.headers["Location"].rstrip("/").rsplit("/", 1)[1])


def save(b, draft_id: int, revision: int, bpmn: str, forms: dict | None = None, **extra):
    body = {"name": "请假申请", "bpmn": bpmn, "forms": forms or {}, "decisions": {}, **extra}
    return b.client.put(f"/designer/studio/{draft_id}/draft.json?revision={revision}", json=body,
                        headers={"X-CSRFToken": b.token})


def call(b, draft_id: int, action: str):
    return b.client.post(f"/designer/studio/{draft_id}/{action}", headers={"X-CSRFToken": b.token,
                                                                           "Accept": "application/json"})


def draft_of(runtime, draft_id: int) -> DesignDraft:
    with runtime.unit_of_work() as uow:
        return uow.session.get(DesignDraft, draft_id)


def test_a_new_draft_is_a_blank_process_the_editor_opens(runtime, browser, key):
    b = browser("designer")
    draft_id = new_draft(b, key)
    page = b.get(f"/designer/studio/{draft_id}").get_data(as_text=True)
    assert "build/studio-lib.js" in page and 'name="csrf-token"' in page
    body = b.get(f"/designer/studio/{draft_id}/draft.json").get_json()
    assert body["revision"] == 1 and f'<bpmn:process id="{key}" name="请假申请"' in body["bpmn"]
    assert 'name="acceptor"' in body["bpmn"] and 'name="approver"' in body["bpmn"]  # the two role lanes
    catalogue = b.get("/designer/studio/catalogue.json").get_json()
    assert {"key": "acceptor", "label": "受理人员"} in catalogue["roles"]
    assert "declaration_review" in catalogue["forms"]
    validate = next(o for o in catalogue["operators"] if o["name"] == "declaration.validate")
    assert validate["parameters"] == ["batch_id"]  # read from the operator's function
    assert any(p["name"] == "dueIn" and "bpmn:UserTask" in p["applies_to"] for p in catalogue["properties"])


@pytest.mark.parametrize("fields", [{"key": "1abc", "name": "x"}, {"key": "a-b", "name": "x"},
                                    {"key": "ok_key", "name": ""}, {"key": "ok_key", "name": "<b>"}])
def test_a_draft_needs_a_usable_key_and_name(runtime, browser, fields):
    b = browser("designer")
    b.get("/designer/studio")
    response = b.post("/designer/studio", fields)
    assert response.status_code == 400
    assert 'class="error"' in response.get_data(as_text=True)


def test_a_save_from_an_older_window_is_refused_and_changes_nothing(runtime, browser, key):
    b = browser("designer")
    draft_id = new_draft(b, key)
    newer = linear_process(key, form="declaration_review").decode()
    assert save(b, draft_id, 1, newer).get_json()["revision"] == 2
    stale = save(b, draft_id, 1, linear_process(key, label="旧窗口").decode())
    assert stale.status_code == 409
    assert "第 2 版" in stale.get_json()["message"]
    draft = draft_of(runtime, draft_id)
    assert draft.revision == 2 and draft.bpmn == newer


def test_hostile_or_broken_files_are_refused_on_save(runtime, browser, key):
    b = browser("designer")
    draft_id = new_draft(b, key)
    before = draft_of(runtime, draft_id).bpmn
    entity = save(b, draft_id, 1, ENTITY_FILE.decode())
    assert entity.status_code == 400
    assert any("DOCTYPE" in p["message"] for p in entity.get_json()["problems"])
    bad_form = save(b, draft_id, 1, before, forms={"leave": "{not json"})
    assert bad_form.status_code == 400 and bad_form.get_json()["problems"][0]["file"] == "leave.json"
    bad_key = save(b, draft_id, 1, before, forms={"../../etc": json.dumps(FORM)})
    assert bad_key.status_code == 400
    bad_dmn = save(b, draft_id, 1, before, decisions={"../x.dmn": "<a/>"})
    assert bad_dmn.status_code == 400
    not_json = b.client.put(f"/designer/studio/{draft_id}/draft.json?revision=1", data="bpmn",
                            headers={"X-CSRFToken": b.token, "Accept": "application/json"})
    assert not_json.status_code == 400 and "JSON" in not_json.get_json()["message"]
    draft = draft_of(runtime, draft_id)
    assert draft.revision == 1 and draft.bpmn == before and draft.forms == {}


def test_validation_names_the_element_and_uses_the_drafts_own_forms(runtime, browser, key):
    b = browser("designer")
    draft_id = new_draft(b, key)
    save(b, draft_id, 1, linear_process(key, form="leave_only_in_the_draft").decode())
    problems = call(b, draft_id, "validate").get_json()["problems"]
    assert [p["element_id"] for p in problems] == ["task"]
    assert "leave_only_in_the_draft" in problems[0]["message"]
    save(b, draft_id, 2, linear_process(key, form="leave_only_in_the_draft").decode(),
         forms={"leave_only_in_the_draft": json.dumps(FORM)})
    assert call(b, draft_id, "validate").get_json()["problems"] == []
    assert not list((ROOT / "forms").rglob("leave_only_in_the_draft.json"))
    # live validation: the editor's unsaved content, nothing stored
    unsaved = {"name": "x", "bpmn": linear_process(key, form="another_missing_form").decode(), "forms": {},
               "decisions": {}}
    live = b.client.post(f"/designer/studio/{draft_id}/validate", json=unsaved, headers={"X-CSRFToken": b.token})
    assert "another_missing_form" in live.get_json()["problems"][0]["message"]
    assert draft_of(runtime, draft_id).revision == 3


def test_deploying_a_draft_stores_its_forms_with_the_version_and_is_audited(runtime, browser, key):
    b = browser("designer")
    draft_id = new_draft(b, key)
    save(b, draft_id, 1, linear_process(key, form="leave_form_" + key[-6:]).decode(),
         forms={"leave_form_" + key[-6:]: json.dumps(FORM)})
    response = call(b, draft_id, "deploy")
    assert response.status_code == 200, response.get_data(as_text=True)
    deployed = response.get_json()["deployed"]
    assert deployed[0]["key"] == key and deployed[0]["version"] == 1 and "第 1 版" in deployed[0]["message"]
    with runtime.unit_of_work() as uow:
        definition = uow.session.scalar(select(ProcessDefinition).where(ProcessDefinition.key == key))
        assert json.loads(definition.forms["leave_form_" + key[-6:]])["components"][0]["key"] == "reason"
        actions = [a.action for a in uow.session.scalars(select(AuditEntry).where(
            AuditEntry.target_type == "design_draft", AuditEntry.target_id == str(draft_id)).order_by(AuditEntry.id))]
    assert actions == ["studio.create", "studio.save", "studio.deploy"]
    # the case runs with the draft's form: its required field is enforced
    assert b.get(f"/designer/definitions/{definition.id}").status_code == 200


def test_an_invalid_draft_deploys_nothing(runtime, browser, key):
    b = browser("designer")
    draft_id = new_draft(b, key)
    save(b, draft_id, 1, linear_process(key, form="no_such_form").decode())
    response = call(b, draft_id, "deploy")
    assert response.status_code == 400
    assert [p["element_id"] for p in response.get_json()["problems"]] == ["task"]
    with runtime.unit_of_work() as uow:
        assert uow.session.scalar(select(ProcessDefinition).where(ProcessDefinition.key == key)) is None


def test_drafts_belong_to_their_designer_and_only_national_designers_deploy(runtime, browser, key):
    owner = browser("designer")
    draft_id = new_draft(owner, key)
    other = browser("province_designer")
    for url in (f"/designer/studio/{draft_id}", f"/designer/studio/{draft_id}/draft.json"):
        assert other.get(url, headers={"Accept": "application/json"}).status_code == 404
    other.get("/designer/studio")
    assert save(other, draft_id, 1, linear_process(key).decode()).status_code == 404
    assert call(other, draft_id, "validate").status_code == 404
    assert key not in other.get("/designer/studio").get_data(as_text=True)
    reviewer = browser("reviewer")
    assert reviewer.get("/designer/studio").status_code == 403
    assert reviewer.get("/designer/studio/catalogue.json", headers={"Accept": "application/json"}).status_code == 403
    # a province's designer drafts and validates, but deploying is national
    own = new_draft(other, key + "p")
    save(other, own, 1, linear_process(key + "p").decode())
    assert call(other, own, "validate").get_json()["problems"] == []
    refused = call(other, own, "deploy")
    assert refused.status_code == 403 and "全国" in refused.get_json()["message"]


def test_json_writes_need_the_csrf_token(runtime, browser, key):
    b = browser("designer")
    draft_id = new_draft(b, key)
    response = b.client.put(f"/designer/studio/{draft_id}/draft.json?revision=1",
                            json={"name": "x", "bpmn": linear_process(key).decode()})
    assert response.status_code == 400
    assert draft_of(runtime, draft_id).revision == 1


def test_deleting_a_draft_needs_the_confirmation(runtime, browser, key):
    b = browser("designer")
    draft_id = new_draft(b, key)
    b.get("/designer/studio")
    assert b.post(f"/designer/studio/{draft_id}/delete").status_code == 400
    assert draft_of(runtime, draft_id) is not None
    assert b.post(f"/designer/studio/{draft_id}/delete", {"confirm": "yes"}).status_code == 302
    assert draft_of(runtime, draft_id) is None


def test_a_deployed_version_opens_as_a_draft_and_two_versions_compare(runtime, browser, key):
    b = browser("designer")
    draft_id = new_draft(b, key)
    save(b, draft_id, 1, linear_process(key).decode())
    call(b, draft_id, "deploy")
    save(b, draft_id, 2, linear_process(key, label="复审").decode())
    call(b, draft_id, "deploy")
    with runtime.unit_of_work() as uow:
        ids = list(uow.session.scalars(select(ProcessDefinition.id).where(ProcessDefinition.key == key)
                                       .order_by(ProcessDefinition.version)))
    page = b.get(f"/designer/definitions/{ids[1]}").get_data(as_text=True)
    assert f"/designer/diff?old={ids[0]}&amp;new={ids[1]}" in page
    assert b.get(f"/designer/diff?old={ids[0]}&new={ids[1]}").status_code == 200
    copied = b.post("/designer/studio", {"from_definition_id": str(ids[1])})
    body = b.get(copied.headers["Location"] + "/draft.json").get_json()
    assert 'name="复审"' in body["bpmn"] and body["base_definition_id"] == ids[1]
    assert f"{key} v2</a>" in b.get("/designer/studio").get_data(as_text=True)  # the draft's base, in words
