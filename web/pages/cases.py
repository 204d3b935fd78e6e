"""The case page (办件): status, data, open tasks, history, incidents and the BPMN diagram."""
from __future__ import annotations

from flask import redirect, render_template, request, url_for
from flask_babel import gettext as _
from lxml import etree
from markupsafe import Markup, escape
from marshmallow import fields, validate
from sqlalchemy import select

from engine import case_clock, lifecycle
from engine.db import utcnow
from engine.definitions import NS, list_definitions, safe_xml
from engine.errors import NotFound
from engine.fields import Date
from engine.inbox import list_instances
from engine.models import HumanTask, ProcessInstance
from services.platform import applicant_actions, carbon_copies, dashboard
from services.platform.case_view import case_diagram_xml, get_case
from services.platform.identity import ROLES, User
from web.api.downloads import file_response
from web.context import runtime, uow
from web.pages import pages
from web.pages.formatting import user_data
from web.pages.params import PageForm, PageQuery, load
from web.pages.session import login_required, page_actor

CLOCK_LEVELS = ("overdue", "warning", "paused", "normal")


@pages.app_template_global()
def people(usernames: list[str | None]) -> dict[str, str]:
    """Username → "display name（username）" for the staff pages' history, in one query (the display
    name marked as user data)."""
    wanted = {name for name in usernames if name}
    if not wanted:
        return {}
    rows = uow().session.execute(select(User.username, User.display_name).where(User.username.in_(wanted)))
    shown = Markup(escape(_("%(name)s（%(username)s）")))
    return {username: shown % {"name": user_data(display), "username": username}
            if display and display != username else username for username, display in rows}


@pages.get("/cases")
@login_required
def cases():
    session = uow().session
    page = load(PageQuery(), request.args)[0].get("page", 1)
    business_key = (request.args.get("business_key") or "").strip() or None
    level = request.args.get("clock") if request.args.get("clock") in CLOCK_LEVELS else None
    now = utcnow()
    clock = (level, now, case_clock.warning_threshold(now, runtime().engine.due_calculator)) if level else None
    case_status = request.args.get("case_status") if request.args.get("case_status") in lifecycle.CASE_STATUSES \
        else None
    figure, figure_args = _figure_filter()
    if figure.active:  # a figure of the dashboard: its cases, in the supervisor's regions as the dashboard counts
        also = [ProcessInstance.business_key == business_key] if business_key else []
        if request.args.get("status"):
            also.append(ProcessInstance.status == request.args["status"])
        if case_status:
            also.append(ProcessInstance.case_status == case_status)
        if clock is not None:
            also.append(case_clock.level_condition(*clock))
        rows, total = dashboard.cases(session, page_actor(), figure, now, page, 20, also)
    else:
        rows, total = list_instances(session, page_actor(), runtime().engine.applicant_roles,
                                     business_key=business_key, status=request.args.get("status") or None,
                                     page=page, per_page=20, clock=clock, case_status=case_status,
                                     process_key=figure.process_key)
    names = {d.key: d.name or d.key for d in list_definitions(session)}
    step_label = session.scalar(select(HumanTask.label).where(
        HumanTask.process_key == figure.process_key, HumanTask.name == figure.step)
        .order_by(HumanTask.created_at.desc()).limit(1)) if figure.step and figure.process_key else None
    return render_template("cases.html", cases=rows, total=total, page=page, pages=max(1, -(-total // 20)),
                           process_names=names, business_key=business_key or "",
                           status=request.args.get("status") or "", clock=level or "", case_status=case_status or "",
                           figure=figure, figure_args=figure_args, step_label=step_label,
                           done_by=people([figure.done_by]).get(figure.done_by or "", figure.done_by))


class FigureQuery(PageForm):
    """The filters of the dashboard's links (services.platform.dashboard.CaseFilter); a bad one is dropped."""

    process_key = fields.String(load_default=None, validate=validate.Length(max=100))
    region_code = fields.String(load_default=None, validate=validate.Regexp(r"^\d{6}$"))
    closed_from = Date(load_default=None)
    closed_to = Date(load_default=None)
    closed_late = fields.Boolean(load_default=False)
    step = fields.String(load_default=None, validate=validate.Length(max=100))
    done_by = fields.String(load_default=None, validate=validate.Length(max=100))
    done_from = Date(load_default=None)
    done_to = Date(load_default=None)
    done_late = fields.Boolean(load_default=False)


def _figure_filter() -> tuple[dashboard.CaseFilter, dict[str, str]]:
    """The dashboard's filter of this request, and its arguments as given (for the pager and the form)."""
    values, errors = load(FigureQuery(), request.args)
    names = FigureQuery().fields
    args = {k: v for k, v in request.args.items() if k in names and k not in errors and v}
    return dashboard.CaseFilter(**{k: v for k, v in values.items() if k in names}), args


@pages.get("/cases/<int:instance_id>")
@login_required
def case(instance_id: int):
    """The office's case page; the applicant who started the case (without a staff role for its
    region) is sent to the applicant's page of it in 我的办件."""
    session = uow().session
    try:
        view = get_case(session, runtime().engine, page_actor(), instance_id, runtime().modules,
                        request.args.get("q", ""))
    except NotFound:
        if not carbon_copies.may_read(session, page_actor(), instance_id):
            raise
        # a 抄送 item opens the case read-only, outside the reader's scope (services.platform.carbon_copies)
        view = get_case(session, runtime().engine, page_actor(), instance_id, runtime().modules, via_copy=True)
        return render_template("case.html", case=view, read_only=True)
    if not view.staff:
        return redirect(url_for("pages.my_case", instance_id=instance_id))
    applicant_actions.note_staff_opened(runtime().engine, runtime().unit_of_work(), page_actor(), view.instance)
    return render_template("case.html", case=view)


@pages.get("/cases/<int:instance_id>/diagrams/<int:definition_id>.bpmn")
@login_required
def case_diagram(instance_id: int, definition_id: int):
    session = uow().session
    via_copy = carbon_copies.may_read(session, page_actor(), instance_id) \
        and not runtime().engine.can_view(page_actor(), runtime().engine.get_instance(session, instance_id))
    xml = case_diagram_xml(session, runtime().engine, page_actor(), instance_id, definition_id, via_copy)
    return file_response(lanes_in_words(xml, f"diagram-{definition_id}.bpmn"), f"diagram-{definition_id}.bpmn",
                         "application/xml")


def lanes_in_words(xml: str, filename: str) -> bytes:
    """The case's diagram with its lanes named by their roles in the page's language (审核人员, not
    ``reviewer``): what a reader of a case sees; designers read the file as it is on their own page."""
    root = safe_xml(xml.encode(), filename)
    for lane in root.iterfind(".//bpmn:lane", NS):
        role = (lane.get("name") or "").strip()
        if role in ROLES:
            lane.set("name", _(ROLES[role]))
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")
