"""The special-work-type catalogue (特殊工种名录): industry × work type × nature, maintained by the
ministry (seed 000, 6.1). Each nature of work carries its early-retirement rule (accumulated years,
minimum age) as data in ``work_nature``, so a policy change is an edit, not a release.

Its names — industries, work types, natures — are rows the catalogue administrators maintain, not
a code table of the application: pages show them as entered, in every language (user data, marked
``data-user`` in the templates), like the names of enterprises and organisations."""
from __future__ import annotations

import re

from sqlalchemy import String, cast, exists, or_, select
from sqlalchemy.orm import Session

from engine.actors import Actor
from engine.errors import Conflict, Forbidden, InvalidData, NotFound
from services.platform import audit
from services.special_work.models import DeclaredPerson, WorkHistory, WorkNature, WorkType

MINISTRY = "000000"
CODE = re.compile(r"^[A-Z0-9]{2,20}$")


def list_work_types(session: Session, industry: str | None = None, include_retired: bool = False) -> list[WorkType]:
    query = select(WorkType).order_by(WorkType.industry, WorkType.code)
    if industry:
        query = query.where(WorkType.industry == industry)
    if not include_retired:
        query = query.where(WorkType.active.is_(True))
    return list(session.scalars(query))


def natures(session: Session) -> dict[str, WorkNature]:
    return {n.code: n for n in session.scalars(select(WorkNature).order_by(WorkNature.code))}


def may_maintain(actor: Actor) -> bool:
    """The ministry's catalogue_admin (the 名录管理 screen); every change checks again."""
    return actor.holds("catalogue_admin", MINISTRY)


def require_maintainer(actor: Actor) -> None:
    _require_ministry(actor)


def industries(session: Session) -> list[str]:
    """企业行业大类 named in the catalogue."""
    return list(session.scalars(select(WorkType.industry).distinct().order_by(WorkType.industry)))


def _require_ministry(actor: Actor) -> None:
    if not actor.holds("catalogue_admin", MINISTRY):
        raise Forbidden("只有部级名录管理人员可以维护特殊工种名录")


def _entry_problems(session: Session, name: str, industry: str, nature: str) -> dict[str, list[str]]:
    problems: dict[str, list[str]] = {}
    if not name.strip():
        problems["name"] = ["请填写特殊工种名称"]
    if not industry.strip():
        problems["industry"] = ["请选择企业行业大类"]
    if session.get(WorkNature, nature) is None:
        problems["nature"] = ["请选择特殊工种性质"]
    return problems


def add_work_type(session: Session, actor: Actor, code: str, name: str, industry: str, nature: str) -> WorkType:
    _require_ministry(actor)
    code = (code or "").strip().upper()
    problems = _entry_problems(session, name, industry, nature)
    if not CODE.match(code):
        problems["code"] = ["工种编码应为 2 到 20 位大写字母或数字"]
    elif session.get(WorkType, code) is not None:
        problems["code"] = [f"工种编码 {code} 已存在"]
    if problems:
        raise InvalidData("名录信息填写有误", fields=problems)
    entry = WorkType(code=code, name=name.strip(), industry=industry.strip(), nature=nature, active=True)
    session.add(entry)
    audit.record(session, actor, "catalogue.add", "work_type", code, MINISTRY, name=entry.name,
                 industry=entry.industry, nature=nature)
    session.flush()
    return entry


def update_work_type(session: Session, actor: Actor, code: str, name: str, industry: str, nature: str) -> WorkType:
    """Rename or reclassify an entry. Changing the industry of an entry in use is refused: approved
    histories were checked against the old industry."""
    _require_ministry(actor)
    entry = get_work_type(session, code)
    problems = _entry_problems(session, name, industry, nature)
    if problems:
        raise InvalidData("名录信息填写有误", fields=problems)
    if industry.strip() != entry.industry and work_type_in_use(session, code):
        raise Conflict("该工种已被人员从业经历或申报使用，不能修改所属行业")
    before = {"name": entry.name, "industry": entry.industry, "nature": entry.nature}
    entry.name, entry.industry, entry.nature = name.strip(), industry.strip(), nature
    audit.record(session, actor, "catalogue.update", "work_type", code, MINISTRY, before=before)
    return entry


def get_work_type(session: Session, code: str) -> WorkType:
    entry = session.get(WorkType, code)
    if entry is None:
        raise NotFound("名录中没有工种 %(code)s" % dict(code=code))
    return entry


def work_type_in_use(session: Session, code: str) -> bool:

    in_register = exists().where(WorkHistory.work_type_code == code)
    in_declarations = exists().where(cast(DeclaredPerson.work_histories, String).contains(f'"{code}"'))
    return bool(session.scalar(select(or_(in_register, in_declarations))))


def delete_work_type(session: Session, actor: Actor, code: str) -> None:
    """删除: only an entry nobody used yet; one in use can only be retired."""
    _require_ministry(actor)
    entry = get_work_type(session, code)
    if work_type_in_use(session, code):
        raise Conflict("该工种已被人员从业经历或申报使用，不能删除，只能停用")
    audit.record(session, actor, "catalogue.delete", "work_type", code, MINISTRY, name=entry.name)
    session.delete(entry)
    session.flush()


def set_work_type_active(session: Session, actor: Actor, code: str, active: bool) -> WorkType:
    """停用 / 启用: a retired entry stays on existing histories but new declarations may not use it."""
    _require_ministry(actor)
    entry = get_work_type(session, code)
    entry.active = active
    audit.record(session, actor, "catalogue.activate" if active else "catalogue.retire", "work_type", code, MINISTRY)
    return entry


def update_nature_rule(session: Session, actor: Actor, code: str, required_years: int, min_age_male: int,
                       min_age_female: int) -> WorkNature:
    _require_ministry(actor)
    nature = session.get(WorkNature, code)
    if nature is None:
        raise NotFound("特殊工种性质 %(code)s 不存在" % dict(code=code))
    problems = {}
    if not 1 <= required_years <= 40:
        problems["required_years"] = ["累计年限应在 1 到 40 年之间"]
    for key, value in (("min_age_male", min_age_male), ("min_age_female", min_age_female)):
        if not 40 <= value <= 65:
            problems[key] = ["最低年龄应在 40 到 65 岁之间"]
    if problems:
        raise InvalidData("提前退休条件填写有误", fields=problems)
    before = {"required_years": nature.required_years, "min_age_male": nature.min_age_male,
              "min_age_female": nature.min_age_female}
    nature.required_years, nature.min_age_male, nature.min_age_female = required_years, min_age_male, min_age_female
    audit.record(session, actor, "catalogue.nature_rule", "work_nature", code, MINISTRY, before=before)
    return nature
