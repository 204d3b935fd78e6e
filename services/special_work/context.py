"""What the special-work-type system shows beside its cases on the generic task and case pages: the
declaration batch a case is about (its persons, findings, per-person results, commitment letter)."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from services.platform.modules import ContextPanel, Panel, PanelContext
from services.special_work import attachments, declarations
from services.special_work.models import Attachment, DeclarationBatch, DeclarationCheck, DeclaredPerson, WorkType

PERSONS_SHOWN = 500  # a 100,000-person batch must not become a 100,000-row page
TEMPLATE = "special_work/declaration_panel.html"


@dataclass
class DeclarationContext:
    batch: DeclarationBatch
    persons: list[DeclaredPerson]  # those with findings first, then others, up to PERSONS_SHOWN
    hidden: int  # persons of the batch not listed (all without findings; the Excel export has everyone)
    search: str  # a name or ID number the reviewer looked for: then ``persons`` are its matches
    matches: int  # how many persons match ``search`` (more than are listed when above PERSONS_SHOWN)
    checks: dict[int, list[DeclarationCheck]]
    work_type_names: dict[str, str]
    kind_label: str
    status_label: str
    person_status_labels: dict[str, str]
    attachments: list[Attachment]  # the commitment letter (承诺书) and other files
    attachment_kinds: dict[str, str]


def declaration_panel(context: PanelContext) -> Panel | None:
    """The batch a declaration case is about. Its persons: every one with a finding first, then the
    others, up to PERSONS_SHOWN; or, when the reviewer looks for a name or ID number, its matches
    (so that a clean person beyond the first PERSONS_SHOWN can be found, and named in the decision).
    On a task page of 初审 or 复核, the persons still under that step are the options of the form's
    per-person field (``valuesKey: batch_persons``)."""
    session, data = context.session, context.data
    if context.instance.process_key not in declarations.PROCESS_BY_KIND.values() or "batch_id" not in data:
        return None
    batch = declarations.get_visible_batch(session, context.engine, context.actor, int(data["batch_id"]))
    names = {w.code: w.name for w in session.scalars(select(WorkType))}
    search = declarations.normalise_search(context.search)
    if search:
        found = declarations.person_page(session, batch.id, per_page=PERSONS_SHOWN, search=search)
        persons, matches = found.persons, found.total
    else:
        persons, matches = declarations.persons_for_review(session, batch.id, PERSONS_SHOWN), 0
    view = DeclarationContext(
        batch=batch, persons=persons, hidden=0 if search else max(0, batch.person_count - len(persons)),
        search=search, matches=matches, checks=declarations.batch_checks(session, batch.id, [p.id for p in persons]),
        work_type_names=names, kind_label=declarations.KINDS.get(batch.kind, batch.kind),
        status_label=declarations.STATUS_LABELS.get(batch.status, batch.status),
        person_status_labels=declarations.PERSON_STATUS_LABELS,
        attachments=attachments.list_attachments(session, context.engine, context.actor, batch.id),
        attachment_kinds=attachments.KINDS)
    options = {}
    if context.task is not None and context.task.name in declarations.UNDER_STEP:
        under = declarations.UNDER_STEP[context.task.name]
        options["batch_persons"] = [{"value": str(p.id), "label": f"{p.name} {p.id_number}"}
                                    for p in persons if p.status in under]
    return Panel(TEMPLATE, view, options)


PANELS = (ContextPanel("declaration", declaration_panel),)
