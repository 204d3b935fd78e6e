"""What the petition system shows beside its cases on the generic task and case pages: the item
(信访件) with its 办理记录 and the other items of its matter; on the 登记 step the 判重 results with
the links the registrar may choose and the 满意度评价 scope the rule decides; on the 办理 step the
destinations (下级或直属单位, the 问题属地's first) and the office's leaders (送审)."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from engine.models import ProcessInstance
from services.petitions import actions, duplicates, handling, intake, reviews, scope
from services.petitions.labels import CATEGORIES, FORMS, MODES, PURPOSES, STATUSES
from services.petitions.models import HandlingRecord, Petition
from services.platform import organisations
from services.platform.documents import region_name
from services.platform.identity import User
from services.platform.modules import ContextPanel, Panel, PanelContext

PETITION_TEMPLATE = "petitions/petition_panel.html"
DUPLICATES_TEMPLATE = "petitions/duplicates_panel.html"


@dataclass(frozen=True)
class RecordRow:
    record: HandlingRecord
    mode: str
    organisation: str
    destination: str
    handled_by: str  # the person's name


@dataclass(frozen=True)
class PetitionContext:
    petition: Petition
    form: str
    status: str
    place: str  # the 问题属地 in words (山东省济南市历下区)
    purpose: str
    category: str
    records: list[RecordRow]
    same_matter: list[tuple[Petition, str]]  # (item, status in words)
    staff: bool  # the office's view (打印查询码, 短信发送查询码), not the applicant's
    may_recall: bool  # the actor's office 转送ed / 交办ed it and the destination has not begun (收回)
    extendable: str | None  # the open 自办 step a leader of its office may extend (延期), by id
    review: ProcessInstance | None  # a running 复查/复核 a leader of its office may 中止 / 恢复 / 终止


def petition_panel(context: PanelContext) -> Panel | None:
    """The item a case handles, for the office (the page checked the case's visibility); a petitioner
    follows it on the portal's own page, which shows no staff names or internal opinions."""
    if not context.staff:
        return None
    petition = context.session.scalar(select(Petition).where(Petition.number == context.instance.business_key))
    if petition is None:
        return None
    same: list[tuple[Petition, str]] = []
    if petition.matter_id is not None:
        same = [(p, STATUSES.get(p.status, p.status)) for p in context.session.scalars(
            select(Petition).where(Petition.matter_id == petition.matter_id, Petition.id != petition.id)
            .order_by(Petition.id.desc()).limit(20))]
    found = handling.records(context.session, petition.id)
    names = dict(context.session.execute(select(User.username, User.display_name).where(
        User.username.in_({r.handled_by for r, _org, _dest in found}))).all())
    rows = [RecordRow(r, MODES.get(r.mode, r.mode), org, dest, names.get(r.handled_by, r.handled_by))
            for r, org, dest in found]
    return Panel(PETITION_TEMPLATE, PetitionContext(
        petition, FORMS.get(petition.form, petition.form), STATUSES.get(petition.status, petition.status),
        region_name(context.session, petition.place_region),
        PURPOSES.get(petition.purpose, ""), CATEGORIES.get(petition.category, ""), rows, same,
        context.engine.is_staff_of(context.actor, context.instance),
        actions.may_recall(context.session, context.actor, petition), _extendable(context), _led_review(context)))


def _led_review(context: PanelContext) -> ProcessInstance | None:
    case = context.instance
    if case.process_key != reviews.PROCESS or case.organisation_id is None or case.status not in ("running", "waiting"):
        return None
    return case if organisations.works_at(context.actor, case.organisation_id, ("leader",)) else None


def _extendable(context: PanelContext) -> str | None:
    task = context.task
    if task is None or task.name != actions.SELF_HANDLING or task.status != "open" or task.organisation_id is None:
        return None
    return task.id if organisations.works_at(context.actor, task.organisation_id, ("leader",)) else None


@dataclass(frozen=True)
class DuplicatesContext:
    task_id: str
    petition: Petition
    candidates: list[duplicates.Candidate]
    linked: Petition | None
    scope: scope.Scope | None


def duplicates_panel(context: PanelContext) -> Panel | None:
    """判重 on the 登记 step, for whoever may do it; the scope the rule decides for the item as it
    stands (初次 from the link; the registrar's other answers echo the last save)."""
    task = context.task
    if task is None or task.name != intake.REGISTER_STEP or context.instance.process_key not in intake.INTAKES \
            or task.status != "open":
        return None
    petition = context.session.scalar(select(Petition).where(Petition.number == context.instance.business_key))
    if petition is None:
        return None
    decided = scope.decide(context.session, context.engine, first=petition.first, anonymous=petition.anonymous,
                           law_related=petition.law_related, purpose=petition.purpose)
    linked = context.session.get(Petition, petition.linked_petition_id) if petition.linked_petition_id else None
    values: dict[str, object] = {"anonymous": petition.anonymous}
    if not petition.first:  # a 相同信访事项 is never evaluated, whatever else the registrar answers
        values["in_scope"] = False
    return Panel(DUPLICATES_TEMPLATE, DuplicatesContext(task.id, petition, intake.candidates(context.session, petition),
                                                        linked, decided),
                 values=values, locked=frozenset() if petition.first else frozenset({"in_scope"}))


def handling_options(context: PanelContext) -> Panel | None:
    """The choices of the 办理 step and of the 复查/复核 steps that name people (no panel of its own:
    options only)."""
    task = context.task
    if task is None or context.instance.organisation_id is None:
        return None
    here = context.instance.organisation_id
    if task.form_key in ("xf_review_assign", "xf_review_opinion"):
        return Panel("petitions/empty_panel.html", None, options={
            key: [{"value": name, "label": shown} for name, shown in organisations.holders(context.session, here, post)]
            for key, post in (("handlers", "xf_handler"), ("leaders", "leader"))})
    if task.form_key != "xf_handling":
        return None
    petition = context.session.scalar(select(Petition).where(Petition.number == context.instance.business_key))
    children = handling.destinations(context.session, here)
    default = handling.default_destination(context.session, here, petition.place_region) if petition else None
    ordered = ([default] if default else []) + [o for o in children if default is None or o.id != default.id]
    leaders = organisations.holders(context.session, here, "leader")
    return Panel("petitions/empty_panel.html", None,
                 options={"destinations": [{"value": str(o.id), "label": o.name} for o in ordered],
                          "leaders": [{"value": name, "label": shown} for name, shown in leaders]},
                 values={"destination": str(default.id)} if default else {})


PANELS = (ContextPanel("petition", petition_panel), ContextPanel("duplicates", duplicates_panel),
          ContextPanel("handling_options", handling_options))
