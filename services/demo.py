"""Demo data for `make run`: users of every role in region 110000, enterprises, catalogue
entries and a few declarations waiting for review. Refused in production."""
from __future__ import annotations

from datetime import date

from sqlalchemy import select

from engine.actors import Actor
from engine.db import UnitOfWork
from engine.runtime import WorkflowEngine
from services.platform.id_number import check_digit
from services.platform.identity import Region, User, create_user
from services.special_work import attachments, declarations, early_retirement, register, spot_checks
from services.special_work.models import Enterprise, WorkType

DEMO_PASSWORD = "demo"
REGIONS = [("000000", "全国", "ministry"), ("110000", "北京市", "province"), ("110100", "北京市市辖区", "city"),
           ("110101", "东城区", "county"), ("110105", "朝阳区", "county"), ("120000", "天津市", "province"),
           ("120101", "和平区", "county")]
WORK_TYPES = [("MT001", "井下采煤工", "煤炭", "underground"), ("MT002", "井下掘进工", "煤炭", "underground"),
              ("MT003", "瓦斯检查工", "煤炭", "toxic_hazardous"), ("YJ001", "炼钢工", "冶金", "high_temperature"),
              ("YJ002", "高炉炉前工", "冶金", "high_temperature"), ("JZ001", "架子工", "建筑", "high_altitude_heavy")]
ENTERPRISES = [("110101000001", "北京东城示范煤矿有限公司", "110101", "煤炭"),
               ("110105000002", "北京朝阳冶金集团", "110105", "冶金"),
               ("120101000003", "天津和平建筑公司", "120101", "建筑")]
USERS = [("enterprise", ["enterprise"], "110101", "110101000001", "示范煤矿经办人"),
         ("reviewer", ["reviewer"], "110000", None, "审核员"),
         ("rechecker", ["rechecker"], "110000", None, "复核员"),
         ("supervisor", ["supervisor"], "110000", None, "督办员"),
         ("designer", ["designer"], "000000", None, "流程设计员"),
         ("admin", ["admin"], "110000", None, "系统管理员"),
         ("tj_reviewer", ["reviewer"], "120000", None, "天津审核员")]


def demo_id_number(region: str, birth: date, serial: int) -> str:
    first17 = f"{region}{birth:%Y%m%d}{serial:03d}"
    return first17 + check_digit(first17)


def load_demo(uow: UnitOfWork, engine: WorkflowEngine) -> bool:
    """Idempotent: does nothing when the demo users already exist. Returns True when loaded."""
    session = uow.session
    if session.scalar(select(User.id).where(User.username == "reviewer")) is not None:
        return load_review_system_demo(uow, engine)
    for code, name, level in REGIONS:
        if session.get(Region, code) is None:
            session.add(Region(code=code, name=name, level=level))
    for code, name, industry, nature in WORK_TYPES:
        session.add(WorkType(code=code, name=name, industry=industry, nature=nature))
    for code, name, region, industry in ENTERPRISES:
        session.add(Enterprise(code=code, name=name, region_code=region, industry=industry,
                               postal_code=region[:6], contact_person="联系人", contact_phone="010-12345678"))
    session.flush()
    for username, roles, region, enterprise, display in USERS:
        create_user(session, username, DEMO_PASSWORD, region, roles, display, enterprise, enforce_policy=False)
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
    load_review_system_demo(uow, engine)
    return True


REVIEW_SYSTEM_USERS = [("clerk", ["clerk"], "110000", "属地经办员"), ("approver", ["approver"], "110000", "审批员"),
                       ("spot_checker", ["spot_checker"], "110000", "省级抽查员"),
                       ("catalogue_admin", ["catalogue_admin"], "000000", "部级名录管理员")]
DEMO_LETTER = b"%PDF-1.4\n% demo commitment letter\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"


def load_review_system_demo(uow: UnitOfWork, engine: WorkflowEngine) -> bool:
    """The special-work-type review system's walk-through data (README): office users, persons in
    the register (one eligible for early retirement, one with a failed spot check), a pending
    early-retirement registration and a commitment letter. Idempotent: skipped once ``clerk`` exists."""
    session = uow.session
    if session.scalar(select(User.id).where(User.username == "clerk")) is not None:
        return False
    for username, roles, region, display in REVIEW_SYSTEM_USERS:
        create_user(session, username, DEMO_PASSWORD, region, roles, display, enforce_policy=False)
    for enterprise in session.scalars(select(Enterprise).where(Enterprise.address == "")):
        enterprise.address = f"{enterprise.name}厂区 1 号"
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
    last = register.histories_of(session, person.id)[-1]
    checker = Actor("spot_checker", frozenset({("spot_checker", "110000")}))
    spot_checks.spot_check_work_histories(session, checker, [last.id], "fail", "该时段无社保缴费记录")
    early_retirement.register(uow, engine, clerk, miner, "underground", date(2024, 5, 1), "本人申请，材料齐全")
    first_batch = session.scalars(select(declarations.DeclarationBatch)
                                  .order_by(declarations.DeclarationBatch.id)).first()
    if first_batch is not None:
        submitter = Actor("enterprise", frozenset({("enterprise", "110101")}), first_batch.enterprise_code)
        attachments.attach(session, engine, submitter, first_batch.id, "承诺书.pdf", DEMO_LETTER)
    return True
