"""hr_licence (行政许可, seed 003 §2.1–2.3), each path as its users take it: an organisation applies with
its materials, 受理 accepts, returns for 补正 (the same case, resubmitted) or refuses; 审批 — never the
受理人 — grants (numbers, licence, documents) or denies."""
from __future__ import annotations

import io

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from engine.errors import Conflict, Forbidden, InvalidData
from engine.models import ProcessInstance
from services.hr_market.models import HrLicence
from services.platform.attachments import CaseAttachment
from services.platform.documents import CaseDocument
from tests.conftest import USERS, actor
from tests.processes.hr_helpers import APPLICATION, PNG, act, all_materials, apply, open_task, register_organisation


def instance(runtime, instance_id: int) -> ProcessInstance:
    with runtime.unit_of_work() as uow:
        found = uow.session.get(ProcessInstance, instance_id)
        uow.session.expunge(found)
        return found


def documents(runtime, instance_id: int) -> dict[str, CaseDocument]:
    with runtime.unit_of_work() as uow:
        rows = uow.session.scalars(select(CaseDocument).where(CaseDocument.instance_id == instance_id)).all()
        for row in rows:
            _ = row.content
            uow.session.expunge(row)
        return {row.kind: row for row in rows}


def pdf_text(document: CaseDocument) -> str:
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(document.content)).pages)


def test_a_granted_licence_gets_its_numbers_its_licence_and_its_documents(runtime):
    organisation_id = register_organisation(runtime)
    case = apply(runtime)
    assert instance(runtime, case.id).title == f"北京东城人才服务有限公司（{USERS['hr_org'][2]}）"
    assert open_task(runtime, case.id).lane == "acceptor"
    act(runtime, case.id, "acceptor", {"decision": "approve"})
    assert instance(runtime, case.id).case_status == "accepted"
    act(runtime, case.id, "approver", {"decision": "approve", "granted_items": ["job_fairs"],
                                       "conclusion": "符合条件"})
    closed = instance(runtime, case.id)
    assert (closed.status, closed.case_status) == ("completed", "closed_approved")
    with runtime.unit_of_work() as uow:
        licence = uow.session.scalars(select(HrLicence)).one()
    assert licence.organisation_id == organisation_id and licence.items == ["job_fairs"]
    assert licence.licence_number.startswith("110101") and licence.licence_number.endswith("0001")
    assert licence.document_number.startswith("110101人社许字〔") and licence.status == "active"
    assert (licence.valid_until - licence.issued_on).days in (1825, 1826)  # five years less a day
    printed = documents(runtime, case.id)
    assert set(printed) == {"acceptance_notice", "approval_decision", "licence_certificate"}
    assert printed["approval_decision"].number == licence.document_number
    assert printed["licence_certificate"].number == licence.licence_number
    certificate = pdf_text(printed["licence_certificate"])
    for shown in ("北京东城人才服务有限公司", "张法人", "组织开展招聘会", licence.licence_number):
        assert shown in certificate
    assert "为用人单位推荐劳动者" not in certificate  # applied for, not granted


def test_returned_for_correction_the_organisation_resubmits_the_same_case(runtime):
    register_organisation(runtime)
    case = apply(runtime)
    act(runtime, case.id, "acceptor", {"decision": "correct", "correction_items": "社保缴费证明缺少近三个月记录"})
    returned = instance(runtime, case.id)
    assert (returned.case_status, returned.clock_state) == ("correction_started", "paused")  # 补正 does not count
    task = open_task(runtime, case.id)
    assert (task.lane, task.assignee) == ("hr_org", "hr_org")
    assert "correction_notice" in documents(runtime, case.id)
    with runtime.unit_of_work() as uow:
        kept = {a.field: a.id for a in uow.session.scalars(select(CaseAttachment)).all()}
    resubmission = dict(APPLICATION, staff_count=8, **{key: [ident] for key, ident in kept.items()
                                                       if key != "staff_list"})
    act(runtime, case.id, "hr_org", resubmission, {"staff_list": [("社保证明.png", PNG)]})
    assert (instance(runtime, case.id).case_status, instance(runtime, case.id).clock_state) == (
        "correction_ended", "running")
    assert open_task(runtime, case.id).name == "accept"
    with runtime.unit_of_work() as uow:
        files = uow.session.scalars(select(CaseAttachment).where(CaseAttachment.instance_id == case.id)).all()
        assert len(files) == 7  # six materials, and the new staff list beside the old one
        new = [f for f in files if f.step == "修改重新提交"]
        assert [(f.field, f.content_type, f.label) for f in new] == [
            ("staff_list", "image/png", "专职工作人员名单及社会保险缴费证明")]
        data = runtime.engine.instance_data(uow.session, uow.session.get(ProcessInstance, case.id))
    assert data["staff_count"] == 8 and data["staff_list"] == [new[0].id]


def test_a_refusal_at_acceptance_freezes_the_case_and_a_new_application_is_allowed(runtime):
    register_organisation(runtime)
    case = apply(runtime)
    act(runtime, case.id, "acceptor", {"decision": "reject", "conclusion": "不属于本机关管辖"})
    refused = instance(runtime, case.id)
    assert (refused.status, refused.case_status) == ("completed", "refused")
    assert "不属于本机关管辖" in pdf_text(documents(runtime, case.id)["refusal_decision"])
    assert apply(runtime).id != case.id  # only a new application


def test_a_denial_prints_the_reason_and_the_legal_basis(runtime):
    register_organisation(runtime)
    case = apply(runtime)
    act(runtime, case.id, "acceptor", {"decision": "approve"})
    with pytest.raises(InvalidData) as missing:
        act(runtime, case.id, "approver", {"decision": "reject", "conclusion": "专职人员不足"})
    assert "法律依据" in str(missing.value.fields)
    act(runtime, case.id, "approver", {"decision": "reject", "conclusion": "专职人员不足 3 名",
                                       "legal_basis": "《人力资源服务机构管理规定》第六条"})
    assert instance(runtime, case.id).case_status == "closed_rejected"
    text = pdf_text(documents(runtime, case.id)["denial_decision"])
    assert "专职人员不足 3 名" in text and "第六条" in text and "行政复议" in text
    with runtime.unit_of_work() as uow:
        assert uow.session.scalar(select(func.count()).select_from(HrLicence)) == 0


def test_the_acceptor_may_not_also_decide(runtime):
    register_organisation(runtime)
    case = apply(runtime)
    both = actor("acceptor").grants | {("approver", "110000")}
    task = open_task(runtime, case.id)
    from engine.actors import Actor
    from services.platform import attachments

    one_person = Actor("acceptor", frozenset(both))
    with runtime.unit_of_work() as uow:
        attachments.complete(uow, runtime.engine, one_person, task.id, {"decision": "approve"}, {})
        uow.commit()
    approval = open_task(runtime, case.id)
    with runtime.unit_of_work() as uow, pytest.raises(Forbidden, match="职责分离"):
        runtime.engine.claim(uow, approval.id, one_person)
    with runtime.unit_of_work() as uow, pytest.raises(Forbidden, match="职责分离"):
        attachments.complete(uow, runtime.engine, one_person, approval.id, {"decision": "approve"}, {})
    assert instance(runtime, case.id).case_status == "accepted"


def test_who_may_apply(runtime):
    with pytest.raises(InvalidData, match="未绑定已登记"):
        apply(runtime)  # the account's organisation is not in the register
    register_organisation(runtime)
    first = apply(runtime)
    with pytest.raises(Conflict, match="正在办理"):
        apply(runtime)
    act(runtime, first.id, "acceptor", {"decision": "approve"})
    act(runtime, first.id, "approver", {"decision": "approve"})
    with pytest.raises(Conflict, match="已持有有效的人力资源服务许可证"):
        apply(runtime)


@pytest.mark.parametrize(("uploads", "message"), [
    ({**all_materials(), "business_licence": []}, "请上传“营业执照”"),
    ({**all_materials(), "articles": [("章程.pdf", b"MZ\x90\x00 not a pdf")]}, "只能是 PDF、PNG 或 JPEG"),
    ({**all_materials(), "articles": [("章程.pdf", b"")]}, "上传的文件为空"),
])
def test_bad_materials_are_refused_and_nothing_is_stored(runtime, uploads, message):
    register_organisation(runtime)
    with pytest.raises(InvalidData) as refused:
        apply(runtime, uploads=uploads)
    assert message in str(refused.value.fields)
    with runtime.unit_of_work() as uow:
        assert uow.session.scalar(select(func.count()).select_from(ProcessInstance)) == 0
        assert uow.session.scalar(select(func.count()).select_from(CaseAttachment)) == 0


def test_an_attachment_of_someone_else_cannot_be_named(runtime):
    register_organisation(runtime)
    register_organisation(runtime, "hr_org_chaoyang", "北京朝阳职业介绍中心有限公司")
    other = apply(runtime, "hr_org_chaoyang")
    with runtime.unit_of_work() as uow:
        foreign = uow.session.scalars(select(CaseAttachment.id).where(CaseAttachment.instance_id == other.id)).first()
    uploads = {**all_materials(), "articles": []}
    with pytest.raises(InvalidData, match="附件有误") as refused:
        apply(runtime, data=dict(APPLICATION, articles=[foreign]), uploads=uploads)
    assert "引用的附件不存在" in str(refused.value.fields)


def test_fifty_concurrent_grants_give_fifty_consecutive_numbers(runtime):
    """50 approvers decide 50 accepted applications at once: each grant draws its 许可证编号 and 文号 in
    its own transaction (PostgreSQL, the production database: the counter row's lock queues them)."""
    if runtime.db.dialect.name != "postgresql":
        pytest.skip("concurrent grants are measured on PostgreSQL (SQLite serialises every writer anyway)")
    import threading

    from engine.actors import Actor
    from services.bootstrap import Settings, bootstrap
    from services.hr_market import organisations
    from services.platform.credit_code import check_character

    cases = []
    with runtime.unit_of_work() as uow:
        for n in range(50):
            first17 = f"91110101MA{n:06d}X"
            organisation = organisations.create(uow.session, actor("admin"), organisations.OrganisationInput(
                credit_code=first17 + check_character(first17), name=f"并发机构{n}", kind="enterprise",
                legal_representative="法人", address="东城区", region_code="110101"))
            applicant = Actor(f"org{n}", frozenset({("hr_org", "110101")}), organisation.credit_code)
            cases.append(runtime.engine.start(uow, "hr_licence", business_key=f"RACE-{n}", region_code="110101",
                                              data={**APPLICATION, "organisation_id": organisation.id,
                                                    "organisation_name": organisation.name}, actor=applicant).id)
        uow.commit()
    for case_id in cases:
        act(runtime, case_id, "acceptor", {"decision": "approve"})
    tasks = [open_task(runtime, case_id).id for case_id in cases]
    start, errors = threading.Barrier(50), []

    def decide(task_id: str) -> None:
        try:
            start.wait()
            with wide.unit_of_work() as uow:
                wide.engine.complete_task(uow, task_id, actor("approver"), {"decision": "approve"})
                uow.commit()
        except BaseException as error:  # noqa: BLE001 (reported below)
            errors.append(error)

    threads = [threading.Thread(target=decide, args=(task_id,)) for task_id in tasks]
    # as in a deployment serving 50 approvers at once: a connection for each (BANJIAN_DB_POOL_SIZE)
    wide = bootstrap(Settings(database_url=str(runtime.db.url.render_as_string(hide_password=False)),
                              db_pool_size=50))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wide.db.dispose()
    assert errors == []
    with runtime.unit_of_work() as uow:
        licences = uow.session.scalars(select(HrLicence)).all()
    year = licences[0].issued_on.year if licences else 0
    assert sorted(licence.licence_number for licence in licences) == [f"110101{year}{n:04d}" for n in range(1, 51)]
    assert len({licence.document_number for licence in licences}) == 50


def test_the_applicants_resubmission_step_can_only_be_submitted(runtime):
    """Releasing it would leave it with nobody who may take it; returning it would skip the resubmission."""
    from services.platform import carbon_copies, task_actions

    register_organisation(runtime)
    case = apply(runtime)
    act(runtime, case.id, "acceptor", {"decision": "correct", "correction_items": "补充材料"})
    task = open_task(runtime, case.id)
    with runtime.unit_of_work() as uow:
        assert task_actions.available_actions(uow.session, runtime.engine, actor("hr_org"), task.id).names == [
            "complete"]
    for attempt in (lambda uow: runtime.engine.unclaim(uow, task.id, actor("hr_org")),
                    lambda uow: runtime.engine.return_task(uow, task.id, actor("hr_org"), "accept", "不想补正"),
                    lambda uow: runtime.engine.delegate(uow, task.id, actor("hr_org"), actor("hr_org"), ""),
                    lambda uow: carbon_copies.send(uow, runtime.engine, runtime.notifier, actor("hr_org"), task.id,
                                                   ["acceptor"], "")):
        with runtime.unit_of_work() as uow, pytest.raises(Forbidden, match="申请人办理的环节"):
            attempt(uow)
    assert open_task(runtime, case.id).assignee == "hr_org"


def test_separation_of_duties_survives_a_return_and_a_hand_over(runtime):
    """Whoever completed 受理 can neither hand 审批 to a colleague of their choice nor return it to 受理 to
    have someone else accept it again: the history, not the task row, says who accepted."""
    from engine.actors import Actor
    from services.platform import attachments

    register_organisation(runtime)
    case = apply(runtime)
    dual = Actor("acceptor", frozenset({("acceptor", "110000"), ("approver", "110000")}))
    with runtime.unit_of_work() as uow:
        attachments.complete(uow, runtime.engine, dual, open_task(runtime, case.id).id, {"decision": "approve"}, {})
        uow.commit()
    approval = open_task(runtime, case.id)
    for attempt in (lambda uow: runtime.engine.return_task(uow, approval.id, dual, "accept", "重新受理"),
                    lambda uow: runtime.engine.delegate(uow, approval.id, dual, actor("approver"), "")):
        with runtime.unit_of_work() as uow, pytest.raises(Forbidden, match="职责分离"):
            attempt(uow)
    assert open_task(runtime, case.id).assignee is None
