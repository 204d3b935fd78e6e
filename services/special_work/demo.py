"""Demo data of the special-work-type system for `make run`, made by driving its real use cases and
processes: catalogue entries, enterprises and their users, declarations waiting for review, persons
in the register, an early-retirement registration, a failed spot check, a commitment letter and
requests for a work-history certificate at each level of the case clock."""
from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from engine import case_clock
from engine.actors import Actor
from engine.db import UnitOfWork, utcnow
from engine.errors import NotFound
from engine.models import ProcessInstance
from engine.runtime import WorkflowEngine
from services.platform import calendar, documents, my_cases, ratings, supervision
from services.platform.demo_data import DEMO_PASSWORD, demo_id_number
from services.platform.identity import User, create_user
from services.special_work import attachments, declarations, early_retirement, register, spot_checks
from services.special_work.models import DeclarationBatch, Enterprise, WorkType

WORK_TYPES = [("MT001", "井下采煤工", "煤炭", "underground"), ("MT002", "井下掘进工", "煤炭", "underground"),
              ("MT003", "瓦斯检查工", "煤炭", "toxic_hazardous"), ("YJ001", "炼钢工", "冶金", "high_temperature"),
              ("YJ002", "高炉炉前工", "冶金", "high_temperature"), ("JZ001", "架子工", "建筑", "high_altitude_heavy")]
ENTERPRISES = [("110101000001", "北京东城示范煤矿有限公司", "110101", "煤炭"),
               ("110105000002", "北京朝阳冶金集团", "110105", "冶金"),
               ("120101000003", "天津和平建筑公司", "120101", "建筑")]
USERS = [("enterprise", ["enterprise"], "110101", "110101000001", "示范煤矿经办人"),
         ("spot_checker", ["spot_checker"], "110000", None, "省级抽查员"),
         ("catalogue_admin", ["catalogue_admin"], "000000", None, "部级名录管理员")]
CERTIFICATE = "work_history_certificate"  # processes/special_work/work_history_certificate.bpmn
DEMO_LETTER = b"%PDF-1.4\n% demo commitment letter\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"


def load(uow: UnitOfWork, engine: WorkflowEngine) -> None:
    """Idempotent: skipped once the demo enterprise's user exists."""
    session = uow.session
    if session.scalar(select(User.id).where(User.username == "enterprise")) is not None:
        return
    for code, name, industry, nature in WORK_TYPES:
        session.add(WorkType(code=code, name=name, industry=industry, nature=nature))
    for code, name, region, industry in ENTERPRISES:
        session.add(Enterprise(code=code, name=name, region_code=region, industry=industry, address=f"{name}厂区 1 号",
                               postal_code=region[:6], contact_person="联系人", contact_phone="010-12345678"))
    session.flush()
    for username, roles, region, enterprise, display in USERS:
        create_user(session, username, DEMO_PASSWORD, region, roles, display, enterprise, enforce_policy=False)
    _declarations(uow, engine)
    _register_and_early_retirement(uow, engine)
    _certificate_requests(uow, engine)
    _certificate_lifecycle(uow, engine)


def _declarations(uow: UnitOfWork, engine: WorkflowEngine) -> None:
    """Three batches waiting for 初审; the second declares 李四, whose ID number fails its check digit."""
    submitter = Actor("enterprise", frozenset({("enterprise", "110101")}), "110101000001")
    good = [declarations.PersonInput(demo_id_number("110101", date(1975, 3, n + 1), 10 + n * 2 + 1), f"张{n}", "male",
                                     date(1975, 3, n + 1),
                                     [{"work_type_code": "MT001", "start_date": date(1995, 7, 1),
                                       "end_date": date(2010, 6, 30)}]) for n in range(4)]
    bad = [declarations.PersonInput("110101197501010000", "李四", "male", date(1975, 1, 1),
                                    [{"work_type_code": "YJ001", "start_date": date(2000, 1, 1),
                                      "end_date": date(1999, 1, 1)}])]
    for kind, persons in (("first", good[:2]), ("first", good[2:3] + bad), ("annual", good[3:])):
        declarations.submit_declaration(uow, engine, submitter, "110101000001", kind, persons)


def _register_and_early_retirement(uow: UnitOfWork, engine: WorkflowEngine) -> None:
    """The walk-through's register (README): one person eligible for early retirement (registered,
    waiting for approval), one with a failed spot check; the first batch's commitment letter."""
    session = uow.session
    clerk = Actor("clerk", frozenset({("clerk", "110000")}))
    mine = "110101000001"
    miner = demo_id_number("110101", date(1968, 5, 1), 901)
    register.add_unfiled_person(session, clerk, miner, register.PersonDetails("王井下", "male", "110101"), [
        register.HistoryInput(mine, "MT001", date(1988, 7, 1), date(1999, 12, 31)),
        register.HistoryInput(mine, "MT003", date(2000, 1, 1), date(2004, 12, 31))])
    doubtful = demo_id_number("110101", date(1972, 8, 8), 903)
    register.add_unfiled_person(session, clerk, doubtful, register.PersonDetails("刘存疑", "male", "110101"), [
        register.HistoryInput(mine, "MT002", date(1992, 1, 1), date(1996, 12, 31)),
        register.HistoryInput(mine, "MT001", date(1997, 1, 1), date(2003, 12, 31))])
    person = register.find_person(session, doubtful)
    if person is None:  # added just above
        raise NotFound("库中没有此人员")
    last = register.histories_of(session, person.id)[-1]
    checker = Actor("spot_checker", frozenset({("spot_checker", "110000")}))
    spot_checks.spot_check_work_histories(session, checker, [last.id], "fail", "该时段无社保缴费记录")
    early_retirement.register(uow, engine, clerk, miner, "underground", date(2024, 5, 1), "本人申请，材料齐全")
    first_batch = session.scalars(select(DeclarationBatch).order_by(DeclarationBatch.id)).first()
    if first_batch is not None:
        submitter = Actor("enterprise", frozenset({("enterprise", "110101")}), first_batch.enterprise_code)
        attachments.attach(session, engine, submitter, first_batch.id, "承诺书.pdf", DEMO_LETTER)


def _certificate_requests(uow: UnitOfWork, engine: WorkflowEngine) -> None:
    """Requests for a work-history certificate (a process that is data only), started as the enterprise
    starts them from 发起办件: one waiting for the clerk's 受理, and four accepted ones waiting for the
    approver whose clocks (5 promised, 10 statutory working days from 受理) stand at each level: accepted
    today (正常), 4 working days ago (预警), 8 working days ago (逾期) and one stopped by a supervisor."""
    applicant = Actor("enterprise", frozenset({("enterprise", "110101")}), "110101000001")
    clerk = Actor("clerk", frozenset({("clerk", "110000")}))
    supervisor = Actor("supervisor", frozenset({("supervisor", "110000")}))
    people = [("王井下", date(1968, 5, 1), 901, "办理提前退休"), ("张0", date(1975, 3, 1), 11, "劳动争议仲裁"),
              ("张1", date(1975, 3, 2), 13, "其他"), ("张2", date(1975, 3, 3), 15, "办理提前退休"),
              ("刘存疑", date(1972, 8, 8), 903, "劳动争议仲裁")]
    started = [my_cases.start_case(uow, engine, applicant, "110101", CERTIFICATE, {
        "name": name, "id_number": demo_id_number("110101", birth, serial), "purpose": purpose}, utcnow())
        for name, birth, serial, purpose in people]
    for instance in started[1:]:
        [task] = engine.open_tasks(uow.session, instance.id)
        engine.complete_task(uow, task.id, clerk, {"decision": "approve", "conclusion": "材料齐全，予以受理"})
    _accepted_working_days_ago(uow, engine, started[2].id, 4)
    _accepted_working_days_ago(uow, engine, started[3].id, 8)
    supervision.pause_clock(uow, engine, supervisor, started[4].id, "需调取原单位档案核实，暂停计时")


def _certificate_lifecycle(uow: UnitOfWork, engine: WorkflowEngine) -> None:
    """Requests further along the 办件 lifecycle, with their printed documents: one waiting for the
    applicant's 补正 (its 补正材料通知书 issued by the step, its clock paused), one refused with its 不予受理决定书,
    and two closed with their 准予许可决定书 — one rated 非常满意, one rated 不满意, whose 差评 waits for a
    supervisor's 核实."""
    applicant = Actor("enterprise", frozenset({("enterprise", "110101")}), "110101000001")
    clerk = Actor("clerk", frozenset({("clerk", "110000")}))
    approver = Actor("approver", frozenset({("approver", "110000")}))
    printer = documents.DocumentService(engine, issuing_office=documents.DEFAULT_OFFICE)

    def request(name: str, serial: int) -> ProcessInstance:
        return my_cases.start_case(uow, engine, applicant, "110101", CERTIFICATE, {
            "name": name, "id_number": demo_id_number("110101", date(1970, 1, 1), serial), "purpose": "办理提前退休"},
            utcnow())

    def step(instance: ProcessInstance, who: Actor, data: dict) -> None:
        [task] = engine.open_tasks(uow.session, instance.id)
        engine.complete_task(uow, task.id, who, data)

    correcting = request("赵补正", 21)
    step(correcting, clerk, {"decision": "correct", "correction_items": "原单位出具的工作证明\n本人身份证复印件"})
    refused = request("钱不符", 23)
    step(refused, clerk, {"decision": "reject", "conclusion": "所申请人员不属于本单位职工，不属于本机关受理范围"})
    printer.issue_on_demand(uow.session, clerk, refused.id, "refusal_decision")
    for name, serial, grade, comment in (("孙办结", 25, 5, "办理迅速，一次办好"),
                                         ("李差评", 27, 2, "等待时间过长，咨询电话无人接听")):
        closed = request(name, serial)
        step(closed, clerk, {"decision": "approve", "conclusion": "材料齐全，予以受理"})
        step(closed, approver, {"decision": "approve", "conclusion": "经核查属实，予以出具"})
        printer.issue_on_demand(uow.session, approver, closed.id, "approval_decision")
        ratings.rate(uow, engine, applicant, closed.id, grade, comment)


def _accepted_working_days_ago(uow: UnitOfWork, engine: WorkflowEngine, instance_id: int, days: int) -> None:
    """Demo only: the clock of a case, and its open step, as if its 受理 had been ``days`` working days
    ago (a fresh demo has no history, and a supervisor's first look should show each level and an
    overdue task in 超期督办)."""
    instance = uow.session.get(ProcessInstance, instance_id)
    assert instance is not None
    started = utcnow()
    while calendar.working_days_between(case_clock.local_day(started), case_clock.local_day(utcnow())) < days:
        started -= timedelta(days=1)
    rules = engine.specs.get(uow.session, instance.definition_id).clock
    instance.clock_started_at = started
    for name, due in case_clock.due_dates(rules, started, 0, engine.due_calculator).items():
        setattr(instance, name, due)
    for task in engine.open_tasks(uow.session, instance.id):  # its 审批出具 (2 working days) waits as long
        task.created_at, task.due_at = started, engine.due_calculator(started, 2, "working_days")
