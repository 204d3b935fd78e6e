"""The case page (办件): status, data, open tasks, history, incidents and the BPMN diagram."""
from __future__ import annotations

from flask import redirect, render_template, request, url_for
from flask_babel import gettext as _
from lxml import etree
from sqlalchemy import select

from engine import case_clock, lifecycle
from engine.db import utcnow
from engine.definitions import NS, list_definitions, safe_xml
from engine.errors import NotFound
from engine.inbox import list_instances
from services.platform import applicant_actions, carbon_copies
from services.platform.case_view import case_diagram_xml, get_case
from services.platform.identity import ROLES, User
from web.api.downloads import file_response
from web.context import runtime, uow
from web.pages import pages
from web.pages.params import PageQuery, load
from web.pages.session import login_required, page_actor

CLOCK_LEVELS = ("overdue", "warning", "paused", "normal")


@pages.app_template_global()
def people(usernames: list[str | None]) -> dict[str, str]:
    """Username → "display name（username）" for the staff pages' history, in one query."""
    wanted = {name for name in usernames if name}
    if not wanted:
        return {}
    rows = uow().session.execute(select(User.username, User.display_name).where(User.username.in_(wanted)))
    return {username: f"{display}（{username}）" if display and display != username else username
            for username, display in rows}


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
    rows, total = list_instances(session, page_actor(), runtime().engine.applicant_roles,
                                 business_key=business_key, status=request.args.get("status") or None,
                                 page=page, per_page=20, clock=clock, case_status=case_status)
    names = {d.key: d.name or d.key for d in list_definitions(session)}
    return render_template("cases.html", cases=rows, total=total, page=page, pages=max(1, -(-total // 20)),
                           process_names=names, business_key=business_key or "",
                           status=request.args.get("status") or "", clock=level or "", case_status=case_status or "")


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
