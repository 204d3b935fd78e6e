"""Demo data of the human-resources market system for `make run`, made by driving its real use cases
and processes in Beijing's 东城区 and 朝阳区: organisations in the register (each with a valid credit
code), their accounts, and licence applications in every state — waiting for 受理, returned for 补正,
accepted and waiting for 审批, granted (licence, 决定书 and certificate printed), refused at 受理 and
denied at 审批 — 业务备案 (one recorded, its 凭证 printed; one waiting for 受理) and 2025 年度报告 (one
passed and disclosed, one waiting for 查阅), a 事项变更 of an address waiting for 审批, a branch holding
the licence and filing derived from its parent's, and a 现场招聘会."""
from __future__ import annotations

from datetime import date

from sqlalchemy import select

from engine.actors import Actor
from engine.db import UnitOfWork, utcnow
from engine.models import ProcessInstance
from engine.runtime import WorkflowEngine
from services.hr_market import job_fairs, organisations
from services.hr_market.annual_reports import PROCESS as REPORT
from services.hr_market.branches import PROCESS as BRANCH
from services.hr_market.changes import PROCESS as CHANGE
from services.hr_market.filings import PROCESS as FILING
from services.hr_market.licences import PROCESS
from services.platform import my_cases
from services.platform.credit_code import check_character
from services.platform.demo_data import DEMO_PASSWORD
from services.platform.identity import User, create_user

DEMO_PDF = b"%PDF-1.4\n% demo application material\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"
MATERIALS = ("application_letter", "business_licence", "articles", "premises_proof", "staff_list",
             "legal_representative_id")
FILING_MATERIALS = ("filing_letter", "business_licence", "premises_proof")
# (serial, name, region, what happens to its licence application, its account)
ORGANISATIONS = [
    (1, "北京东城人才服务有限公司", "110101", "submitted", "hr_org"),
    (2, "北京朝阳职业介绍中心有限公司", "110105", "returned", "hr_org_chaoyang"),
    (3, "北京东城猎头咨询有限公司", "110101", "accepted", None),
    (4, "北京朝阳人力资源服务有限公司", "110105", "granted", "hr_org_granted"),
    (5, "北京东城招聘会服务有限公司", "110101", "refused", None),
    (6, "北京朝阳网络招聘有限公司", "110105", "denied", None),
]


def demo_credit_code(region: str, serial: int) -> str:
    """A well-formed code (GB 32100) for a demo organisation: 91 (a company), the region, a made-up
    organisation code and the right check character."""
    first17 = f"91{region}MA{serial:06d}X"[:17]
    return first17 + check_character(first17)


def load(uow: UnitOfWork, engine: WorkflowEngine) -> None:
    """Idempotent: skipped once the first demo organisation's account exists."""
    session = uow.session
    if session.scalar(select(User.id).where(User.username == "hr_org")) is not None:
        return
    office = Actor("hr_demo", frozenset({("admin", "110000")}))
    create_user(session, "acceptor", DEMO_PASSWORD, "110000", ["acceptor"], "受理员", enforce_policy=False)
    acceptor = Actor("acceptor", frozenset({("acceptor", "110000")}))
    approver = Actor("approver", frozenset({("approver", "110000")}))
    for serial, name, region, fate, username in ORGANISATIONS:
        code = demo_credit_code(region, serial)
        organisations.create(session, office, organisations.OrganisationInput(
            credit_code=code, name=name, kind="enterprise", legal_representative=f"法人{serial}",
            address=f"北京市{'东城区' if region == '110101' else '朝阳区'}示范路 {serial} 号", region_code=region,
            contact_person=f"联系人{serial}", contact_phone="010-6500000" + str(serial)))
        account = username or f"hr_org_{serial}"
        create_user(session, account, DEMO_PASSWORD, region, ["hr_org"], f"{name}经办人", code, enforce_policy=False)
        applicant = Actor(account, frozenset({("hr_org", region)}), code)
        instance = my_cases.start_case(uow, engine, applicant, region, PROCESS, {
            "licence_items": ["recommend_workers", "introduce_employers", "job_fairs"],
            "premises": f"北京市示范路 {serial} 号 3 层", "staff_count": 5, "contact_phone": "010-65000000"},
            utcnow(), {key: [(f"{key}.pdf", DEMO_PDF)] for key in MATERIALS})
        _drive(uow, engine, instance, fate, acceptor, approver)
        if fate in ("granted", "submitted"):
            filing = my_cases.start_case(uow, engine, applicant, region, FILING, {
                "filing_items": ["supply_demand_info", "career_guidance", "training"],
                "business_started_on": "2026-11-20", "contact_phone": "010-65000000"},
                utcnow(), {key: [(f"{key}.pdf", DEMO_PDF)] for key in FILING_MATERIALS})
            if fate == "granted":
                _drive(uow, engine, filing, "granted", acceptor, approver)
            report = my_cases.start_case(uow, engine, applicant, region, REPORT, {
                "report_year": 2025, "staff_count": 12, "persons_served": 3400, "employers_served": 120,
                "revenue": 560.5, "penalised": "no", "contact_person": f"联系人{serial}",
                "contact_phone": "010-65000000"}, utcnow(), {})
            if fate == "granted":
                [task] = engine.open_tasks(uow.session, report.id)
                engine.complete_task(uow, task.id, approver, {"decision": "approve"})
                moved = my_cases.start_case(uow, engine, applicant, region, CHANGE, {
                    "change_types": ["address"], "new_address": "北京市朝阳区新源路 8 号", "reason": "经营场所搬迁"},
                    utcnow(), {"change_proof": [("营业执照变更登记.pdf", DEMO_PDF)]})
                [task] = engine.open_tasks(uow.session, moved.id)
                engine.complete_task(uow, task.id, acceptor, {"decision": "approve"})
                job_fairs.add(session, applicant, job_fairs.JobFairInput(
                    "2026 年冬季人力资源交流会", date(2026, 12, 20), date(2026, 12, 21), "朝阳区会展中心 1 号馆",
                    "110105", 200, "王会务", "010-65000004"))
    _branch(uow, engine, office, acceptor, approver)


def _branch(uow: UnitOfWork, engine: WorkflowEngine, office: Actor, acceptor: Actor, approver: Actor) -> None:
    """A branch in 东城区 of the licensed 朝阳区 organisation: its report passed, it holds the licence and
    the filing derived from its parent's (account ``hr_branch``)."""
    code = demo_credit_code("110101", 7)
    organisations.create(uow.session, office, organisations.OrganisationInput(
        credit_code=code, name="北京朝阳人力资源服务有限公司东城分公司", kind="branch",
        legal_representative="分公司负责人", address="北京市东城区示范路 7 号", region_code="110101",
        contact_person="联系人7", contact_phone="010-65000007"))
    create_user(uow.session, "hr_branch", DEMO_PASSWORD, "110101", ["hr_org"], "东城分公司经办人", code,
                enforce_policy=False)
    applicant = Actor("hr_branch", frozenset({("hr_org", "110101")}), code)
    report = my_cases.start_case(uow, engine, applicant, "110101", BRANCH, {
        "parent_credit_code": demo_credit_code("110105", 4), "branch_registered_on": "2026-11-02",
        "contact_phone": "010-65000007"}, utcnow(),
        {"branch_licence": [("营业执照.pdf", DEMO_PDF)], "parent_authorisation": [("设立决定.pdf", DEMO_PDF)]})
    _drive(uow, engine, report, "granted", acceptor, approver)


def _drive(uow: UnitOfWork, engine: WorkflowEngine, instance: ProcessInstance, fate: str, acceptor: Actor,
           approver: Actor) -> None:
    def step(who: Actor, data: dict) -> None:
        [task] = engine.open_tasks(uow.session, instance.id)
        engine.complete_task(uow, task.id, who, data)

    if fate == "returned":
        step(acceptor, {"decision": "correct", "correction_items": "经营场所租赁合同已过期，请提交有效期内的合同\n"
                                                                   "专职工作人员社会保险缴费证明缺少近三个月记录"})
    elif fate == "refused":
        step(acceptor, {"decision": "reject", "conclusion": "申请人住所不在本区，不属于本机关管辖"})
    elif fate in ("accepted", "granted", "denied"):
        step(acceptor, {"decision": "approve"})
        if fate == "granted":
            step(approver, {"decision": "approve", "granted_items": ["recommend_workers", "job_fairs"],
                            "conclusion": "经审查，符合《人力资源市场暂行条例》规定的条件"})
        elif fate == "denied":
            step(approver, {"decision": "reject", "conclusion": "经现场核查，专职工作人员不足 3 名",
                            "legal_basis": "《人力资源服务机构管理规定》第六条"})
