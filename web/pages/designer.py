"""The designer's page (流程设计): deployed definitions with all their versions, a version's diagram,
and the upload form that validates (and deploys) .bpmn/.dmn files. The rules live in services.platform.design."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from engine.definitions import DeployResult
from services.platform import design
from web.api.downloads import file_response
from web.context import runtime, uow
from web.pages import pages
from web.pages.session import login_required, page_actor


def render_designer(problems: list | None = None, checked: list[str] | None = None, status: int = 200):
    groups = design.list_versions(uow().session, page_actor())
    return render_template("designer.html", groups=groups, problems=problems or [], checked=checked or []), status


@pages.get("/designer")
@login_required
def designer():
    return render_designer()


@pages.get("/designer/definitions/<int:definition_id>")
@login_required
def designer_definition(definition_id: int):
    session = uow().session
    definition = design.get_definition(session, page_actor(), definition_id)
    return render_template("designer_definition.html", definition=definition,
                           links=design.definition_links(session, page_actor(), definition),
                           previous=design.previous_version(session, definition),
                           is_decision=design.is_decision(definition))


@pages.get("/designer/definitions/<int:definition_id>.bpmn")
@login_required
def designer_xml(definition_id: int):
    definition = design.get_definition(uow().session, page_actor(), definition_id)
    # a download, never a document the browser renders: an uploaded file may carry XHTML with scripts
    suffix = ".dmn" if definition.filename.endswith(".dmn") else ".bpmn"
    return file_response(definition.xml.encode(), f"{definition.key}-v{definition.version}{suffix}", "application/xml")


@pages.post("/designer/upload")
@login_required
def designer_upload():
    files = [(f.read(), f.filename or "") for f in request.files.getlist("files") if f.filename]
    deploy = request.form.get("action") != "validate"
    work = uow()
    outcome = design.upload(work.session, runtime().deployer, page_actor(), files, deploy)
    if outcome.problems:
        work.session.rollback()
        return render_designer(outcome.problems, status=400)
    if not deploy:
        return render_designer(checked=[name for _content, name in files])
    work.commit()
    for result in outcome.deployed:
        flash(deploy_message(result), "success" if result.created else "info")
    return redirect(url_for("pages.designer"))


def deploy_message(result: DeployResult) -> str:
    """What a deploy did to one process, in words (the upload's flash, the studio's status line)."""
    if result.repinned:
        return _("%(key)s 调用的流程有了新版本，已自动部署其第 %(version)s 版，改为调用 %(pins)s；"
                 "进行中的办件仍按原版本办理", key=result.key, version=result.version,
                 pins=", ".join(str(pin) for pin in result.repinned))
    if result.created:
        return _("已部署 %(key)s 第 %(version)s 版", key=result.key, version=result.version)
    return _("%(key)s 内容未变化，仍为第 %(version)s 版", key=result.key, version=result.version)
