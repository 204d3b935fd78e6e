"""The designer studio's pages (流程设计工作台): the drafts list, the editor, and the JSON the editor
reads and writes. The editor page itself is static markup; web/static/js/studio.js drives bpmn-js,
form-js and dmn-js (web/assets, bundled at install) against the JSON routes here. The rules live in
services.platform.studio; every route checks the designer role there, before anything is read."""
from __future__ import annotations

from typing import Any

from flask import Response, redirect, render_template, request, url_for

from engine.definitions import DefinitionInvalid, Problem
from engine.errors import InvalidData
from services.platform import design, studio
from services.platform.identity import ROLES
from web.context import runtime, uow
from web.pages import pages
from web.pages.designer import deploy_message
from web.pages.i18n import plain_message as _text
from web.pages.session import login_required, page_actor


def _problems(problems: list[Problem]) -> list[dict[str, str]]:
    return [{"file": p.file, "element_id": p.element_id, "message": _text(p.message)} for p in problems]


def _content() -> studio.DraftContent:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise InvalidData("请求内容应为 JSON 对象")
    forms, decisions = body.get("forms") or {}, body.get("decisions") or {}
    if not isinstance(body.get("bpmn"), str) or not isinstance(forms, dict) or not isinstance(decisions, dict) \
            or not all(isinstance(v, str) for v in [*forms.values(), *decisions.values()]):
        raise InvalidData("草稿内容格式不正确：bpmn 为文本，forms 与 decisions 为 名称 → 文本")
    return studio.DraftContent(bpmn=body["bpmn"], forms=forms, decisions=decisions,
                               name=str(body.get("name") or ""))


def _draft_body(draft: studio.DesignDraft) -> dict[str, Any]:
    return {"id": draft.id, "name": draft.name, "revision": draft.revision, "bpmn": draft.bpmn,
            "forms": draft.forms, "decisions": draft.decisions, "base_definition_id": draft.base_definition_id,
            "updated_at": draft.updated_at.isoformat()}


@pages.get("/designer/studio")
@login_required
def studio_drafts():
    drafts = studio.list_drafts(uow().session, page_actor())
    return render_template("studio_drafts.html", drafts=drafts, bases=studio.base_versions(uow().session, drafts),
                           fields={}, values={})


@pages.post("/designer/studio")
@login_required
def studio_create():
    work = uow()
    from_id = request.form.get("from_definition_id", type=int)
    try:
        draft = studio.create_draft(work.session, page_actor(), request.form.get("name", ""),
                                    request.form.get("key", "").strip(), from_id)
    except InvalidData as error:
        drafts = studio.list_drafts(work.session, page_actor())
        return render_template("studio_drafts.html", drafts=drafts, bases=studio.base_versions(work.session, drafts),
                               fields=error.fields or {}, values=request.form), 400
    work.commit()
    return redirect(url_for("pages.studio_editor", draft_id=draft.id))


@pages.get("/designer/studio/<int:draft_id>")
@login_required
def studio_editor(draft_id: int):
    draft = studio.get_draft(uow().session, page_actor(), draft_id)
    return render_template("studio.html", draft=draft,
                           may_deploy=page_actor().holds(design.DESIGNER, design.NATIONAL))


@pages.get("/designer/studio/<int:draft_id>/draft.json")
@login_required
def studio_draft(draft_id: int):
    return _draft_body(studio.get_draft(uow().session, page_actor(), draft_id))


@pages.put("/designer/studio/<int:draft_id>/draft.json")
@login_required
def studio_save(draft_id: int):
    work = uow()
    revision = request.args.get("revision", type=int)
    if revision is None:
        raise InvalidData("请求缺少 revision（所编辑的草稿版本）")
    try:
        draft = studio.save_draft(work.session, runtime().deployer, page_actor(), draft_id, revision, _content())
    except DefinitionInvalid as invalid:
        work.session.rollback()
        return {"message": _text("草稿未保存：文件有误"), "problems": _problems(invalid.problems)}, 400
    work.commit()
    return {"revision": draft.revision, "updated_at": draft.updated_at.isoformat(), "forms": draft.forms}


@pages.post("/designer/studio/<int:draft_id>/validate")
@login_required
def studio_validate(draft_id: int):
    """Validates the draft as saved, or the unsaved content a JSON body carries (live validation while
    the designer edits): nothing changes either way."""
    content = _content() if request.is_json else None
    problems = studio.validate_draft(uow().session, runtime().deployer, page_actor(), draft_id, content)
    uow().session.rollback()
    return {"problems": _problems(problems)}


@pages.post("/designer/studio/<int:draft_id>/deploy")
@login_required
def studio_deploy(draft_id: int):
    work = uow()
    try:
        results = studio.deploy_draft(work.session, runtime().deployer, page_actor(), draft_id)
    except DefinitionInvalid as invalid:
        work.session.rollback()
        return {"message": _text("流程文件校验未通过"), "problems": _problems(invalid.problems)}, 400
    work.commit()
    return {"deployed": [{"key": r.key, "version": r.version, "created": r.created, "id": r.definition_id,
                          "url": url_for("pages.designer_definition", definition_id=r.definition_id),
                          "message": deploy_message(r)} for r in results]}


@pages.post("/designer/studio/<int:draft_id>/delete")
@login_required
def studio_delete(draft_id: int):
    work = uow()
    if request.form.get("confirm") != "yes":
        raise InvalidData("请勾选“确认删除”")
    studio.delete_draft(work.session, page_actor(), draft_id)
    work.commit()
    return redirect(url_for("pages.studio_drafts"))


@pages.get("/designer/studio/catalogue.json")
@login_required
def studio_catalogue():
    catalogue = studio.editor_catalogue(uow().session, page_actor(), runtime().deployer, ROLES)
    for role in catalogue["roles"]:
        role["label"] = _text(role["label"])
    for spec in catalogue["properties"]:
        spec["label"], spec["hint"] = _text(spec["label"]), _text(spec["hint"]) if spec["hint"] else ""
        spec["choices"] = [[value, _text(label)] for value, label in spec["choices"]]
    return catalogue


@pages.get("/designer/studio/forms/<form_key>.json")
@login_required
def studio_form(form_key: str):
    document = studio.form_document(runtime().deployer, page_actor(), form_key)
    return Response(document, mimetype="application/json")


@pages.get("/designer/diff")
@login_required
def designer_diff():
    """Two versions side by side, what changed marked on both (bpmn-js-differ, in the browser)."""
    session = uow().session
    old = design.get_definition(session, page_actor(), request.args.get("old", type=int) or 0)
    new = design.get_definition(session, page_actor(), request.args.get("new", type=int) or 0)
    return render_template("designer_diff.html", old=old, new=new)
