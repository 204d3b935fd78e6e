"""The inbox: 待办 (mine + my groups') and 已办 lists with filters, and batch decisions."""
from __future__ import annotations

from datetime import timedelta
from math import ceil
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from flask import flash, redirect, render_template, request
from flask_babel import gettext as _
from sqlalchemy import select

from engine import case_clock
from engine.actors import region_condition
from engine.db import utcnow
from engine.definitions import list_definitions
from engine.errors import InvalidData
from engine.inbox import TaskFilter, case_facts, list_tasks
from services.platform.batch_decisions import decide_tasks, return_tasks
from services.platform.identity import Region
from services.platform.modules import business_keys_for
from web.context import runtime, uow
from web.pages import pages
from web.pages.formatting import local_day_start_utc
from web.pages.i18n import translated_message
from web.pages.params import BatchForm, InboxQuery, form_lists, load
from web.pages.session import login_required, page_actor, safe_next

DAY = timedelta(days=1)


def task_filter(session, query: dict) -> TaskFilter:
    flt = TaskFilter(scope=query["scope"], process_key=query.get("process_key"), name=query.get("step"),
                     submitter=query.get("submitter"), region_code=query.get("region_code"),
                     overdue=query["overdue"], sort=query["sort"], descending=query["order"] == "desc")
    if (query.get("q") or "").strip():
        flt.text = query["q"].strip()
        flt.business_keys = business_keys_for(runtime().modules, session, flt.text)
    if query.get("clock"):
        flt.clock_level = query["clock"]
        flt.clock_warning_until = case_clock.warning_threshold(utcnow(), runtime().engine.due_calculator)
    if query.get("received_from"):
        flt.created_from = local_day_start_utc(query["received_from"])
    if query.get("received_to"):
        flt.created_to = local_day_start_utc(query["received_to"] + DAY)
    if query.get("due_before"):
        flt.due_before = local_day_start_utc(query["due_before"] + DAY)
    return flt


@pages.get("/inbox")
@login_required
def inbox():
    session = uow().session
    query, errors = load(InboxQuery(), request.args)
    rows, total = list_tasks(session, page_actor(), task_filter(session, query), utcnow(), query["page"],
                             query["per_page"])
    args = {k: v for k, v in request.args.items() if k not in ("page", "selected") and k not in errors and v}
    definitions = list_definitions(session)
    return render_template(
        "inbox.html", tasks=rows, total=total, query=query, errors=errors, args=args,
        facts=case_facts(session, [t.instance_id for t in rows]),
        pages=max(1, ceil(total / query["per_page"])), definitions=definitions,
        process_names={d.key: d.name or d.key for d in definitions}, regions=regions_in_scope(session),
        selected=set(request.args.getlist("selected")))


@pages.post("/inbox/batch")
@login_required
def batch_decide():
    data, errors = load(BatchForm(), form_lists(request.form, "task_ids"))
    back = safe_next(request.form.get("back") or "/inbox")
    try:
        if errors:
            raise InvalidData("请选择批量通过、批量不通过或批量退回", fields=errors)
        if data["decision"] == "return":
            outcomes = return_tasks(runtime().unit_of_work, runtime().engine, page_actor(), data["task_ids"],
                                    data["conclusion"] or "")
        else:
            outcomes = decide_tasks(runtime().unit_of_work, runtime().engine, page_actor(), data["task_ids"],
                                    data["decision"], data["conclusion"] or "")
    except InvalidData as refused:  # back to the list with the ticked tasks still ticked, not an error page
        details = _("；").join(_(m) for messages in refused.fields.values() for m in messages)
        flash(_("%(message)s（%(details)s）", message=translated_message(refused.message), details=details) if details
              else translated_message(refused.message), "error")
        return redirect(_with_selection(back, data.get("task_ids") or request.form.getlist("task_ids")))
    return render_template("batch_result.html", outcomes=outcomes, decision=data["decision"], back=back)


def regions_in_scope(session) -> list:
    """The region filter's choices: the regions the user works for and those below them, not the whole
    country's."""
    mine = {region for _role, region in page_actor().grants}
    return list(session.scalars(select(Region).where(region_condition(Region.code, mine)).order_by(Region.code)))


def _with_selection(back: str, task_ids: list[str]) -> str:
    """``back`` with ``selected`` parameters, so that the list shows the same tasks ticked again."""
    parts = urlsplit(back)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k != "selected"]
    query += [("selected", task_id) for task_id in task_ids[:200]]
    return urlunsplit(parts._replace(query=urlencode(query)))
