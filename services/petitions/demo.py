"""Demo data of the petition system for `make run`: one demo province (山东), its 信访部门 at province,
city (济南) and county (历下区, 市中区) level and a directly subordinate department, the people holding
their posts, two portal petitioners, and items in every state — produced by driving the real use cases
and processes: submitted and waiting, withdrawn, registered and waiting for 办理, 转送ed to a county
(waiting for 收件), 交办ed to a county and reported (waiting for 汇报审阅), answered directly (in scope,
waiting for the petitioner's evaluation), evaluated, refused with a 不予受理告知书, filed (存), a visit
waiting for its 接谈, a 复查 waiting for its leader to assign the 办理人, and a 来信简单登记. The
platform's demo admin and supervisor are given the province, so that they see all of it."""
from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.actors import Actor
from engine.db import UnitOfWork
from engine.models import HumanTask, TaskStatus
from engine.runtime import WorkflowEngine
from services.petitions import evaluations, intake, petitioners, simple
from services.petitions.labels import BUREAU, DEPARTMENT
from services.petitions.models import Petition, Petitioner
from services.platform import applicant_actions, organisations
from services.platform.demo_data import DEMO_PASSWORD, demo_id_number
from services.platform.identity import Region, RoleGrant, User, actor_for, create_user

REGIONS = [("370000", "山东省", "province"), ("370100", "济南市", "city"), ("370102", "历下区", "county"),
           ("370103", "市中区", "county")]
# (code, name, short name, region, kind, parent code)
ORGANISATIONS = [
    ("sd-xfj", "山东省信访局", "鲁信", "370000", BUREAU, None),
    ("jn-xfj", "济南市信访局", "济信", "370100", BUREAU, "sd-xfj"),
    ("lx-xfj", "历下区信访局", "历信", "370102", BUREAU, "jn-xfj"),
    ("sz-xfj", "市中区信访局", "市中信", "370103", BUREAU, "jn-xfj"),
    ("jn-rsj", "济南市人力资源和社会保障局", "济人社", "370100", DEPARTMENT, "jn-xfj"),
]
# (username, display name, organisation code, posts)
STAFF = [
    ("sd_registrar", "省局登记员", "sd-xfj", ["xf_registrar", "xf_handler"]),
    ("jn_registrar", "济南登记员", "jn-xfj", ["xf_registrar"]),
    ("jn_handler", "济南处理员", "jn-xfj", ["xf_handler", "xf_receiver"]),
    ("jn_leader", "济南局领导", "jn-xfj", ["leader"]),
    ("jn_interviewer", "济南接谈员", "jn-xfj", ["xf_interviewer"]),
    ("jn_interviewer2", "济南接谈员二", "jn-xfj", ["xf_interviewer"]),
    ("lx_receiver", "历下收件员", "lx-xfj", ["xf_receiver"]),
    ("lx_handler", "历下处理员", "lx-xfj", ["xf_handler", "xf_registrar"]),
    ("sz_handler", "市中处理员", "sz-xfj", ["xf_receiver", "xf_handler"]),
    ("rsj_handler", "人社局信访处理员", "jn-rsj", ["xf_receiver", "xf_handler"]),
]
PETITIONERS = [("petitioner", "张三", 1), ("petitioner_li", "李四", 2)]


def load(uow: UnitOfWork, engine: WorkflowEngine) -> None:
    """Idempotent: skipped once the provincial 信访局 exists."""
    session = uow.session
    if organisations.by_code(session, "sd-xfj") is not None:
        return
    made = make_province(session, DEMO_PASSWORD, enforce_policy=False)
    for username in ("admin", "supervisor"):  # the platform's demo overseers see the demo province
        overseer = session.scalar(select(User).where(User.username == username))
        if overseer is not None:
            session.add(RoleGrant(user_id=overseer.id, role=username, region_code="370000"))
    session.flush()
    _drive(uow, engine, made)


def make_province(session: Session, password: str, *, enforce_policy: bool) -> dict[str, organisations.Organisation]:
    """The demo province's regions, organisations and people: the staff with their posts and the portal
    petitioners (their accounts made once, a missing profile or post made again — the tests empty the
    organisation tables after each test and keep the accounts)."""
    for code, name, level in REGIONS:
        if session.get(Region, code) is None:
            session.add(Region(code=code, name=name, level=level))
    session.flush()
    made: dict[str, organisations.Organisation] = {}
    for code, name, short, region, kind, parent in ORGANISATIONS:
        made[code] = organisations.create(session, code, name, region, kind, parent=made.get(parent or ""),
                                          short_name=short)
    for username, display, code, posts in STAFF:
        user = session.scalar(select(User).where(User.username == username)) or create_user(
            session, username, password, made[code].region_code, ["xf_staff"], display, enforce_policy=enforce_policy)
        for post in posts:
            organisations.add_post(session, user.id, made[code], post)
    for username, name, serial in PETITIONERS:
        form = petitioners.Registration(
            username=username, password=password, phone=f"1380531000{serial}", agreed=True, name=name,
            gender="male", id_type="id_card", id_number=demo_id_number("370102", date(1970 + serial, 5, 1), serial),
            usual_address=f"山东省济南市历下区解放路 {serial} 号")
        account = session.scalar(select(User).where(User.username == username))
        if account is None:
            petitioners.register(session, form, real_name=lambda _name, _id: True, enforce_policy=enforce_policy)
        elif session.scalar(select(Petitioner.id).where(Petitioner.user_id == account.id)) is None:
            session.add(Petitioner(user_id=account.id, name=name, gender=form.gender, id_type=form.id_type,
                                   id_number=form.id_number, phone=form.phone, usual_address=form.usual_address,
                                   verified=True))
    session.flush()
    return made


def _actor(uow: UnitOfWork, username: str) -> Actor:
    user = uow.session.scalar(select(User).where(User.username == username))
    assert user is not None
    return actor_for(user)


def _complaint(uow: UnitOfWork, engine: WorkflowEngine, who: str, title: str, place: str,
               bureau: organisations.Organisation) -> Petition:
    return intake.submit_complaint(uow, engine, _actor(uow, who), {
        "title": title, "place_region": place, "place_address": "济南市历下区解放路 88 号",
        "organisation": str(bureau.id), "content": f"{title}：具体情况见附件说明，请有关部门调查处理。"}, {})


def _task(uow: UnitOfWork, petition: Petition, name: str) -> HumanTask:
    row = uow.session.scalar(select(HumanTask).where(HumanTask.business_key == petition.number,
                                                     HumanTask.name == name, HumanTask.status == TaskStatus.OPEN))
    assert row is not None, (petition.number, name)
    return row


def _do(uow: UnitOfWork, engine: WorkflowEngine, petition: Petition, step: str, who: str, data: dict) -> None:
    engine.complete_task(uow, _task(uow, petition, step).id, _actor(uow, who), data)
    uow.session.flush()


def _register(uow: UnitOfWork, engine: WorkflowEngine, petition: Petition, who: str, purpose: str = "demand") -> None:
    _do(uow, engine, petition, "register", who, {"purpose": purpose, "category": "labour", "law_related": False,
                                                "anonymous": False, "in_scope": purpose == "demand"})


def _incident(uow: UnitOfWork, engine: WorkflowEngine, county: organisations.Organisation) -> None:
    """A case the supervisor finds stopped (监控台 · 异常): an item 转送ed from an office that has since
    left the register comes back by 退回, and its sender cannot be found — the 退回 step fails."""
    petition = _complaint(uow, engine, "petitioner_li", "噪声扰民（来件单位已撤并）", "370102", county)
    _register(uow, engine, petition, "lx_handler", "suggestion")
    engine.start(uow, "xf_handling", business_key=petition.number, region_code=county.region_code,
                 organisation_id=county.id, actor=_actor(uow, "lx_handler"), submitter="已撤并的来件单位",
                 data={"via": "transfer", "petition_id": petition.id, "title": petition.title, "name": petition.name,
                       "place_address": petition.place_address, "sender_org_id": 0, "parent_instance_id": None,
                       "deadline_days": 60})
    uow.session.flush()
    engine.complete_task(uow, _task(uow, petition, "receive").id, _actor(uow, "lx_receiver"),
                         {"decision": "return", "conclusion": "错转"})


def _drive(uow: UnitOfWork, engine: WorkflowEngine, made: dict[str, organisations.Organisation]) -> None:
    jn, lx = made["jn-xfj"], made["lx-xfj"]
    _complaint(uow, engine, "petitioner", "小区供暖不达标", "370102", jn)  # waiting for 登记
    withdrawn = _complaint(uow, engine, "petitioner_li", "道路积水无人处理", "370102", jn)
    applicant_actions.withdraw(uow, engine, _actor(uow, "petitioner_li"), withdrawn.intake_instance_id or 0,
                               "问题已解决")
    waiting = _complaint(uow, engine, "petitioner", "拖欠工资三个月", "370102", jn)
    _register(uow, engine, waiting, "jn_registrar")  # waiting for 办理
    transferred = _complaint(uow, engine, "petitioner_li", "物业收费不合理", "370102", jn)
    _register(uow, engine, transferred, "jn_registrar", "suggestion")
    _do(uow, engine, transferred, "handle", "jn_handler", {"mode": "transfer", "destination": str(lx.id),
                                                          "opinion": "请属地依法处理"})
    assigned = _complaint(uow, engine, "petitioner", "社保补缴申请无人答复", "370102", jn)
    _register(uow, engine, assigned, "jn_registrar")
    _do(uow, engine, assigned, "handle", "jn_handler", {"mode": "assign", "destination": str(lx.id),
                                                       "deadline_days": 30, "opinion": "请核实后报告办理结果"})
    uow.commit()  # the child case starts in the commit (before_commit); the next steps act on it
    _do(uow, engine, assigned, "receive", "lx_receiver", {"decision": "sign"})
    _do(uow, engine, assigned, "handle", "lx_handler", {"mode": "report",
                                                       "opinion": "经核实，已责成单位于本月底前补缴，并告知信访人"})
    replied = _complaint(uow, engine, "petitioner", "咨询灵活就业参保政策", "370102", jn)
    _register(uow, engine, replied, "jn_registrar")
    _do(uow, engine, replied, "handle", "jn_handler",
        {"mode": "reply", "reply": "灵活就业人员可在户籍地或居住地参保，详见附件政策"})
    evaluated = _complaint(uow, engine, "petitioner_li", "失业金发放延迟", "370102", jn)
    _register(uow, engine, evaluated, "jn_registrar")
    _do(uow, engine, evaluated, "handle", "jn_handler", {"mode": "reply", "reply": "已于本周补发，请注意查收"})
    evaluations.evaluate(uow.session, evaluated, "satisfied", "fairly", message="处理及时")
    refused = _complaint(uow, engine, "petitioner", "对法院判决不服", "370102", jn)
    _do(uow, engine, refused, "register", "jn_registrar", {"purpose": "appeal", "category": "law",
                                                           "law_related": True, "anonymous": False})
    _do(uow, engine, refused, "handle", "jn_handler", {"mode": "notice_refuse",
                                                      "opinion": "涉法涉诉事项，请依法向人民法院提出"})
    visit, _warnings = intake.register_visit(uow, engine, _actor(uow, "jn_registrar"), jn.id, {
        "name": "钱七", "address": "历下区泉城路 9 号", "visitors": 3, "title": "拆迁补偿标准不一",
        "place_region": "370102", "place_address": "泉城路 9 号", "content": "同一片区补偿标准不一致",
        "companions": "孙八\n周九", "interviewer_username": "jn_interviewer"}, {})
    _register(uow, engine, visit, "jn_registrar")  # waiting for 接谈
    answered = _complaint(uow, engine, "petitioner", "工伤认定争议", "370102", lx)
    _register(uow, engine, answered, "lx_handler")
    _do(uow, engine, answered, "handle", "lx_handler", {"mode": "reply", "reply": "经核查，维持工伤认定结论"})
    recheck = _complaint(uow, engine, "petitioner", "工伤认定争议（请求复查）", "370102", jn)
    intake.link(uow, _actor(uow, "jn_registrar"), _task(uow, recheck, "register").id, "matter", answered.id)
    _register(uow, engine, recheck, "jn_registrar", "appeal")
    _do(uow, engine, recheck, "handle", "jn_handler", {"mode": "submit_recheck", "opinion": "信访人不服区局处理意见"})
    simple.register(uow.session, _actor(uow, "jn_registrar"), jn.id, simple.SimpleLetter(
        name="吴十", address="市中区经四路 1 号", kind="repeat", letters=2, mode="file", note="与在办信访件内容相同"))
    _incident(uow, engine, lx)
    filed = _complaint(uow, engine, "petitioner_li", "建议增设公交线路", "370102", jn)
    _register(uow, engine, filed, "jn_registrar", "suggestion")
    _do(uow, engine, filed, "handle", "jn_handler", {"mode": "file", "opinion": "建议已转交通部门参考"})
    uow.commit()
