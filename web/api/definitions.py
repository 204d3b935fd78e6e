from __future__ import annotations

from flask import request

from engine.definitions import DefinitionInvalid, VersionLinks, list_definitions, version_links
from engine.errors import InvalidData, NotFound
from engine.models import ProcessDefinition
from services.platform import design
from web.api import api, documented
from web.api.review_schemas import BpmnUploadForm
from web.auth import api_login_required, current_actor
from web.context import runtime, uow
from web.schemas import DefinitionSchema, DeployedSchema, PinSchema


def definition_body(definition: ProcessDefinition, links: VersionLinks) -> dict:
    body = DefinitionSchema(exclude=("pins", "called_by")).dump(definition)
    body["pins"] = PinSchema(many=True).dump(links.pins.get(definition.id, []))
    body["called_by"] = PinSchema(many=True).dump(links.called_by.get(definition.id, []))
    return body


@api.get("/process-definitions")
@api_login_required
@documented("已部署流程（每个流程的最新版本，及其固定调用的版本和调用它的版本）", response=DefinitionSchema, many=True)
def get_definitions():
    session = uow().session
    links = version_links(session)
    return {"items": [definition_body(definition, links) for definition in list_definitions(session)]}


@api.get("/process-definitions/<int:definition_id>")
@api_login_required
@documented("已部署流程的一个版本：固定调用的版本和调用它的版本", response=DefinitionSchema, envelope=None)
def get_definition(definition_id: int):
    session = uow().session
    definition = session.get(ProcessDefinition, definition_id)
    if definition is None:
        raise NotFound("流程定义不存在")
    return definition_body(definition, version_links(session))


@api.post("/process-definitions")
@api_login_required
@documented("上传并部署 BPMN 文件（仅流程设计人员）", form=BpmnUploadForm, response=DeployedSchema, many=True,
            status=201)
def deploy_definition():
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise InvalidData("请上传 BPMN 文件（字段 file）", fields={"file": ["请上传 BPMN 文件"]})
    work = uow()
    outcome = design.upload(work.session, runtime().deployer, current_actor(), [(upload.read(), upload.filename)],
                            deploy=True)
    if outcome.problems:
        raise DefinitionInvalid(outcome.problems)  # the unit of work is rolled back, never committed
    work.commit()
    results = outcome.deployed
    return {"items": DeployedSchema(many=True).dump(
        {"key": r.key, "version": r.version, "created": r.created, "id": r.definition_id, "repinned": r.repinned}
        for r in results)}, 201
